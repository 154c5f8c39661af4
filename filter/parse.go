package filter

import (
	"fmt"
)

// qual holds the qualifiers in force for an id: protocol ("ip", "tcp",
// "link", ... or "" for none), direction ("src", "dst", "or", "and" or "")
// and address kind ("host", "net", "port", "portrange", "proto",
// "protochain", "gateway" or ""). undef marks libpcap's qerr: the previous
// term has no qualifiers an id could inherit.
type qual struct {
	proto, dir, addr string
	undef            bool
}

var qerr = qual{undef: true}

// parser is a recursive-descent parser for libpcap's grammar (grammar.y)
// that generates code as it goes, as libpcap does: some state (the link
// offsets moved by "vlan") changes as the expression is read left to right.
type parser struct {
	expr string
	toks []token
	p    int

	lt          LinkType
	offLinkType int // offset of the EtherType-like field, -1 if none
	offLinkPL   int // offset of the network-layer header
	vlanOK      bool

	lastQ   qual // qualifiers a bare id after and/or inherits
	scratch uint16
}

func (p *parser) tok() token       { return p.toks[p.p] }
func (p *parser) peek(n int) token { return p.toks[min(p.p+n, len(p.toks)-1)] }
func (p *parser) next() token      { t := p.toks[p.p]; p.p = min(p.p+1, len(p.toks)-1); return t }

func (p *parser) isKw(t token, kw string) bool { return t.kind == tKeyword && t.text == kw }
func (p *parser) isOp(t token, op string) bool { return t.kind == tOp && t.text == op }

