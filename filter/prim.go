package filter

import (
	"net/netip"
	"strconv"
	"strings"
)

// EtherTypes and IP protocol numbers used by the primitives.
const (
	etherIP     = 0x0800
	etherARP    = 0x0806
	etherRARP   = 0x8035
	etherIPv6   = 0x86dd
	ether8021Q  = 0x8100
	ether8021AD = 0x88a8
	ether9100   = 0x9100
	etherMTU    = 1500

	protoICMP   = 1
	protoIGMP   = 2
	protoTCP    = 6
	protoIGRP   = 9
	protoUDP    = 17
	protoFrag   = 44
	protoESP    = 50
	protoAH     = 51
	protoICMPv6 = 58
	protoPIM    = 103
	protoVRRP   = 112
	protoSCTP   = 132

	sllOutgoing = 4 // PACKET_OUTGOING in the SLL packet type
)

// cmp tests size bytes at the absolute offset off against v.
func (p *parser) cmp(off int, size uint16, v uint32) *cond {
	return leaf([]ins{{op: opLD | size | mABS, k: uint32(off)}}, jJEQ|srcK, v)
}

// mcmp tests (load & mask) == v.
func (p *parser) mcmp(off int, size uint16, v, mask uint32) *cond {
	full := map[uint16]uint32{szB: 0xff, szH: 0xffff, szW: 0xffffffff}[size]
	stmts := []ins{{op: opLD | size | mABS, k: uint32(off)}}
	if mask&full != full {
		stmts = append(stmts, ins{op: opALU | aluAND | srcK, k: mask})
	}
	return leaf(stmts, jJEQ|srcK, v)
}

// linktype tests the link layer's protocol field for EtherType v
// (gen_linktype in libpcap).
func (p *parser) linktype(v uint32) *cond {
	switch p.lt {
	case LinkTypeEthernet:
		switch v {
		case 0x06, 0xf0, 0xfe: // LLC SAPs for IP, NetBEUI, ISO
			return and(not(leaf([]ins{{op: opLD | szH | mABS, k: uint32(p.offLinkType)}}, jJGT|srcK, etherMTU)),
				p.cmp(p.offLinkType+2, szH, v<<8|v))
		}
		if v <= etherMTU {
			return and(not(leaf([]ins{{op: opLD | szH | mABS, k: uint32(p.offLinkType)}}, jJGT|srcK, etherMTU)),
				p.cmp(p.offLinkType+2, szB, v))
		}
		return p.cmp(p.offLinkType, szH, v)
	case LinkTypeLinuxSLL, LinkTypeLinuxSLL2:
		switch v {
		case 0x06, 0xf0, 0xfe:
			return and(p.cmp(p.offLinkType, szH, 0x0004), p.cmp(p.offLinkPL, szH, v<<8|v))
		}
		if v <= etherMTU {
			return and(p.cmp(p.offLinkType, szH, 0x0004), p.cmp(p.offLinkPL, szB, v))
		}
		return p.cmp(p.offLinkType, szH, v)
	case LinkTypeRaw:
		switch v {
		case etherIP:
			return p.mcmp(0, szB, 0x40, 0xf0)
		case etherIPv6:
			return p.mcmp(0, szB, 0x60, 0xf0)
		}
		return condFalse
	case LinkTypeIPv4:
		if v == etherIP {
			return condTrue
		}
		return condFalse
	case LinkTypeIPv6:
		if v == etherIPv6 {
			return condTrue
		}
		return condFalse
	}
	return condFalse
}

