package filter

// arthKind says what an arth node is.
type arthKind uint8

const (
	aConst arthKind = iota
	aLen
	aLoad
	aBin
	aNeg
)

// arth is an arithmetic expression over packet bytes (grammar.y's arth),
// with the protocol checks (guard) its loads need.
type arth struct {
	kind  arthKind
	k     uint32 // aConst
	op    uint16 // aBin: alu operation
	l, r  *arth  // aBin; aNeg uses l; aLoad uses l as the index
	size  uint16 // aLoad: szB, szH or szW
	off   uint32 // aLoad: fixed offset added to the index
	ipHdr uint32 // aLoad: if nonzero, add the IPv4 header length found at ipHdr-1
	guard *cond
}

func constArth(k uint32) *arth { return &arth{kind: aConst, k: k} }

// binPrec gives the binding power of the binary operators per grammar.y's
// %left lines; '%' and '^' have none there, so yacc always shifts them (see
// parseArith).
func binPrec(t token) int {
	if t.kind != tOp {
		return 0
	}
	switch t.text {
	case "|":
		return 1
	case "&":
		return 2
	case "<<", ">>":
		return 3
	case "+", "-":
		return 4
	case "*", "/":
		return 5
	}
	return 0
}

var aluOps = map[string]uint16{
	"+": aluADD, "-": aluSUB, "*": aluMUL, "/": aluDIV, "%": aluMOD,
	"&": aluAND, "|": aluOR, "^": aluXOR, "<<": aluLSH, ">>": aluRSH,
}

const precUMinus = 6

// parseArith parses an arithmetic expression whose operators bind at least
// minPrec. '%' and '^' carry no precedence in libpcap's grammar, so its
// parser always shifts them: they take the operand just read as their left
// side and everything that follows as their right side.
func (p *parser) parseArith(minPrec int) (*arth, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		if p.isOp(t, "%") || p.isOp(t, "^") {
			p.next()
			right, err := p.parseArith(1)
			if err != nil {
				return nil, err
			}
			if left, err = p.bin(t, left, right); err != nil {
				return nil, err
			}
			continue
		}
		prec := binPrec(t)
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		p.next()
		right, err := p.parseArith(prec + 1)
		if err != nil {
			return nil, err
		}
		if left, err = p.bin(t, left, right); err != nil {
			return nil, err
		}
	}
}