// errAt returns a SyntaxError at token t.
func (p *parser) errAt(t token, format string, args ...any) error {
	return &SyntaxError{Expr: p.expr, Offset: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unexpected(t token, want string) error {
	if t.kind == tEOF {
		return p.errAt(t, "unexpected end of expression, expected %s", want)
	}
	return p.errAt(t, "unexpected %s, expected %s", p.text(t), want)
}

// expect consumes the current token if it is of kind k and returns it, or
// returns an error that names want.
func (p *parser) expect(k tokKind, want string) (token, error) {
	t := p.tok()
	if t.kind != k {
		return t, p.unexpected(t, want)
	}
	p.next()
	return t, nil
}

// expectOp consumes the operator op, or returns an error that names it.
func (p *parser) expectOp(op string) error {
	if t := p.tok(); !p.isOp(t, op) {
		return p.unexpected(t, "'"+op+"'")
	}
	p.next()
	return nil
}

func (p *parser) text(t token) string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return "'" + p.expr[t.pos:t.end] + "'"
}

// parse parses the whole expression.
func (p *parser) parse() (*cond, error) {
	if p.tok().kind == tEOF {
		return condTrue, nil
	}
	p.lastQ = qerr
	c, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.kind != tEOF {
		return nil, p.unexpected(t, "'and', 'or' or end of expression")
	}
	return c, nil
}

// parseExpr: expr := term { (and|or) (term|id) }, and/or of equal
// precedence, left-associative.
func (p *parser) parseExpr() (*cond, error) {
	c, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for p.isKw(p.tok(), "and") || p.isKw(p.tok(), "or") {
		op := p.next().text
		var r *cond
		if p.idStarts(p.p) {
			r, err = p.parseID(p.lastQ)
		} else {
			r, err = p.parseTerm()
		}
		if err != nil {
			return nil, err
		}
		if op == "and" {
			c = and(c, r)
		} else {
			c = or(c, r)
		}
	}
	return c, nil
}

// arithOps are the tokens that continue an arithmetic expression.
func isArithOrRel(t token) bool {
	if t.kind != tOp {
		return false
	}
	switch t.text {
	case "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", ">", ">=", "<", "<=", "=", "!=":
		return true
	}
	return false
}

// idStarts reports whether the tokens at i begin an id (an address, number
// or name that inherits the previous qualifiers) rather than a term.
func (p *parser) idStarts(i int) bool {
	for i < len(p.toks) && p.isKw(p.toks[i], "not") {
		i++
	}
	if i >= len(p.toks) {
		return false
	}
	t := p.toks[i]
	switch t.kind {
	case tID, tHID, tHID6, tEID:
		return true
	case tNum:
		return !isArithOrRel(p.toks[min(i+1, len(p.toks)-1)])
	case tOp:
		if t.text == "(" {
			// "( pid )" when the parenthesis holds ids only.
			return p.idStarts(i + 1)
		}
	}
	return false
}

// parseTerm: term := not term | rterm.
func (p *parser) parseTerm() (*cond, error) {
	if p.isKw(p.tok(), "not") {
		p.next()
		c, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return not(c), nil
	}
	return p.parseRterm()
}

// protoNames are the protocol qualifiers (pname in grammar.y).
var protoNames = map[string]bool{
	"link": true, "ip": true, "arp": true, "rarp": true, "sctp": true, "tcp": true, "udp": true,
	"icmp": true, "igmp": true, "igrp": true, "pim": true, "vrrp": true, "carp": true,
	"atalk": true, "aarp": true, "decnet": true, "lat": true, "sca": true, "moprc": true,
	"mopdl": true, "ip6": true, "icmp6": true, "ah": true, "esp": true, "iso": true,
	"esis": true, "isis": true, "l1": true, "l2": true, "iih": true, "lsp": true, "snp": true,
	"csnp": true, "psnp": true, "clnp": true, "stp": true, "ipx": true, "netbeui": true,
	"radio": true,
}

func isDirKw(t token) bool {
	if t.kind != tKeyword {
		return false
	}
	switch t.text {
	case "src", "dst", "addr1", "addr2", "addr3", "addr4", "ra", "ta":
		return true
	}
	return false
}

func isAddrKw(t token) bool {
	if t.kind != tKeyword {
		return false
	}
	switch t.text {
	case "host", "net", "port", "portrange", "proto", "protochain", "gateway":
		return true
	}
	return false
}

// parseRterm parses a primitive, a parenthesised expression or a relation.
func (p *parser) parseRterm() (*cond, error) {
	t := p.tok()
	switch {
	case p.isOp(t, "("):
		if p.parenIsArith() {
			return p.parseRelation()
		}
		saved := p.lastQ
		p.next()
		c, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		p.lastQ = saved
		return c, nil
	case t.kind == tNum || p.isKw(t, "len") || p.isOp(t, "-"):
		return p.parseRelation()
	case t.kind == tKeyword && protoNames[t.text]:
		n := p.peek(1)
		switch {
		case p.isOp(n, "["):
			return p.parseRelation()
		case isDirKw(n) || isAddrKw(n):
			return p.parseHeadID()
		case p.isKw(n, "broadcast"), p.isKw(n, "multicast"):
			p.next()
			p.next()
			p.lastQ = qerr
			if n.text == "broadcast" {
				return p.genBroadcast(t.text, t)
			}
			return p.genMulticast(t.text, t)
		}
		p.next()
		p.lastQ = qerr
		return p.protoAbbrev(t.text, t)
	case isDirKw(t) || isAddrKw(t):
		return p.parseHeadID()
	case p.isKw(t, "broadcast"):
		p.next()
		p.lastQ = qerr
		return p.genBroadcast("", t)
	case p.isKw(t, "multicast"):
		p.next()
		p.lastQ = qerr
		return p.genMulticast("", t)
	case p.isKw(t, "less"), p.isKw(t, "greater"):
		p.next()
		n, err := p.expect(tNum, "a number")
		if err != nil {
			return nil, err
		}
		p.lastQ = qerr
		ld := []ins{{op: opLD | szW | mLEN}}
		if t.text == "less" {
			return not(leaf(ld, jJGT|srcK, n.num)), nil
		}
		return leaf(ld, jJGE|srcK, n.num), nil
	case p.isKw(t, "vlan"):
		p.next()
		p.lastQ = qerr
		return p.genVLAN(t)
	case p.isKw(t, "inbound"), p.isKw(t, "outbound"):
		p.next()
		p.lastQ = qerr
		return p.genInbound(t)
	case t.kind == tKeyword && (t.text == "and" || t.text == "or"):
		return nil, p.unexpected(t, "a primitive")
	case t.kind == tKeyword:
		return nil, p.errAt(t, "%s is not supported by this compiler", p.text(t))
	case t.kind == tEOF:
		return nil, p.unexpected(t, "a primitive")
	}
	return nil, p.unexpected(t, "a primitive (e.g. 'host', 'port', 'tcp')")
}

// parenIsArith reports whether the '(' at the current token opens an
// arithmetic operand of a relation: the token after its matching ')' is an
// arithmetic or relational operator.
func (p *parser) parenIsArith() bool {
	depth := 0
	for i := p.p; i < len(p.toks); i++ {
		t := p.toks[i]
		if p.isOp(t, "(") {
			depth++
		} else if p.isOp(t, ")") {
			depth--
			if depth == 0 {
				return isArithOrRel(p.toks[min(i+1, len(p.toks)-1)])
			}
		} else if t.kind == tEOF {
			return false
		}
	}
	return false
}

// parseHeadID parses "[proto] [dir] [addr] id".
func (p *parser) parseHeadID() (*cond, error) {
	var q qual
	start := p.tok()
	if t := p.tok(); t.kind == tKeyword && protoNames[t.text] {
		q.proto = t.text
		p.next()
	}
	if t := p.tok(); isDirKw(t) {
		p.next()
		q.dir = t.text
		// "src or dst", "src and dst" (and the reverse).
		if c := p.tok(); (p.isKw(c, "or") || p.isKw(c, "and")) &&
			(p.isKw(p.peek(1), "src") || p.isKw(p.peek(1), "dst")) &&
			(t.text == "src" || t.text == "dst") && p.peek(1).text != t.text {
			p.next()
			p.next()
			q.dir = c.text
		}
		switch q.dir {
		case "addr1", "addr2", "addr3", "addr4", "ra", "ta":
			return nil, p.errAt(t, "%s is only supported on 802.11, which this compiler does not support", p.text(t))
		}
	}
	if t := p.tok(); isAddrKw(t) {
		q.addr = t.text
		p.next()
		if q.dir != "" && (q.addr == "proto" || q.addr == "protochain" || q.addr == "gateway") {
			return nil, p.errAt(t, "syntax error: %s takes no direction", p.text(t))
		}
	}
	if q.proto == "" && q.dir == "" && q.addr == "" {
		return nil, p.unexpected(start, "a qualifier")
	}
	c, err := p.parseID(q)
	if err != nil {
		return nil, err
	}
	p.lastQ = q
	return c, nil
}

// parseID parses an id under qualifiers q:
// id := not id | '(' pid ')' | NUM | HID ['/' NUM | mask HID] | HID6 ['/' NUM] | EID | ID.
func (p *parser) parseID(q qual) (*cond, error) {
	t := p.tok()
	switch t.kind {
	case tKeyword:
		if t.text == "not" {
			p.next()
			c, err := p.parseID(q)
			if err != nil {
				return nil, err
			}
			return not(c), nil
		}
	case tOp:
		if t.text == "(" {
			p.next()
			c, err := p.parseID(q)
			if err != nil {
				return nil, err
			}
			for p.isKw(p.tok(), "and") || p.isKw(p.tok(), "or") {
				op := p.next().text
				r, err := p.parseID(q)
				if err != nil {
					return nil, err
				}
				if op == "and" {
					c = and(c, r)
				} else {
					c = or(c, r)
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return c, nil
		}
	case tNum:
		p.next()
		return p.genNcode("", t.num, q, t)
	case tHID:
		p.next()
		if p.isOp(p.tok(), "/") {
			p.next()
			n, err := p.expect(tNum, "a prefix length")
			if err != nil {
				return nil, err
			}
			return p.genMcode(t, "", n.num, q)
		}
		if p.isKw(p.tok(), "mask") {
			p.next()
			m, err := p.expect(tHID, "a netmask")
			if err != nil {
				return nil, err
			}
			return p.genMcode(t, m.text, 0, q)
		}
		return p.genNcode(t.text, 0, q, t)
	case tHID6:
		plen := uint32(128)
		masked := false
		p.next()
		if p.isOp(p.tok(), "/") {
			p.next()
			n, err := p.expect(tNum, "a prefix length")
			if err != nil {
				return nil, err
			}
			plen, masked = n.num, true
		}
		return p.genMcode6(t, plen, masked, q)
	case tEID:
		p.next()
		return p.genEcode(t, q)
	case tID:
		p.next()
		return p.genScode(t, q)
	}
	if t.kind == tKeyword && protoNames[t.text] && q.addr == "proto" {
		return nil, p.errAt(t, "%s is a keyword here; write \\%s for the protocol", p.text(t), p.expr[t.pos:t.end])
	}
	return nil, p.unexpected(t, "an address, number or name")
}