// protoAbbrev is a protocol name used alone ("tcp"): gen_proto_abbrev.
func (p *parser) protoAbbrev(name string, t token) (*cond, error) {
	switch name {
	case "ip":
		return p.linktype(etherIP), nil
	case "ip6":
		return p.linktype(etherIPv6), nil
	case "arp":
		return p.linktype(etherARP), nil
	case "rarp":
		return p.linktype(etherRARP), nil
	case "tcp":
		return p.ipProto(protoTCP, ""), nil
	case "udp":
		return p.ipProto(protoUDP, ""), nil
	case "sctp":
		return p.ipProto(protoSCTP, ""), nil
	case "icmp":
		return p.ipProto(protoICMP, "ip"), nil
	case "igmp":
		return p.ipProto(protoIGMP, "ip"), nil
	case "igrp":
		return p.ipProto(protoIGRP, "ip"), nil
	case "pim":
		return p.ipProto(protoPIM, ""), nil
	case "vrrp", "carp":
		return p.ipProto(protoVRRP, "ip"), nil
	case "icmp6":
		return p.ipProto(protoICMPv6, "ip6"), nil
	case "ah":
		return p.ipProto(protoAH, ""), nil
	case "esp":
		return p.ipProto(protoESP, ""), nil
	case "link":
		return nil, p.errAt(t, "link layer applied in wrong context")
	}
	return nil, p.errAt(t, "%s is not supported by this compiler", p.text(t))
}

// ipProto tests the IP protocol field: over IPv4, IPv6 ("ip6": also behind
// one fragment header, as libpcap does) or both ("").
func (p *parser) ipProto(v uint32, which string) *cond {
	v4 := func() *cond { return and(p.linktype(etherIP), p.cmp(p.offLinkPL+9, szB, v)) }
	v6 := func() *cond {
		return and(p.linktype(etherIPv6), or(p.cmp(p.offLinkPL+6, szB, v),
			and(p.cmp(p.offLinkPL+6, szB, protoFrag), p.cmp(p.offLinkPL+40, szB, v))))
	}
	switch which {
	case "ip":
		return v4()
	case "ip6":
		return v6()
	}
	return or(v4(), v6())
}

// notFrag holds for an IPv4 packet that is not a non-first fragment.
func (p *parser) notFrag() *cond {
	return not(leaf([]ins{{op: opLD | szH | mABS, k: uint32(p.offLinkPL + 6)}}, jJSET|srcK, 0x1fff))
}

// genProto is "[ip|ip6|ether] proto N".
func (p *parser) genProto(v uint32, q qual, t token) (*cond, error) {
	if q.dir != "" {
		return nil, p.errAt(t, "direction applied to 'proto'")
	}
	switch q.proto {
	case "":
		return or(and(p.linktype(etherIP), p.cmp(p.offLinkPL+9, szB, v)),
			and(p.linktype(etherIPv6), or(p.cmp(p.offLinkPL+6, szB, v),
				and(p.cmp(p.offLinkPL+6, szB, protoFrag), p.cmp(p.offLinkPL+40, szB, v))))), nil
	case "link":
		return p.linktype(v), nil
	case "ip":
		return p.ipProto(v, "ip"), nil
	case "ip6":
		return p.ipProto(v, "ip6"), nil
	}
	return nil, p.errAt(t, "'%s proto' is bogus", q.proto)
}

// genHost is an IPv4 host or net test (gen_host).
func (p *parser) genHost(addr, mask uint32, q qual, what string, t token) (*cond, error) {
	switch q.proto {
	case "":
		ip, err := p.genHostop(addr, mask, q.dir, etherIP, 12, 16, t)
		if err != nil {
			return nil, err
		}
		arp, _ := p.genHostop(addr, mask, q.dir, etherARP, 14, 24, t)
		rarp, _ := p.genHostop(addr, mask, q.dir, etherRARP, 14, 24, t)
		return or(or(ip, arp), rarp), nil
	case "ip":
		return p.genHostop(addr, mask, q.dir, etherIP, 12, 16, t)
	case "arp":
		return p.genHostop(addr, mask, q.dir, etherARP, 14, 24, t)
	case "rarp":
		return p.genHostop(addr, mask, q.dir, etherRARP, 14, 24, t)
	case "link":
		return nil, p.errAt(t, "link-layer modifier applied to %s", what)
	case "ip6":
		return nil, p.errAt(t, "'ip6' modifier applied to ip %s", what)
	case "icmp6":
		return nil, p.errAt(t, "'icmp6' modifier applied to ip %s", what)
	}
	return nil, p.errAt(t, "'%s' modifier applied to %s", q.proto, what)
}

