package filter

import (
	"net/netip"
	"strings"
)

// tokKind classifies a token of the pcap-filter language.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tNum             // 80, 0x50, 010 (octal), and named constants such as tcpflags
	tID              // names; also "1-1024" (a port range) and \escaped names
	tHID             // dotted IPv4 address or prefix of one: 10.1, 10.0.0.1
	tHID6            // IPv6 address
	tEID             // MAC address
	tKeyword         // see keywords
	tOp              // punctuation and operators, text in tok.text
)

// token is one lexeme with its byte offset in the expression.
type token struct {
	kind tokKind
	text string // keyword or operator text normalised (&& -> and, == -> =, ! -> not)
	num  uint32
	pos  int
	end  int
}

// keywords of pcap-filter(7) that sonde knows; libpcap's scanner is
// case-sensitive, and so is this one.
var keywords = map[string]string{
	"dst": "dst", "src": "src", "host": "host", "gateway": "gateway", "net": "net",
	"mask": "mask", "port": "port", "portrange": "portrange", "proto": "proto",
	"protochain": "protochain",
	"link":       "link", "ether": "link", "ppp": "link", "slip": "link", "fddi": "link",
	"tr": "link", "wlan": "link",
	"arp": "arp", "rarp": "rarp", "ip": "ip", "sctp": "sctp", "tcp": "tcp", "udp": "udp",
	"icmp": "icmp", "igmp": "igmp", "igrp": "igrp", "pim": "pim", "vrrp": "vrrp",
	"carp": "carp", "radio": "radio", "ip6": "ip6", "icmp6": "icmp6", "ah": "ah", "esp": "esp",
	"atalk": "atalk", "aarp": "aarp", "decnet": "decnet", "lat": "lat", "sca": "sca",
	"moprc": "moprc", "mopdl": "mopdl", "iso": "iso", "esis": "esis", "es-is": "esis",
	"isis": "isis", "is-is": "isis", "l1": "l1", "l2": "l2", "iih": "iih", "lsp": "lsp",
	"snp": "snp", "csnp": "csnp", "psnp": "psnp", "clnp": "clnp", "stp": "stp", "ipx": "ipx",
	"netbeui":   "netbeui",
	"broadcast": "broadcast", "multicast": "multicast",
	"and": "and", "or": "or", "not": "not",
	"len": "len", "length": "len",
	"inbound": "inbound", "outbound": "outbound", "ifindex": "ifindex",
	"vlan": "vlan", "mpls": "mpls", "pppoed": "pppoed", "pppoes": "pppoes", "geneve": "geneve",
	"less": "less", "greater": "greater", "byte": "byte",
	"lane": "lane", "llc": "llc", "metac": "metac", "bcc": "bcc", "oam": "oam",
	"oamf4": "oamf4", "oamf4ec": "oamf4ec", "oamf4sc": "oamf4sc", "sc": "sc", "ilmic": "ilmic",
	"vpi": "vpi", "vci": "vci", "connectmsg": "connectmsg", "metaconnect": "metaconnect",
	"on": "on", "ifname": "on", "rset": "rset", "ruleset": "rset", "rnr": "rnr",
	"rulenum": "rnr", "srnr": "srnr", "subrulenum": "srnr", "reason": "reason",
	"action": "action", "type": "type", "subtype": "subtype", "direction": "dir", "dir": "dir",
	"address1": "addr1", "addr1": "addr1", "address2": "addr2", "addr2": "addr2",
	"address3": "addr3", "addr3": "addr3", "address4": "addr4", "addr4": "addr4",
	"ra": "ra", "ta": "ta",
	"fisu": "fisu", "lssu": "lssu", "msu": "msu", "hfisu": "hfisu", "hlssu": "hlssu",
	"hmsu": "hmsu", "sio": "sio", "opc": "opc", "dpc": "dpc", "sls": "sls", "hsio": "hsio",
	"hopc": "hopc", "hdpc": "hdpc", "hsls": "hsls",
}

