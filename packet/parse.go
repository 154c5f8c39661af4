package packet

import (
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// SyntaxError reports a mistake in a packet expression at a byte offset.
type SyntaxError struct {
	Offset int    // byte offset in the expression, 0-based
	Msg    string // what is wrong there
	Err    error  // the underlying error, if any (a resolver's, for instance)
}

// Error returns the message with a 1-based column.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("packet: column %d: %s", e.Offset+1, e.Msg)
}

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }

func errAt(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNum
	tStr
	tPunct
)

type token struct {
	kind tokKind
	off  int
	text string // identifier, punctuation, or the decoded string
	num  uint64
}

type lexer struct {
	src string
	pos int
	tok token
}

func (lx *lexer) next() error {
	s := lx.src
	for lx.pos < len(s) && (s[lx.pos] == ' ' || s[lx.pos] == '\t' || s[lx.pos] == '\n' || s[lx.pos] == '\r') {
		lx.pos++
	}
	start := lx.pos
	if lx.pos >= len(s) {
		lx.tok = token{kind: tEOF, off: start}
		return nil
	}
	c := s[lx.pos]
	switch {
	case c == '_' || isLetter(c):
		for lx.pos < len(s) && (s[lx.pos] == '_' || isLetter(s[lx.pos]) || isDigit(s[lx.pos])) {
			lx.pos++
		}
		lx.tok = token{kind: tIdent, off: start, text: s[start:lx.pos]}
	case isDigit(c):
		for lx.pos < len(s) && (isLetter(s[lx.pos]) || isDigit(s[lx.pos]) || s[lx.pos] == '_') {
			lx.pos++
		}
		text := s[start:lx.pos]
		n, err := strconv.ParseUint(text, 0, 64)
		if err != nil || strings.Contains(text, "_") {
			return errAt(start, "bad number %q", text)
		}
		lx.tok = token{kind: tNum, off: start, num: n, text: text}
	case c == '"' || c == '\'':
		str, err := lx.lexString(c)
		if err != nil {
			return err
		}
		lx.tok = token{kind: tStr, off: start, text: str}
	case strings.IndexByte("()[],=/", c) >= 0:
		lx.pos++
		lx.tok = token{kind: tPunct, off: start, text: s[start:lx.pos]}
	default:
		return errAt(start, "unexpected character %q", c)
	}
	return nil
}