func (p *parser) genHostop(addr, mask uint32, dir string, ethertype uint32, srcOff, dstOff int, t token) (*cond, error) {
	one := func(off int) *cond {
		return and(p.linktype(ethertype), p.mcmp(p.offLinkPL+off, szW, addr, mask))
	}
	switch dir {
	case "src":
		return one(srcOff), nil
	case "dst":
		return one(dstOff), nil
	case "and":
		return and(one(srcOff), one(dstOff)), nil
	}
	return or(one(srcOff), one(dstOff)), nil
}

// genHost6 is an IPv6 host or net test.
func (p *parser) genHost6(a, m [4]uint32, q qual, what string, t token) (*cond, error) {
	switch q.proto {
	case "", "ip6":
	case "link":
		return nil, p.errAt(t, "link-layer modifier applied to ip6 %s", what)
	default:
		return nil, p.errAt(t, "'%s' modifier applied to ip6 %s", q.proto, what)
	}
	one := func(off int) *cond {
		c := p.mcmp(p.offLinkPL+off, szW, a[0], m[0])
		for i := 1; i < 4; i++ {
			c = and(c, p.mcmp(p.offLinkPL+off+4*i, szW, a[i], m[i]))
		}
		return and(p.linktype(etherIPv6), c)
	}
	switch q.dir {
	case "src":
		return one(8), nil
	case "dst":
		return one(24), nil
	case "and":
		return and(one(8), one(24)), nil
	}
	return or(one(8), one(24)), nil
}

// genEhost tests Ethernet addresses.
func (p *parser) genEhost(mac [6]byte, dir string, t token) (*cond, error) {
	if p.lt != LinkTypeEthernet {
		return nil, p.errAt(t, "ethernet addresses supported only on ethernet")
	}
	one := func(off int) *cond {
		lo := uint32(mac[2])<<24 | uint32(mac[3])<<16 | uint32(mac[4])<<8 | uint32(mac[5])
		hi := uint32(mac[0])<<8 | uint32(mac[1])
		return and(p.cmp(off+2, szW, lo), p.cmp(off, szH, hi))
	}
	switch dir {
	case "src":
		return one(6), nil
	case "dst":
		return one(0), nil
	case "and":
		return and(one(6), one(0)), nil
	}
	return or(one(6), one(0)), nil
}

// genPort tests TCP/UDP/SCTP ports (lo..hi inclusive) over IPv6 then IPv4,
// as libpcap orders them. proto is protoTCP, protoUDP, protoSCTP or 0 (any).
func (p *parser) genPort(lo, hi uint32, proto uint32, dir string) *cond {
	protos := []uint32{proto}
	if proto == 0 {
		protos = []uint32{protoSCTP, protoTCP, protoUDP}
	}
	atom := func(off int, indirect bool) *cond {
		ld := func() []ins {
			if indirect {
				return []ins{{op: opLDX | szB | mMSH, k: uint32(p.offLinkPL)}, {op: opLD | szH | mIND, k: uint32(p.offLinkPL + off)}}
			}
			return []ins{{op: opLD | szH | mABS, k: uint32(p.offLinkPL + off)}}
		}
		if lo == hi {
			return leaf(ld(), jJEQ|srcK, lo)
		}
		return and(leaf(ld(), jJGE|srcK, lo), not(leaf(ld(), jJGT|srcK, hi)))
	}
	ports := func(base int, indirect bool) *cond {
		s, d := atom(base, indirect), atom(base+2, indirect)
		switch dir {
		case "src":
			return s
		case "dst":
			return d
		case "and":
			return and(s, d)
		}
		return or(s, d)
	}
	var v6, v4 *cond = condFalse, condFalse
	for _, pr := range protos {
		v6 = or(v6, and(p.cmp(p.offLinkPL+6, szB, pr), ports(40, false)))
		v4 = or(v4, and(and(p.cmp(p.offLinkPL+9, szB, pr), p.notFrag()), ports(0, true)))
	}
	return or(and(p.linktype(etherIPv6), v6), and(p.linktype(etherIP), v4))
}