// namedNums are the words libpcap's scanner turns into numbers.
var namedNums = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
	"icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
	"icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136,
	"icmp6-redirect": 137, "icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139,
	"icmp6-nodeinformationresponse": 140, "icmp6-ineighbordiscoverysolicit": 141,
	"icmp6-ineighbordiscoveryadvert": 142, "icmp6-multicastlistenerreportv2": 143,
	"icmp6-homeagentdiscoveryrequest": 144, "icmp6-homeagentdiscoveryreply": 145,
	"icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
	"icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,
	"tcpflags":                  13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f' }
func isAlnum(c byte) bool  { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isIDChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

// lex splits expr into tokens following libpcap's scanner: the longest match
// wins, and keywords beat names of the same length.
func lex(expr string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '\\':
			j := i + 1
			for j < len(expr) && !strings.ContainsRune(" \t\n!()", rune(expr[j])) {
				j++
			}
			if j == i+1 {
				return nil, &SyntaxError{Expr: expr, Offset: i, Msg: "empty escaped name"}
			}
			toks = append(toks, token{kind: tID, text: expr[i+1 : j], pos: i, end: j})
			i = j
			continue
		case isAlnum(c) || (c == ':' && i+1 < len(expr) && expr[i+1] == ':'):
			t, err := lexWord(expr, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
			continue
		}
		two := ""
		if i+1 < len(expr) {
			two = expr[i : i+2]
		}
		switch two {
		case ">=", "<=", "!=", "<<", ">>":
			toks = append(toks, token{kind: tOp, text: two, pos: i, end: i + 2})
			i += 2
			continue
		case "==":
			toks = append(toks, token{kind: tOp, text: "=", pos: i, end: i + 2})
			i += 2
			continue
		case "&&":
			toks = append(toks, token{kind: tKeyword, text: "and", pos: i, end: i + 2})
			i += 2
			continue
		case "||":
			toks = append(toks, token{kind: tKeyword, text: "or", pos: i, end: i + 2})
			i += 2
			continue
		}
		if c == '!' {
			toks = append(toks, token{kind: tKeyword, text: "not", pos: i, end: i + 1})
			i++
			continue
		}
		if strings.IndexByte("+-*/%:[]<>()&|^=", c) >= 0 {
			toks = append(toks, token{kind: tOp, text: string(c), pos: i, end: i + 1})
			i++
			continue
		}
		return nil, &SyntaxError{Expr: expr, Offset: i, Msg: "illegal character " + quoteChar(c)}
	}
	toks = append(toks, token{kind: tEOF, pos: len(expr), end: len(expr)})
	return toks, nil
}

func quoteChar(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	const hexd = "0123456789abcdef"
	return "0x" + string(hexd[c>>4]) + string(hexd[c&15])
}

// lexWord lexes a number, address, keyword or name starting at i.
func lexWord(expr string, i int) (token, error) {
	// Candidate: a name [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?
	idLen := 0
	if isAlnum(expr[i]) {
		j := i
		for j < len(expr) && isIDChar(expr[j]) {
			j++
		}
		for j > i+1 && !(isAlnum(expr[j-1]) || expr[j-1] == '.') {
			j--
		}
		idLen = j - i
	}
	// Candidate: an IPv6 or MAC address made of hex digits, ':' and '.'.
	addrLen := 0
	j := i
	for j < len(expr) && j-i < 64 && (isHex(expr[j]) || expr[j] == ':' || expr[j] == '.') {
		j++
	}
	for k := j; k > i; k-- {
		s := expr[i:k]
		if !strings.Contains(s, ":") {
			break
		}
		if isMAC(s) {
			addrLen = k - i
			if addrLen >= idLen {
				return token{kind: tEID, text: s, pos: i, end: k}, nil
			}
			break
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() && a.Zone() == "" {
			addrLen = k - i
			if addrLen >= idLen {
				return token{kind: tHID6, text: s, pos: i, end: k}, nil
			}
			break
		}
	}
	if idLen == 0 {
		return token{}, &SyntaxError{Expr: expr, Offset: i, Msg: "illegal character ':'"}
	}
	// MAC forms with '-' or '.' separators also beat names of equal length.
	word := expr[i : i+idLen]
	if kw, ok := keywords[word]; ok {
		return token{kind: tKeyword, text: kw, pos: i, end: i + idLen}, nil
	}
	if v, ok := namedNums[word]; ok {
		return token{kind: tNum, text: word, num: v, pos: i, end: i + idLen}, nil
	}
	if isNumber(word) {
		v, msg := parseNumber(word)
		if msg != "" {
			return token{}, &SyntaxError{Expr: expr, Offset: i, Msg: msg}
		}
		return token{kind: tNum, text: word, num: v, pos: i, end: i + idLen}, nil
	}
	if isMAC(word) {
		return token{kind: tEID, text: word, pos: i, end: i + idLen}, nil
	}
	if isHID(word) {
		return token{kind: tHID, text: word, pos: i, end: i + idLen}, nil
	}
	// The longest number or address prefix may still be the token when the
	// name candidate is not (e.g. "1.2.3.4.5" is HID "1.2.3.4" then ".5" is
	// illegal in libpcap too); keep it simple: a name.
	return token{kind: tID, text: word, pos: i, end: i + idLen}, nil
}

// isNumber reports whether s is libpcap's N: [0-9]+ or 0x[0-9a-f]+.
func isNumber(s string) bool {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for k := 2; k < len(s); k++ {
			if !isHex(s[k]) {
				return false
			}
		}
		return true
	}
	for k := 0; k < len(s); k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return s != ""
}