func (p *parser) parseUnary() (*arth, error) {
	t := p.tok()
	if p.isOp(t, "-") {
		p.next()
		x, err := p.parseArith(precUMinus + 1)
		if err != nil {
			return nil, err
		}
		if x.kind == aConst {
			return constArth(-x.k), nil
		}
		return &arth{kind: aNeg, l: x, guard: x.guard}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (*arth, error) {
	t := p.tok()
	switch {
	case t.kind == tNum:
		p.next()
		return constArth(t.num), nil
	case p.isKw(t, "len"):
		p.next()
		return &arth{kind: aLen}, nil
	case p.isOp(t, "("):
		p.next()
		a, err := p.parseArith(1)
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return a, nil
	case t.kind == tKeyword && protoNames[t.text] && p.isOp(p.peek(1), "["):
		p.next()
		p.next()
		idx, err := p.parseArith(1)
		if err != nil {
			return nil, err
		}
		size := uint32(1)
		if p.isOp(p.tok(), ":") {
			p.next()
			n, err := p.expect(tNum, "a size (1, 2 or 4)")
			if err != nil {
				return nil, err
			}
			if n.num != 1 && n.num != 2 && n.num != 4 {
				return nil, p.errAt(n, "data size must be 1, 2, or 4")
			}
			size = n.num
		}
		if err := p.expectOp("]"); err != nil {
			return nil, err
		}
		return p.genLoad(t, idx, size)
	}
	return nil, p.unexpected(t, "a number, 'len' or a packet field such as ip[0]")
}

// bin builds l op r, folding constants as libpcap's optimiser would and
// rejecting what libpcap rejects. libpcap checks the divisor or shift
// count by looking at the first instruction computing it, so "x / ip[0]"
// is a division by zero to it (the index 0 is loaded first); this is
// reproduced, as is its dropping of the right operand's protocol checks.
func (p *parser) bin(t token, l, r *arth) (*arth, error) {
	op := aluOps[t.text]
	if k, ok := leadingConst(r); ok {
		switch {
		case op == aluDIV && k == 0:
			return nil, p.errAt(t, "division by zero")
		case op == aluMOD && k == 0:
			return nil, p.errAt(t, "modulus by zero")
		case (op == aluLSH || op == aluRSH) && k > 31:
			return nil, p.errAt(t, "shift by more than 31 bits")
		}
	}
	if l.kind == aConst && r.kind == aConst {
		return constArth(alu(op, l.k, r.k)), nil
	}
	return &arth{kind: aBin, op: op, l: l, r: r, guard: l.guard}, nil
}

// leadingConst returns the constant libpcap's code for a loads first, if
// that is a constant.
func leadingConst(a *arth) (uint32, bool) {
	for {
		switch a.kind {
		case aConst:
			return a.k, true
		case aLen:
			return 0, false
		}
		a = a.l
	}
}

// alu computes a classic BPF ALU operation as the Linux kernel and
// x/net/bpf do (shifts by 32 or more give 0).
func alu(op uint16, a, b uint32) uint32 {
	switch op {
	case aluADD:
		return a + b
	case aluSUB:
		return a - b
	case aluMUL:
		return a * b
	case aluDIV:
		if b == 0 {
			return 0
		}
		return a / b
	case aluMOD:
		if b == 0 {
			return 0
		}
		return a % b
	case aluAND:
		return a & b
	case aluOR:
		return a | b
	case aluXOR:
		return a ^ b
	case aluLSH:
		if b >= 32 {
			return 0
		}
		return a << b
	case aluRSH:
		if b >= 32 {
			return 0
		}
		return a >> b
	}
	return a
}

// genLoad builds proto[idx:size].
func (p *parser) genLoad(t token, idx *arth, size uint32) (*arth, error) {
	sz := map[uint32]uint16{1: szB, 2: szH, 4: szW}[size]
	a := &arth{kind: aLoad, l: idx, size: sz}
	var guard *cond
	switch t.text {
	case "link":
		a.off = 0
	case "ip", "arp", "rarp", "ip6":
		if p.offLinkPL < 0 {
			return nil, p.errAt(t, "%s[] is not supported on this link type", t.text)
		}
		g, err := p.protoAbbrev(t.text, t)
		if err != nil {
			return nil, err
		}
		guard = g
		a.off = uint32(p.offLinkPL)
	case "tcp", "udp", "sctp", "icmp", "igmp", "igrp", "pim", "vrrp", "carp":
		// libpcap: the transport header follows an IPv4 header only.
		ip, err := p.protoAbbrev("ip", t)
		if err != nil {
			return nil, err
		}
		pr, err := p.protoAbbrev(t.text, t)
		if err != nil {
			return nil, err
		}
		guard = and(ip, and(pr, p.notFrag()))
		a.off = uint32(p.offLinkPL)
		a.ipHdr = uint32(p.offLinkPL) + 1
	case "icmp6":
		ip6, err := p.protoAbbrev("ip6", t)
		if err != nil {
			return nil, err
		}
		guard = and(ip6, p.cmp(p.offLinkPL+6, szB, 58))
		a.off = uint32(p.offLinkPL + 40)
	default:
		return nil, p.errAt(t, "%s[] is not supported by this compiler", p.text(t))
	}
	a.guard = and(idx.guard, guard)
	return a, nil
}

// alloc returns a free scratch memory slot.
func (p *parser) alloc(t token) (uint32, error) {
	for i := uint32(0); i < 16; i++ {
		if p.scratch&(1<<i) == 0 {
			p.scratch |= 1 << i
			return i, nil
		}
	}
	return 0, p.errAt(t, "expression too complex (more than 16 scratch registers)")
}

func (p *parser) free(i uint32) { p.scratch &^= 1 << i }

// genA appends code leaving the value of a in register A.
func (p *parser) genA(a *arth, t token, out []ins) ([]ins, error) {
	var err error
	switch a.kind {
	case aConst:
		return append(out, ins{op: opLD | mIMM, k: a.k}), nil
	case aLen:
		return append(out, ins{op: opLD | szW | mLEN}), nil
	case aNeg:
		if out, err = p.genA(a.l, t, out); err != nil {
			return nil, err
		}
		// A = -A; x/net/bpf has no NEG, and multiplying by 2^32-1 is the
		// same in 32-bit arithmetic.
		return append(out, ins{op: opALU | aluMUL | srcK, k: 0xffffffff}), nil
	case aBin:
		if a.r.kind == aConst {
			if out, err = p.genA(a.l, t, out); err != nil {
				return nil, err
			}
			return append(out, ins{op: opALU | a.op | srcK, k: a.r.k}), nil
		}
		if out, err = p.genA(a.r, t, out); err != nil {
			return nil, err
		}
		m, err := p.alloc(t)
		if err != nil {
			return nil, err
		}
		out = append(out, ins{op: opST, k: m})
		if out, err = p.genA(a.l, t, out); err != nil {
			return nil, err
		}
		p.free(m)
		return append(out, ins{op: opLDX | mMEM, k: m}, ins{op: opALU | a.op | srcX}), nil
	case aLoad:
		if a.l.kind == aConst {
			vn := ins{relConst: true, relK: a.off, relIdx: a.l.k, relHdr: a.ipHdr}
			if a.ipHdr != 0 {
				ld := vn
				ld.op, ld.k = opLD|a.size|mIND, a.off+a.l.k
				return append(out, ins{op: opLDX | szB | mMSH, k: a.ipHdr - 1}, ld), nil
			}
			ld := vn
			ld.op, ld.k = opLD|a.size|mABS, a.off+a.l.k
			return append(out, ld), nil
		}
		if out, err = p.genA(a.l, t, out); err != nil {
			return nil, err
		}
		if a.ipHdr != 0 {
			m, err := p.alloc(t)
			if err != nil {
				return nil, err
			}
			p.free(m)
			out = append(out, ins{op: opST, k: m},
				ins{op: opLDX | szB | mMSH, k: a.ipHdr - 1},
				ins{op: opLD | mMEM, k: m},
				ins{op: opALU | aluADD | srcX})
		}
		return append(out, ins{op: opMISC | miscTAX}, ins{op: opLD | a.size | mIND, k: a.off}), nil
	}
	return out, nil
}

// parseRelation parses arth relop arth.
func (p *parser) parseRelation() (*cond, error) {
	a0, err := p.parseArith(1)
	if err != nil {
		return nil, err
	}
	t := p.tok()
	var jop uint16
	neg := false
	switch {
	case p.isOp(t, ">"):
		jop = jJGT
	case p.isOp(t, ">="):
		jop = jJGE
	case p.isOp(t, "="):
		jop = jJEQ
	case p.isOp(t, "<="):
		jop, neg = jJGT, true
	case p.isOp(t, "<"):
		jop, neg = jJGE, true
	case p.isOp(t, "!="):
		jop, neg = jJEQ, true
	default:
		return nil, p.unexpected(t, "a comparison (=, !=, <, <=, >, >=)")
	}
	p.next()
	a1, err := p.parseArith(1)
	if err != nil {
		return nil, err
	}
	p.lastQ = qerr
	guard := and(a0.guard, a1.guard)
	var c *cond
	switch {
	case a0.kind == aConst && a1.kind == aConst:
		c = condFalse
		if cmpOp(jop, a0.k, a1.k) {
			c = condTrue
		}
	case a1.kind == aConst && a1.k == 0 && jop == jJEQ && a0.kind == aBin && a0.op == aluAND && a0.r.kind == aConst:
		// x & k = 0 is "not jset k".
		stmts, err := p.genA(a0.l, t, nil)
		if err != nil {
			return nil, err
		}
		c = not(leaf(stmts, jJSET|srcK, a0.r.k))
	case a1.kind == aConst:
		stmts, err := p.genA(a0, t, nil)
		if err != nil {
			return nil, err
		}
		c = leaf(stmts, jop|srcK, a1.k)
	default:
		stmts, err := p.genA(a1, t, nil)
		if err != nil {
			return nil, err
		}
		m, err := p.alloc(t)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, ins{op: opST, k: m})
		if stmts, err = p.genA(a0, t, stmts); err != nil {
			return nil, err
		}
		p.free(m)
		stmts = append(stmts, ins{op: opLDX | mMEM, k: m})
		c = leaf(stmts, jop|srcX, 0)
	}
	markRel(c)
	if neg {
		c = not(c)
	}
	return and(guard, c), nil
}

func cmpOp(jop uint16, a, b uint32) bool {
	switch jop {
	case jJGT:
		return a > b
	case jJGE:
		return a >= b
	case jJEQ:
		return a == b
	case jJSET:
		return a&b != 0
	}
	return false
}

// markRel flags the packet loads of a relation's leaf.
func markRel(c *cond) {
	if c.kind == cNot {
		markRel(c.a)
		return
	}
	if c.kind != cLeaf {
		return
	}
	for i := range c.stmts {
		if c.stmts[i].op&0x07 == opLD && (c.stmts[i].op&0xe0 == mABS || c.stmts[i].op&0xe0 == mIND) {
			c.stmts[i].rel = true
		}
	}
}