// portProto maps a protocol qualifier of "port" to an IP protocol.
func (p *parser) portProto(q qual, t token) (uint32, error) {
	switch q.proto {
	case "":
		return 0, nil
	case "tcp":
		return protoTCP, nil
	case "udp":
		return protoUDP, nil
	case "sctp":
		return protoSCTP, nil
	}
	return 0, p.errAt(t, "illegal qualifier of '%s'", q.addr)
}

// genNcode handles a number or dotted-quad id (gen_ncode).
func (p *parser) genNcode(s string, v uint32, q qual, t token) (*cond, error) {
	if q.undef {
		return nil, p.errAt(t, "%s needs a qualifier such as 'host' or 'port'", p.text(t))
	}
	vlen := 32
	if s != "" {
		var ok bool
		v, vlen, ok = atonet(s)
		if !ok {
			return nil, p.errAt(t, "invalid IPv4 address %s", p.text(t))
		}
	}
	switch q.addr {
	case "", "host", "net":
		if q.proto == "link" {
			return nil, p.errAt(t, "illegal link layer address")
		}
		mask := uint32(0xffffffff)
		if s == "" && q.addr == "net" {
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		} else {
			v <<= 32 - vlen
			mask <<= 32 - vlen
		}
		what := "host"
		if q.addr == "net" {
			what = "net"
		}
		return p.genHost(v, mask, q, what, t)
	case "port", "portrange":
		if s != "" {
			return nil, p.errAt(t, "'%s' modifier applied to IP address", q.addr)
		}
		pr, err := p.portProto(q, t)
		if err != nil {
			return nil, err
		}
		if v > 65535 {
			return nil, p.errAt(t, "illegal port number %d > 65535", v)
		}
		return p.genPort(v, v, pr, q.dir), nil
	case "proto":
		if s != "" {
			return nil, p.errAt(t, "'proto' modifier applied to IP address")
		}
		return p.genProto(v, q, t)
	case "protochain":
		return nil, p.errAt(t, "protochain is not supported by this compiler")
	case "gateway":
		return nil, p.errAt(t, "'gateway' requires a name, and this compiler does not resolve names")
	}
	return nil, p.errAt(t, "syntax error")
}

// atonet parses libpcap's partial dotted quads: "10.1" is 0x0a01 with 16
// significant bits.
func atonet(s string) (uint32, int, bool) {
	var v uint32
	parts := strings.Split(s, ".")
	for _, part := range parts {
		n, msg := parseNumber(part)
		if msg != "" || n > 255 {
			return 0, 0, false
		}
		v = v<<8 | n
	}
	return v, 8 * len(parts), true
}

// genMcode handles "a.b.c.d/len" and "a.b.c.d mask m.m.m.m".
func (p *parser) genMcode(t token, maskStr string, plen uint32, q qual) (*cond, error) {
	if q.undef {
		return nil, p.errAt(t, "%s needs a qualifier such as 'net'", p.text(t))
	}
	switch q.addr {
	case "port", "portrange", "proto", "protochain":
		return nil, p.errAt(t, "'%s' modifier applied to IP address and netmask", q.addr)
	}
	n, nlen, ok := atonet(t.text)
	if !ok {
		return nil, p.errAt(t, "invalid IPv4 address %s", p.text(t))
	}
	n <<= 32 - nlen
	var m uint32
	if maskStr != "" {
		mv, mlen, ok := atonet(maskStr)
		if !ok {
			return nil, p.errAt(t, "invalid netmask %q", maskStr)
		}
		m = mv << (32 - mlen)
		if n&^m != 0 {
			return nil, p.errAt(t, "non-network bits set in \"%s mask %s\"", t.text, maskStr)
		}
	} else {
		if plen > 32 {
			return nil, p.errAt(t, "mask length must be <= 32")
		}
		if plen != 0 {
			m = 0xffffffff << (32 - plen)
		}
		if n&^m != 0 {
			return nil, p.errAt(t, "non-network bits set in \"%s/%d\"", t.text, plen)
		}
	}
	if q.addr != "net" {
		return nil, p.errAt(t, "mask syntax for networks only (use 'net')")
	}
	return p.genHost(n, m, q, "net", t)
}