// parseNumber converts a number token as libpcap does: 0x hex, leading 0
// octal, else decimal; it must fit in 32 bits.
func parseNumber(s string) (uint32, string) {
	base, digits := uint64(10), s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	var v uint64
	for k := 0; k < len(digits); k++ {
		c := digits[k]
		var d uint64
		switch {
		case isDigit(c):
			d = uint64(c - '0')
		default:
			d = uint64((c|0x20)-'a') + 10
		}
		if d >= base {
			return 0, "number " + s + " contains non-octal digit"
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, "number " + s + " overflows 32 bits"
		}
	}
	return uint32(v), ""
}

// isHID reports whether s is N.N, N.N.N or N.N.N.N.
func isHID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if !isNumber(p) {
			return false
		}
	}
	return true
}

// isMAC reports whether s is a MAC address in one of libpcap's forms:
// xx:xx:xx:xx:xx:xx, xx-xx-..., xx.xx.xx.xx.xx.xx, xxxx.xxxx.xxxx,
// xxxxxx.xxxxxx or xxxxxxxxxxxx with 1- or 2-digit bytes where separated.
func isMAC(s string) bool {
	_, ok := parseMAC(s)
	return ok
}

func parseMAC(s string) ([6]byte, bool) {
	var mac [6]byte
	for _, sep := range []string{":", "-", "."} {
		parts := strings.Split(s, sep)
		if len(parts) != 6 {
			continue
		}
		ok := true
		for k, p := range parts {
			if len(p) < 1 || len(p) > 2 || !isHex(p[0]) || (len(p) == 2 && !isHex(p[1])) {
				ok = false
				break
			}
			mac[k] = byte(hexVal(p))
		}
		if ok {
			return mac, true
		}
	}
	// Grouped forms: 3 groups of 4 or 2 groups of 6 hex digits, dot-separated.
	flat := strings.ReplaceAll(s, ".", "")
	groups := strings.Split(s, ".")
	grouped := (len(groups) == 3 && len(groups[0]) == 4 && len(groups[1]) == 4 && len(groups[2]) == 4) ||
		(len(groups) == 2 && len(groups[0]) == 6 && len(groups[1]) == 6)
	if grouped && len(flat) == 12 {
		for k := 0; k < 12; k++ {
			if !isHex(flat[k]) {
				return mac, false
			}
		}
		for k := 0; k < 6; k++ {
			mac[k] = byte(hexVal(flat[2*k : 2*k+2]))
		}
		return mac, true
	}
	return mac, false
}

func hexVal(s string) uint32 {
	var v uint32
	for k := 0; k < len(s); k++ {
		c := s[k]
		if isDigit(c) {
			v = v<<4 | uint32(c-'0')
		} else {
			v = v<<4 | uint32((c|0x20)-'a'+10)
		}
	}
	return v
}