func (lx *lexer) lexString(q byte) (string, error) {
	s := lx.src
	start := lx.pos
	lx.pos++
	var b []byte
	for {
		if lx.pos >= len(s) {
			return "", errAt(start, "unterminated string")
		}
		c := s[lx.pos]
		if c == q {
			lx.pos++
			return string(b), nil
		}
		if c != '\\' {
			b = append(b, c)
			lx.pos++
			continue
		}
		if lx.pos+1 >= len(s) {
			return "", errAt(lx.pos, "unterminated string")
		}
		e := s[lx.pos+1]
		switch e {
		case '\\', '"', '\'':
			b = append(b, e)
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case '0':
			b = append(b, 0)
		case 'x':
			if lx.pos+3 >= len(s) || unhex(s[lx.pos+2]) < 0 || unhex(s[lx.pos+3]) < 0 {
				return "", errAt(lx.pos, `bad \x escape (want \xHH)`)
			}
			b = append(b, byte(unhex(s[lx.pos+2])<<4|unhex(s[lx.pos+3])))
			lx.pos += 2
		default:
			return "", errAt(lx.pos, "unknown escape \\%c", e)
		}
		lx.pos += 2
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// maxExprLen bounds the expressions Parse accepts.
const maxExprLen = 1 << 16

// Parse parses a packet expression in the language of Scapy's packet
// constructors, such as
//
//	IP(dst="198.18.0.0/30")/TCP(dport=[22,80,443], flags="S")
//
// and returns the template it describes. See the package documentation for
// the language. Errors are *SyntaxError values that point at the mistake.
func Parse(expr string) (*Template, error) {
	if len(expr) > maxExprLen {
		return nil, errAt(maxExprLen, "expression longer than %d bytes", maxExprLen)
	}
	p := &parser{lx: lexer{src: expr}}
	if err := p.lx.next(); err != nil {
		return nil, err
	}
	t := &Template{}
	for {
		l, err := p.layer()
		if err != nil {
			return nil, err
		}
		t.layers = append(t.layers, l)
		if p.is("/") {
			if err := p.lx.next(); err != nil {
				return nil, err
			}
			continue
		}
		if p.lx.tok.kind != tEOF {
			return nil, errAt(p.lx.tok.off, "expected / or the end of the expression, found %s", p.desc())
		}
		break
	}
	if err := t.init(); err != nil {
		return nil, err
	}
	return t, nil
}

type parser struct {
	lx lexer
}

func (p *parser) is(punct string) bool {
	return p.lx.tok.kind == tPunct && p.lx.tok.text == punct
}

func (p *parser) desc() string {
	t := p.lx.tok
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tStr:
		return "a string"
	case tNum:
		return "number " + t.text
	}
	return strconv.Quote(t.text)
}

func (p *parser) expect(punct string) error {
	if !p.is(punct) {
		return errAt(p.lx.tok.off, "expected %q, found %s", punct, p.desc())
	}
	return p.lx.next()
}

func layerNames() string {
	return "Ether, ARP, IP, IPv6, ICMP, ICMPv6, ICMPv6EchoRequest, ICMPv6EchoReply, TCP, UDP, DNS, Raw"
}

func (p *parser) layer() (*layerSpec, error) {
	t := p.lx.tok
	if t.kind == tStr {
		l := &layerSpec{def: defs["Raw"], off: t.off, bare: true}
		l.fields = []*fieldSpec{{def: l.def.fields[0], off: t.off, vals: []value{{k: vBytes, s: t.text, off: t.off}}}}
		return l, p.lx.next()
	}
	if t.kind != tIdent {
		return nil, errAt(t.off, "expected a layer such as IP(...), found %s", p.desc())
	}
	def := defs[t.text]
	if def == nil {
		return nil, errAt(t.off, "unknown layer %q (known: %s)", t.text, layerNames())
	}
	l := &layerSpec{def: def, off: t.off}
	if err := p.lx.next(); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	if err := p.fields(def, l, nil); err != nil {
		return nil, err
	}
	return l, nil
}

// fields parses name=value pairs up to the closing parenthesis. group, if
// not nil, restricts the names to those of a nested constructor (DNSQR).
func (p *parser) fields(def *layerDef, l *layerSpec, group *string) error {
	for !p.is(")") {
		t := p.lx.tok
		if t.kind != tIdent {
			return errAt(t.off, "expected a field name or \")\", found %s", p.desc())
		}
		f := def.field(t.text)
		if f == nil || f.group != "" && group == nil || group != nil && f.group != *group {
			return errAt(t.off, "unknown field %q of %s (known: %s)", t.text, l.name(group), fieldNames(def, group))
		}
		if l.find(f.name) != nil || f.kind == kQD && l.find("qname") != nil {
			return errAt(t.off, "field %q given twice", t.text)
		}
		if err := p.lx.next(); err != nil {
			return err
		}
		if err := p.expect("="); err != nil {
			return err
		}
		if f.kind == kQD {
			if err := p.question(def, l); err != nil {
				return err
			}
		} else {
			fs, err := p.value(f)
			if err != nil {
				return err
			}
			fs.nameOff = t.off
			l.fields = append(l.fields, fs)
		}
		if !p.is(",") {
			break
		}
		if err := p.lx.next(); err != nil {
			return err
		}
	}
	return p.expect(")")
}

func (l *layerSpec) name(group *string) string {
	if group != nil {
		return "DNSQR"
	}
	return l.def.name
}

func fieldNames(def *layerDef, group *string) string {
	var names []string
	for _, f := range def.fields {
		if group == nil && f.group == "" || group != nil && f.group == *group {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// question parses DNSQR(qname=..., qtype=..., qclass=...) into the DNS
// layer's question fields.
func (p *parser) question(def *layerDef, l *layerSpec) error {
	t := p.lx.tok
	if t.kind != tIdent || t.text != "DNSQR" {
		return errAt(t.off, "expected DNSQR(...), found %s", p.desc())
	}
	if err := p.lx.next(); err != nil {
		return err
	}
	if err := p.expect("("); err != nil {
		return err
	}
	n := len(l.fields)
	g := "qd"
	if err := p.fields(def, l, &g); err != nil {
		return err
	}
	if len(l.fields) == n {
		// DNSQR() with every default: record the question explicitly so
		// that String shows it.
		l.fields = append(l.fields, &fieldSpec{def: def.field("qname"), off: t.off, nameOff: t.off,
			vals: []value{{k: vBytes, s: "www.example.com", off: t.off}}})
	}
	return nil
}

// value parses the value of field f: a scalar, a list [a, b] or a range (a, b).
func (p *parser) value(f *fieldDef) (*fieldSpec, error) {
	fs := &fieldSpec{def: f, off: p.lx.tok.off}
	if p.is("[") {
		fs.list = true
		if err := p.lx.next(); err != nil {
			return nil, err
		}
		for !p.is("]") {
			v, err := p.elem(f)
			if err != nil {
				return nil, err
			}
			fs.vals = append(fs.vals, v)
			if !p.is(",") {
				break
			}
			if err := p.lx.next(); err != nil {
				return nil, err
			}
		}
		if len(fs.vals) == 0 {
			return nil, errAt(p.lx.tok.off, "empty list")
		}
		return fs, p.expect("]")
	}
	v, err := p.elem(f)
	if err != nil {
		return nil, err
	}
	fs.vals = []value{v}
	return fs, nil
}

func (p *parser) elem(f *fieldDef) (value, error) {
	if !p.is("(") {
		return p.scalar(f)
	}
	off := p.lx.tok.off
	if f.kind != kUint && f.kind != kTCPFlags && f.kind != kIPFlags {
		return value{}, errAt(off, "field %q takes no range", f.name)
	}
	if err := p.lx.next(); err != nil {
		return value{}, err
	}
	lo, err := p.scalar(f)
	if err != nil {
		return value{}, err
	}
	if err := p.expect(","); err != nil {
		return value{}, err
	}
	hi, err := p.scalar(f)
	if err != nil {
		return value{}, err
	}
	if err := p.expect(")"); err != nil {
		return value{}, err
	}
	if hi.lo < lo.lo {
		return value{}, errAt(off, "empty range (%d, %d)", lo.lo, hi.lo)
	}
	return value{k: vRange, lo: lo.lo, hi: hi.lo, sym: lo.sym, symHi: hi.sym, off: off}, nil
}

// scalar parses one value of field f and checks it.
func (p *parser) scalar(f *fieldDef) (value, error) {
	t := p.lx.tok
	v, err := convert(f, t)
	if err != nil {
		return value{}, err
	}
	return v, p.lx.next()
}

func convert(f *fieldDef, t token) (value, error) {
	v := value{off: t.off}
	bad := func() (value, error) {
		return value{}, errAt(t.off, "bad value %s for field %q", tokDesc(t), f.name)
	}
	switch f.kind {
	case kUint, kTCPFlags, kIPFlags:
		v.k = vNum
		switch t.kind {
		case tNum:
			v.lo = t.num
		case tIdent, tStr:
			n, ok := symbol(f, t.text)
			if !ok {
				if t.kind == tIdent && f.names == nil {
					return bad()
				}
				return value{}, errAt(t.off, "unknown value %q for field %q%s", t.text, f.name, knownNames(f))
			}
			v.lo, v.sym = n, t.text
		default:
			return bad()
		}
		if v.lo > f.max {
			return value{}, errAt(t.off, "value %d out of range for field %q (0..%d)", v.lo, f.name, f.max)
		}
	case kIPv4, kIPv6:
		if t.kind != tStr {
			return bad()
		}
		return address(f, t)
	case kMAC:
		if t.kind != tStr {
			return bad()
		}
		hw, err := net.ParseMAC(t.text)
		if err != nil || len(hw) != 6 {
			return value{}, errAt(t.off, "bad MAC address %q for field %q", t.text, f.name)
		}
		v.k = vMAC
		copy(v.mac[:], hw)
	case kBytes:
		if t.kind != tStr {
			return bad()
		}
		v.k, v.s = vBytes, t.text
		if f.name == "qname" {
			if err := checkName(t.text); err != "" {
				return value{}, errAt(t.off, "bad qname %q: %s", t.text, err)
			}
		}
	default:
		return bad()
	}
	return v, nil
}

func tokDesc(t token) string {
	switch t.kind {
	case tEOF:
		return "(the end of the expression)"
	case tStr:
		return quote(t.text)
	}
	return t.text
}

func knownNames(f *fieldDef) string {
	switch f.kind {
	case kTCPFlags:
		return " (letters of FSRPAUECN, or a number)"
	case kIPFlags:
		return ` ("MF", "DF", "evil" joined with +, or a number)`
	}
	if len(f.names) == 0 {
		return ""
	}
	var names []string
	for k := range f.names {
		names = append(names, k)
	}
	sortStrings(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

const tcpFlagLetters = "FSRPAUECN"

// symbol resolves a symbolic value of field f.
func symbol(f *fieldDef, s string) (uint64, bool) {
	switch f.kind {
	case kTCPFlags:
		var n uint64
		for i := 0; i < len(s); i++ {
			j := strings.IndexByte(tcpFlagLetters, s[i])
			if j < 0 || n&(1<<j) != 0 {
				return 0, false
			}
			n |= 1 << j
		}
		return n, true
	case kIPFlags:
		var n uint64
		if s == "" {
			return 0, true
		}
		for _, part := range strings.Split(s, "+") {
			var b uint64
			switch part {
			case "MF":
				b = 1
			case "DF":
				b = 2
			case "evil":
				b = 4
			default:
				return 0, false
			}
			if n&b != 0 {
				return 0, false
			}
			n |= b
		}
		return n, true
	}
	n, ok := f.names[s]
	return n, ok
}

// address converts an address field's string: an address, a CIDR prefix or
// a host name left for the caller to resolve.
func address(f *fieldDef, t token) (value, error) {
	s := t.text
	want6 := f.kind == kIPv6
	fam := "IPv4"
	if want6 {
		fam = "IPv6"
	}
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return value{}, errAt(t.off, "bad prefix %q for field %q", s, f.name)
		}
		if pfx.Addr().Is6() != want6 || pfx.Addr().Is4In6() {
			return value{}, errAt(t.off, "field %q needs an %s prefix, not %q", f.name, fam, s)
		}
		if pfx.Addr().Zone() != "" {
			return value{}, errAt(t.off, "bad prefix %q for field %q", s, f.name)
		}
		if pfx.Addr().BitLen()-pfx.Bits() > 63 {
			return value{}, errAt(t.off, "prefix %q has too many addresses (at most 2^63)", s)
		}
		return value{k: vPrefix, pfx: pfx.Masked(), off: t.off}, nil
	}
	if looksNumeric(s) {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return value{}, errAt(t.off, "bad %s address %q for field %q", fam, s, f.name)
		}
		if a.Is6() != want6 || a.Is4In6() {
			return value{}, errAt(t.off, "field %q needs an %s address, not %q", f.name, fam, s)
		}
		return value{k: vAddr, addr: a, off: t.off}, nil
	}
	if msg := checkName(s); msg != "" {
		return value{}, errAt(t.off, "bad host name %q for field %q: %s", s, f.name, msg)
	}
	return value{k: vName, s: s, off: t.off}, nil
}

// looksNumeric reports whether s is written as an address rather than a
// name: digits and dots, or anything with a colon.
func looksNumeric(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// checkName checks a DNS name's syntax (RFC 1035 lengths; letters, digits,
// hyphens, underscores), returning what is wrong or "".
func checkName(s string) string {
	if s == "" {
		return "empty name"
	}
	if s == "." {
		return ""
	}
	t := strings.TrimSuffix(s, ".")
	if len(t) > 253 {
		return "longer than 253 bytes"
	}
	for _, label := range strings.Split(t, ".") {
		if label == "" {
			return "empty label"
		}
		if len(label) > 63 {
			return "label longer than 63 bytes"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isLetter(c) && !isDigit(c) && c != '-' && c != '_' && c != '*' {
				return fmt.Sprintf("character %q not allowed", c)
			}
		}
	}
	return ""
}

// count returns how many concrete values v stands for.
func (v *value) count() uint64 {
	switch v.k {
	case vRange:
		return v.hi - v.lo + 1 // v.hi-v.lo < 2^64-1 since max is at most 2^32-1
	case vPrefix:
		return 1 << (v.pfx.Addr().BitLen() - v.pfx.Bits())
	}
	return 1
}

// at returns the i-th concrete value of v.
func (v *value) at(i uint64, s *scalar) {
	*s = scalar{}
	switch v.k {
	case vNum:
		s.n = v.lo
	case vRange:
		s.n = v.lo + i
	case vAddr:
		s.addr = v.addr
	case vPrefix:
		s.addr = addAddr(v.pfx.Addr(), i)
	case vName:
		s.name = v.s
	case vBytes:
		s.b = v.s
	case vMAC:
		s.mac = v.mac
	}
}

// addAddr returns a+i, for i below 2^63 and within a's prefix.
func addAddr(a netip.Addr, i uint64) netip.Addr {
	if a.Is4() {
		b := a.As4()
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		n += uint32(i)
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	b := a.As16()
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 | uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	var c uint64
	lo, c = bits.Add64(lo, i, 0)
	hi += c
	for k := 0; k < 8; k++ {
		b[k] = byte(hi >> (56 - 8*k))
		b[8+k] = byte(lo >> (56 - 8*k))
	}
	return netip.AddrFrom16(b)
}
