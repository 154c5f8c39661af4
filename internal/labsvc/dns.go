package labsvc

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// DNS constants (RFC 1035, RFC 3596).
const (
	dnsTypeA    = 1
	dnsTypePTR  = 12
	dnsTypeAAAA = 28
	dnsTypeANY  = 255
	dnsClassIN  = 1
	dnsClassANY = 255

	dnsRcodeNXDomain = 3
	dnsRcodeNotImp   = 4
	dnsRcodeRefused  = 5

	dnsTTL    = 60
	dnsMaxUDP = 512 // RFC 1035 section 4.2.1; EDNS is not offered
	dnsMaxTCP = 65535
)

// zone is the authoritative data of the DNS service: lower-case names
// without the trailing dot.
type zone struct {
	addrs  map[string][]netip.Addr
	exists map[string]bool   // every name and every ancestor (RFC 8020: NODATA, not NXDOMAIN)
	ptr    map[string][]byte // reverse name → name in wire format
}

// normName lower-cases a name and drops its trailing dot; it returns "" if
// name is not a valid host name (letters, digits, '-' and '_' in labels of
// 1 to 63 bytes, 253 bytes at most).
func normName(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" || len(name) > 253 {
		return ""
	}
	for l := range strings.SplitSeq(name, ".") {
		if l == "" || len(l) > 63 {
			return ""
		}
		for i := range len(l) {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return ""
			}
		}
	}
	return name
}

func newZone(names map[string][]netip.Addr) (*zone, error) {
	z := &zone{addrs: make(map[string][]netip.Addr), exists: make(map[string]bool), ptr: make(map[string][]byte)}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		n := normName(name)
		if n == "" {
			return nil, fmt.Errorf("labsvc: %w: DNS name %q is not a valid host name", ErrConfig, name)
		}
		for _, a := range names[name] {
			if !a.IsValid() {
				return nil, fmt.Errorf("labsvc: %w: DNS name %q has an invalid address", ErrConfig, name)
			}
			a = a.Unmap().WithZone("")
			if !slices.Contains(z.addrs[n], a) {
				z.addrs[n] = append(z.addrs[n], a)
			}
			if r := reverseName(a); z.ptr[r] == nil {
				z.ptr[r] = appendDNSName(nil, n)
			}
		}
		for d := n; ; {
			z.exists[d] = true
			_, rest, ok := strings.Cut(d, ".")
			if !ok {
				break
			}
			d = rest
		}
	}
	for r := range z.ptr {
		for d := r; ; {
			z.exists[d] = true
			_, rest, ok := strings.Cut(d, ".")
			if !ok {
				break
			}
			d = rest
		}
	}
	return z, nil
}