// genMcode6 handles IPv6 addresses and prefixes.
func (p *parser) genMcode6(t token, plen uint32, masked bool, q qual) (*cond, error) {
	if q.undef {
		return nil, p.errAt(t, "%s needs a qualifier such as 'host'", p.text(t))
	}
	switch q.addr {
	case "port", "portrange", "proto", "protochain":
		return nil, p.errAt(t, "'%s' modifier applied to IP address", q.addr)
	}
	addr, err := netip.ParseAddr(t.text)
	if err != nil {
		return nil, p.errAt(t, "invalid IPv6 address %s", p.text(t))
	}
	if plen > 128 {
		return nil, p.errAt(t, "mask length must be <= 128")
	}
	b := addr.As16()
	var a, m [4]uint32
	for i := 0; i < 4; i++ {
		a[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
		bits := int(plen) - 32*i
		switch {
		case bits >= 32:
			m[i] = 0xffffffff
		case bits > 0:
			m[i] = 0xffffffff << (32 - bits)
		}
		if a[i]&^m[i] != 0 {
			return nil, p.errAt(t, "non-network bits set in \"%s/%d\"", t.text, plen)
		}
	}
	switch q.addr {
	case "", "host":
		if masked && plen != 128 {
			return nil, p.errAt(t, "mask syntax for networks only (use 'net')")
		}
	case "net":
	default:
		return nil, p.errAt(t, "invalid qualifier against IPv6 address")
	}
	what := "host"
	if q.addr == "net" {
		what = "net"
	}
	return p.genHost6(a, m, q, what, t)
}

// genEcode handles a MAC address id.
func (p *parser) genEcode(t token, q qual) (*cond, error) {
	if q.undef {
		return nil, p.errAt(t, "%s needs a qualifier such as 'ether host'", p.text(t))
	}
	mac, _ := parseMAC(t.text)
	if (q.addr == "host" || q.addr == "") && q.proto == "link" {
		return p.genEhost(mac, q.dir, t)
	}
	return nil, p.errAt(t, "ethernet address used in non-ether expression")
}

// services maps port names to numbers and protocols, as in Debian's
// /etc/services (no name lookups happen at run time).
var services = map[string]struct {
	port  uint32
	proto uint32 // 0: both tcp and udp
}{
	"ftp-data": {20, protoTCP}, "ftp": {21, protoTCP}, "ssh": {22, protoTCP},
	"telnet": {23, protoTCP}, "smtp": {25, protoTCP}, "whois": {43, protoTCP},
	"domain": {53, 0}, "bootps": {67, protoUDP}, "bootpc": {68, protoUDP},
	"tftp": {69, protoUDP}, "finger": {79, protoTCP}, "http": {80, protoTCP},
	"www": {80, protoTCP}, "kerberos": {88, 0}, "pop3": {110, protoTCP},
	"sunrpc": {111, 0}, "auth": {113, protoTCP}, "nntp": {119, protoTCP},
	"ntp": {123, protoUDP}, "netbios-ns": {137, protoUDP}, "netbios-dgm": {138, protoUDP},
	"netbios-ssn": {139, protoTCP}, "imap2": {143, protoTCP}, "imap": {143, protoTCP},
	"snmp": {161, 0}, "snmp-trap": {162, 0}, "bgp": {179, protoTCP}, "ldap": {389, 0},
	"https": {443, 0}, "microsoft-ds": {445, protoTCP}, "isakmp": {500, protoUDP},
	"syslog": {514, protoUDP}, "submission": {587, protoTCP}, "domain-s": {853, 0},
	"rsync": {873, protoTCP}, "imaps": {993, protoTCP}, "pop3s": {995, protoTCP},
	"socks": {1080, protoTCP}, "openvpn": {1194, 0}, "nfs": {2049, 0},
	"mysql": {3306, protoTCP}, "ms-wbt-server": {3389, protoTCP}, "sip": {5060, 0},
	"xmpp-client": {5222, protoTCP}, "mdns": {5353, protoUDP}, "postgresql": {5432, protoTCP},
	"x11": {6000, protoTCP}, "http-alt": {8080, protoTCP},
}

// ipProtos maps IP protocol names to numbers, as in /etc/protocols.
var ipProtos = map[string]uint32{
	"ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "st": 5, "tcp": 6,
	"egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27,
	"iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41,
	"ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47, "esp": 50,
	"ah": 51, "skip": 57, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73,
	"vmtp": 81, "eigrp": 88, "ospf": 89, "ax.25": 93, "ipip": 94, "etherip": 97,
	"encap": 98, "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115, "isis": 124,
	"sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136, "mpls-in-ip": 137,
	"manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142, "ethernet": 143,
}

// etherProtos maps the EtherType names libpcap knows.
var etherProtos = map[string]uint32{
	"ip": 0x0800, "ip6": 0x86dd, "arp": 0x0806, "rarp": 0x8035, "atalk": 0x809b,
	"aarp": 0x80f3, "decnet": 0x6003, "sca": 0x6007, "lat": 0x6004, "mopdl": 0x6001,
	"moprc": 0x6002, "loopback": 0x9000, "iso": 0xfe, "stp": 0x42, "ipx": 0xe0,
	"netbeui": 0xf0,
}

// genScode handles a name id: port and protocol names, "a-b" port ranges.
// Host and network names are refused: this compiler never resolves names.
func (p *parser) genScode(t token, q qual) (*cond, error) {
	if q.undef {
		return nil, p.errAt(t, "%s needs a qualifier such as 'host' or 'port'", p.text(t))
	}
	name := t.text
	switch q.addr {
	case "", "host":
		if q.proto == "link" {
			return nil, p.errAt(t, "unknown ether host '%s' (this compiler does not resolve names)", name)
		}
		return nil, p.errAt(t, "unknown host '%s' (this compiler does not resolve names; give an address)", name)
	case "net":
		return nil, p.errAt(t, "unknown network '%s' (this compiler does not resolve names)", name)
	case "port":
		pr, err := p.portProto(q, t)
		if err != nil {
			return nil, err
		}
		port, real, err := p.portByName(name, t)
		if err != nil {
			return nil, err
		}
		if pr, err = p.reconcile(pr, real, name, t); err != nil {
			return nil, err
		}
		return p.genPort(port, port, pr, q.dir), nil
	case "portrange":
		pr, err := p.portProto(q, t)
		if err != nil {
			return nil, err
		}
		a, b, ok := strings.Cut(name, "-")
		if !ok {
			return nil, p.errAt(t, "unknown port in range '%s'", name)
		}
		lo, real1, err := p.portByName(a, t)
		if err != nil {
			return nil, err
		}
		hi, real2, err := p.portByName(b, t)
		if err != nil {
			return nil, err
		}
		real := real1
		if real1 != real2 {
			real = 0
		}
		if pr, err = p.reconcile(pr, real, name, t); err != nil {
			return nil, err
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		return p.genPort(lo, hi, pr, q.dir), nil
	case "proto":
		var v uint32
		var ok bool
		switch q.proto {
		case "", "ip", "ip6":
			v, ok = ipProtos[name]
			if !ok {
				return nil, p.errAt(t, "unknown ip proto '%s'", name)
			}
		case "link":
			v, ok = etherProtos[name]
			if !ok {
				return nil, p.errAt(t, "unknown ether proto '%s'", name)
			}
		default:
			return nil, p.errAt(t, "'%s proto' is bogus", q.proto)
		}
		return p.genProto(v, q, t)
	case "protochain":
		return nil, p.errAt(t, "protochain is not supported by this compiler")
	case "gateway":
		return nil, p.errAt(t, "'gateway' needs name resolution, which this compiler does not do")
	}
	return nil, p.errAt(t, "syntax error")
}

// portByName resolves a port number or service name.
func (p *parser) portByName(s string, t token) (uint32, uint32, error) {
	if isNumber(s) {
		v, msg := parseNumber(s)
		if msg != "" {
			return 0, 0, p.errAt(t, "%s", msg)
		}
		if v > 65535 {
			return 0, 0, p.errAt(t, "illegal port number %d > 65535", v)
		}
		return v, 0, nil
	}
	if sv, ok := services[s]; ok {
		return sv.port, sv.proto, nil
	}
	if _, err := strconv.Atoi(s); err == nil {
		return 0, 0, p.errAt(t, "illegal port number %s", s)
	}
	return 0, 0, p.errAt(t, "unknown port '%s'", s)
}

// reconcile combines the protocol qualifier with the protocol of a named
// service, as libpcap does ("udp port ssh" is an error).
func (p *parser) reconcile(qualProto, real uint32, name string, t token) (uint32, error) {
	if real == 0 {
		return qualProto, nil
	}
	if qualProto == 0 {
		return real, nil
	}
	if qualProto != real {
		pn := map[uint32]string{protoTCP: "tcp", protoUDP: "udp", protoSCTP: "sctp"}[real]
		return 0, p.errAt(t, "port '%s' is %s", name, pn)
	}
	return real, nil
}

// genBroadcast is "[ether|ip] broadcast".
func (p *parser) genBroadcast(proto string, t token) (*cond, error) {
	switch proto {
	case "", "link":
		if p.lt != LinkTypeEthernet {
			return nil, p.errAt(t, "not a broadcast link")
		}
		return p.genEhost([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "dst", t)
	case "ip":
		// tcpdump compiles with a netmask of 0 when it has none, so the
		// host part is the whole address.
		dst := p.offLinkPL + 16
		return and(p.linktype(etherIP), or(p.cmp(dst, szW, 0), p.cmp(dst, szW, 0xffffffff))), nil
	}
	return nil, p.errAt(t, "only link-layer/IP broadcast filters supported")
}

// genMulticast is "[ether|ip|ip6] multicast".
func (p *parser) genMulticast(proto string, t token) (*cond, error) {
	switch proto {
	case "", "link":
		if p.lt != LinkTypeEthernet {
			return nil, p.errAt(t, "link-layer multicast filters supported only on ethernet")
		}
		return leaf([]ins{{op: opLD | szB | mABS, k: 0}}, jJSET|srcK, 1), nil
	case "ip":
		return and(p.linktype(etherIP),
			leaf([]ins{{op: opLD | szB | mABS, k: uint32(p.offLinkPL + 16)}}, jJGE|srcK, 224)), nil
	case "ip6":
		return and(p.linktype(etherIPv6), p.cmp(p.offLinkPL+24, szB, 255)), nil
	}
	return nil, p.errAt(t, "link-layer multicast filters supported only on ethernet")
}

// genVLAN is "vlan [id]"; like libpcap, it moves the offsets of everything
// that follows in the expression by the 4 bytes of the tag.
func (p *parser) genVLAN(t token) (*cond, error) {
	if !p.vlanOK {
		return nil, p.errAt(t, "no VLAN support for this link type")
	}
	c := or(or(p.linktype(ether8021Q), p.linktype(ether8021AD)), p.linktype(ether9100))
	if n := p.tok(); n.kind == tNum {
		p.next()
		if n.num > 4095 {
			return nil, p.errAt(n, "VLAN tag %d greater than maximum 4095", n.num)
		}
		c = and(c, p.mcmp(p.offLinkPL, szH, n.num, 0x0fff))
	}
	p.offLinkPL += 4
	p.offLinkType += 4
	return c, nil
}

// genInbound is "inbound"/"outbound", known only to Linux cooked captures.
func (p *parser) genInbound(t token) (*cond, error) {
	var c *cond
	switch p.lt {
	case LinkTypeLinuxSLL:
		c = p.cmp(0, szH, sllOutgoing)
	case LinkTypeLinuxSLL2:
		c = p.cmp(10, szB, sllOutgoing)
	default:
		return nil, p.errAt(t, "%s is supported only on Linux cooked captures (LINUX_SLL, LINUX_SLL2)", p.text(t))
	}
	if t.text == "inbound" {
		return not(c), nil
	}
	return c, nil
}