// reverseName is the in-addr.arpa or ip6.arpa name of a (RFC 1035 section
// 3.5, RFC 3596 section 2.5).
func reverseName(a netip.Addr) string {
	var b strings.Builder
	if a.Is4() {
		v := a.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(v[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa")
		return b.String()
	}
	const hex = "0123456789abcdef"
	v := a.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[v[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[v[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa")
	return b.String()
}

// dnsQuestion is the parsed question of a query.
type dnsQuestion struct {
	buf          [255]byte // the name: lower case, dots between labels, no trailing dot
	n            int       // length of the name in buf (0 for the root)
	qtype, class uint16
	end          int  // offset after the question in the message
	odd          bool // a label holds a dot: no name of the zone can match
}

// parseDNSQuery checks the header of a query and parses its one question.
// ok is false for anything that is not a well-formed query, which the
// server ignores.
func parseDNSQuery(msg []byte, q *dnsQuestion) bool {
	if len(msg) < 12 || msg[2]&0x80 != 0 { // short, or a response
		return false
	}
	if binary.BigEndian.Uint16(msg[4:]) != 1 { // QDCOUNT
		return false
	}
	name := q.buf[:0]
	i := 12
	for {
		if i >= len(msg) {
			return false
		}
		l := int(msg[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(msg) || len(name)+l+1 > len(q.buf) { // compression pointers have no place in a question
			return false
		}
		if len(name) > 0 {
			name = append(name, '.')
		}
		for _, c := range msg[i : i+l] {
			if c == '.' {
				q.odd = true
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			name = append(name, c)
		}
		i += l
	}
	if i+4 > len(msg) {
		return false
	}
	q.n = len(name)
	q.qtype = binary.BigEndian.Uint16(msg[i:])
	q.class = binary.BigEndian.Uint16(msg[i+2:])
	q.end = i + 4
	return true
}

// answer builds the reply to one DNS query into out: the question echoed,
// the authoritative answers for A, AAAA, PTR or ANY, NODATA for a name
// without records of the type, NXDOMAIN for a name not in the zone.
// Malformed messages and responses get no reply (out is nil). what
// describes the query and its outcome when describe is set; without it
// answer does not allocate. The reply is cut to max bytes (512 over UDP,
// 65535 over TCP), with TC set.
func (z *zone) answer(msg []byte, out []byte, max int, describe bool) (reply []byte, what string) {
	var q dnsQuestion
	if !parseDNSQuery(msg, &q) {
		return nil, "malformed DNS query"
	}
	name := q.buf[:q.n]
	opcode := (msg[2] >> 3) & 0xf
	var rcode byte
	switch {
	case opcode != 0:
		rcode = dnsRcodeNotImp
	case q.class != dnsClassIN && q.class != dnsClassANY:
		rcode = dnsRcodeRefused
	case q.odd || !z.exists[string(name)]:
		rcode = dnsRcodeNXDomain
	}
	base := len(out)
	out = append(out, msg[0], msg[1])                           // ID
	out = append(out, 0x80|msg[2]&0x79|0x04, msg[3]&0x10|rcode) // QR, opcode, AA, RD; CD, RCODE; RA=0
	out = append(out, 0, 1, 0, 0, 0, 0, 0, 0)                   // QDCOUNT=1, ANCOUNT filled below
	out = append(out, msg[12:q.end]...)
	if describe {
		what = dnsTypeName(q.qtype) + " " + respClean(string(name))
	}
	if rcode != 0 {
		if describe {
			what += ": " + dnsRcodeName(rcode)
		}
		return out, what
	}
	n := 0
	add := func(typ uint16, rdata []byte) {
		if len(out)-base+12+len(rdata) > max {
			out[base+2] |= 0x02 // TC
			return
		}
		out = append(out, 0xc0, 12) // pointer to the question's name
		out = binary.BigEndian.AppendUint16(out, typ)
		out = binary.BigEndian.AppendUint16(out, dnsClassIN)
		out = binary.BigEndian.AppendUint32(out, dnsTTL)
		out = binary.BigEndian.AppendUint16(out, uint16(len(rdata)))
		out = append(out, rdata...)
		n++
	}
	for _, a := range z.addrs[string(name)] {
		switch {
		case a.Is4() && (q.qtype == dnsTypeA || q.qtype == dnsTypeANY):
			v := a.As4()
			add(dnsTypeA, v[:])
		case a.Is6() && (q.qtype == dnsTypeAAAA || q.qtype == dnsTypeANY):
			v := a.As16()
			add(dnsTypeAAAA, v[:])
		}
	}
	if p := z.ptr[string(name)]; p != nil && (q.qtype == dnsTypePTR || q.qtype == dnsTypeANY) {
		add(dnsTypePTR, p)
	}
	binary.BigEndian.PutUint16(out[base+6:], uint16(n))
	if describe {
		what += ": " + strconv.Itoa(n) + " answer"
		if n != 1 {
			what += "s"
		}
	}
	return out, what
}

// appendDNSName appends name (valid, see normName) in wire format.
func appendDNSName(b []byte, name string) []byte {
	for l := range strings.SplitSeq(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func dnsTypeName(t uint16) string {
	switch t {
	case dnsTypeA:
		return "A"
	case dnsTypeAAAA:
		return "AAAA"
	case dnsTypePTR:
		return "PTR"
	case dnsTypeANY:
		return "ANY"
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func dnsRcodeName(r byte) string {
	switch r {
	case dnsRcodeNXDomain:
		return "NXDOMAIN"
	case dnsRcodeNotImp:
		return "NOTIMP"
	case dnsRcodeRefused:
		return "REFUSED"
	}
	return "RCODE" + strconv.Itoa(int(r))
}
