package packet

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// kind is how a field's value is written in an expression.
type kind uint8

const (
	kUint     kind = iota // a number, or one of the field's names
	kIPv4                 // an IPv4 address, a CIDR prefix or a host name
	kIPv6                 // an IPv6 address, a CIDR prefix or a host name
	kMAC                  // a hardware address
	kBytes                // a string
	kTCPFlags             // "SA", "FPU" or a number
	kIPFlags              // "DF", "MF", "MF+DF" or a number
	kQD                   // a DNSQR(...) question (DNS only)
)

// fieldDef describes one field of a layer as the expression language names it.
type fieldDef struct {
	name  string
	kind  kind
	max   uint64            // largest number accepted (kUint, kTCPFlags, kIPFlags)
	names map[string]uint64 // symbolic values (kUint)
	group string            // "qd" for the fields of DNS's DNSQR question
	set   func(l *inst, s *scalar)
}

// layerDef describes one layer of the expression language.
type layerDef struct {
	name   string
	fields []*fieldDef
	build  func() *inst
}

func (d *layerDef) field(name string) *fieldDef {
	for _, f := range d.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

// scalar is one concrete value of a field, after expansion.
type scalar struct {
	n    uint64
	addr netip.Addr
	b    string
	mac  [6]byte
	name string // an unresolved host name (addr is invalid then)
}

// inst is one built layer: the gopacket structs it serialises to, with
// backing storage for addresses so that setting a field never allocates.
type inst struct {
	def      *layerDef
	ser      []gopacket.SerializableLayer
	explicit uint32 // bit i set: field i of def was given in the expression
	srcSet   bool   // the source address (IP src, ARP psrc) was given
	hwsrcSet bool   // the source MAC (Ether src, ARP hwsrc) was given
	dstSet   bool   // the link destination (Ether dst) was given
	// length and checksum values given explicitly (see serialise)
	lenVal, ckVal uint16
	noNet         bool // no network layer below: no transport checksum
	a, b          [16]byte
	ma, mb        [6]byte
	name          []byte
	icmp6rest     rest4
}

func (l *inst) has(f string) bool {
	for i, fd := range l.def.fields {
		if fd.name == f {
			return l.explicit&(1<<i) != 0
		}
	}
	return false
}

// rest4 is the 4 type-specific bytes after an ICMPv6 header (unused, MTU or
// pointer) for ICMPv6 messages other than echo.
type rest4 struct {
	layers.BaseLayer
	v uint32
}

var layerTypeRest4 = gopacket.RegisterLayerType(1975, gopacket.LayerTypeMetadata{Name: "ICMPv6Rest"})

func (r *rest4) LayerType() gopacket.LayerType { return layerTypeRest4 }

func (r *rest4) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(4)
	if err != nil {
		return err
	}
	p[0], p[1], p[2], p[3] = byte(r.v>>24), byte(r.v>>16), byte(r.v>>8), byte(r.v)
	return nil
}

// Symbolic names accepted for numeric fields, as Scapy spells them.
var (
	icmpTypes = map[string]uint64{
		"echo-reply": 0, "dest-unreach": 3, "source-quench": 4, "redirect": 5,
		"echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
		"time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13,
		"timestamp-reply": 14, "information-request": 15, "information-response": 16,
		"address-mask-request": 17, "address-mask-reply": 18,
	}
	icmpv6Types = map[string]uint64{
		"dest-unreach": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
		"echo-request": 128, "echo-reply": 129, "router-solicitation": 133,
		"router-advertisement": 134, "neighbor-solicitation": 135,
		"neighbor-advertisement": 136, "redirect": 137,
	}
	ipProtos = map[string]uint64{
		"hopopt": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "tcp": 6, "udp": 17,
		"ipv6": 41, "gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58,
		"sctp": 132,
	}
	etherTypes = map[string]uint64{"IPv4": 0x0800, "ARP": 0x0806, "IPv6": 0x86dd, "n_802_1Q": 0x8100}
	arpOps     = map[string]uint64{"who-has": 1, "is-at": 2, "RARP-req": 3, "RARP-rep": 4}
	dnsTypes   = map[string]uint64{
		"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15,
		"TXT": 16, "AAAA": 28, "SRV": 33, "NAPTR": 35, "DS": 43, "RRSIG": 46,
		"NSEC": 47, "DNSKEY": 48, "HTTPS": 65, "SVCB": 64, "CAA": 257, "ANY": 255,
		"AXFR": 252, "IXFR": 251, "OPT": 41,
	}
	dnsClasses = map[string]uint64{"IN": 1, "CS": 2, "CH": 3, "HS": 4, "ANY": 255}
	bools      = map[string]uint64{"False": 0, "True": 1}
)

func u(name string, bits uint, names map[string]uint64, set func(l *inst, s *scalar)) *fieldDef {
	return &fieldDef{name: name, kind: kUint, max: 1<<bits - 1, names: names, set: set}
}

// putAddr stores a in backing storage and returns it as a net.IP slice.
func putAddr(buf *[16]byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		copy(buf[:4], v[:])
		return buf[:4]
	}
	v := a.As16()
	*buf = v
	return buf[:16]
}

func eth(l *inst) *layers.Ethernet { return l.ser[0].(*layers.Ethernet) }
func arp(l *inst) *layers.ARP      { return l.ser[0].(*layers.ARP) }
func ip4(l *inst) *layers.IPv4     { return l.ser[0].(*layers.IPv4) }
func ip6(l *inst) *layers.IPv6     { return l.ser[0].(*layers.IPv6) }
func icmp4(l *inst) *layers.ICMPv4 { return l.ser[0].(*layers.ICMPv4) }
func icmp6(l *inst) *layers.ICMPv6 { return l.ser[0].(*layers.ICMPv6) }
func tcp(l *inst) *layers.TCP      { return l.ser[0].(*layers.TCP) }
func udp(l *inst) *layers.UDP      { return l.ser[0].(*layers.UDP) }
func dns(l *inst) *layers.DNS      { return l.ser[0].(*layers.DNS) }
func raw(l *inst) *gopacket.Payload {
	return l.ser[0].(*gopacket.Payload)
}

// setICMPv6Rest sets the id (high 16 bits) or seq (low 16 bits) of an ICMPv6
// message, whichever layer carries them.
func setICMPv6Rest(l *inst, hi bool, v uint16) {
	if len(l.ser) > 1 {
		if e, ok := l.ser[1].(*layers.ICMPv6Echo); ok {
			if hi {
				e.Identifier = v
			} else {
				e.SeqNumber = v
			}
			return
		}
	}
	if hi {
		l.icmp6rest.v = l.icmp6rest.v&0xffff | uint32(v)<<16
	} else {
		l.icmp6rest.v = l.icmp6rest.v&0xffff0000 | uint32(v)
	}
}

var defs map[string]*layerDef

func init() {
	ether := &layerDef{name: "Ether", build: func() *inst {
		return &inst{ser: []gopacket.SerializableLayer{&layers.Ethernet{EthernetType: layers.EthernetTypeIPv4}}}
	}}
	ether.fields = []*fieldDef{
		{name: "dst", kind: kMAC, set: func(l *inst, s *scalar) { l.ma = s.mac; eth(l).DstMAC = l.ma[:] }},
		{name: "src", kind: kMAC, set: func(l *inst, s *scalar) { l.mb = s.mac; eth(l).SrcMAC = l.mb[:] }},
		u("type", 16, etherTypes, func(l *inst, s *scalar) { eth(l).EthernetType = layers.EthernetType(s.n) }),
	}

	arpd := &layerDef{name: "ARP", build: func() *inst {
		l := &inst{ser: []gopacket.SerializableLayer{&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
		}}}
		a := arp(l)
		a.DstHwAddress = l.mb[:]
		a.DstProtAddress = l.b[:4]
		return l
	}}
	arpd.fields = []*fieldDef{
		u("hwtype", 16, nil, func(l *inst, s *scalar) { arp(l).AddrType = layers.LinkType(s.n) }),
		u("ptype", 16, etherTypes, func(l *inst, s *scalar) { arp(l).Protocol = layers.EthernetType(s.n) }),
		u("hwlen", 8, nil, func(l *inst, s *scalar) { arp(l).HwAddressSize = uint8(s.n) }),
		u("plen", 8, nil, func(l *inst, s *scalar) { arp(l).ProtAddressSize = uint8(s.n) }),
		u("op", 16, arpOps, func(l *inst, s *scalar) { arp(l).Operation = uint16(s.n) }),
		{name: "hwsrc", kind: kMAC, set: func(l *inst, s *scalar) { l.ma = s.mac; arp(l).SourceHwAddress = l.ma[:] }},
		{name: "psrc", kind: kIPv4, set: func(l *inst, s *scalar) { arp(l).SourceProtAddress = putAddr(&l.a, s.addr4()) }},
		{name: "hwdst", kind: kMAC, set: func(l *inst, s *scalar) { l.mb = s.mac; arp(l).DstHwAddress = l.mb[:] }},
		{name: "pdst", kind: kIPv4, set: func(l *inst, s *scalar) { arp(l).DstProtAddress = putAddr(&l.b, s.addr4()) }},
	}

	ipd := &layerDef{name: "IP", build: func() *inst {
		l := &inst{ser: []gopacket.SerializableLayer{&layers.IPv4{
			Version: 4, IHL: 5, Id: 1, TTL: 64, Protocol: 0,
		}}}
		ip4(l).DstIP = putAddr(&l.b, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
		return l
	}}
	ipd.fields = []*fieldDef{
		u("version", 4, nil, func(l *inst, s *scalar) { ip4(l).Version = uint8(s.n) }),
		u("ihl", 4, nil, func(l *inst, s *scalar) { ip4(l).IHL = uint8(s.n) }),
		u("tos", 8, nil, func(l *inst, s *scalar) { ip4(l).TOS = uint8(s.n) }),
		u("len", 16, nil, func(l *inst, s *scalar) { l.lenVal = uint16(s.n) }),
		u("id", 16, nil, func(l *inst, s *scalar) { ip4(l).Id = uint16(s.n) }),
		{name: "flags", kind: kIPFlags, max: 7, set: func(l *inst, s *scalar) { ip4(l).Flags = layers.IPv4Flag(s.n) }},
		u("frag", 13, nil, func(l *inst, s *scalar) { ip4(l).FragOffset = uint16(s.n) }),
		u("ttl", 8, nil, func(l *inst, s *scalar) { ip4(l).TTL = uint8(s.n) }),
		u("proto", 8, ipProtos, func(l *inst, s *scalar) { ip4(l).Protocol = layers.IPProtocol(s.n) }),
		u("chksum", 16, nil, func(l *inst, s *scalar) { l.ckVal = uint16(s.n) }),
		{name: "src", kind: kIPv4, set: func(l *inst, s *scalar) { ip4(l).SrcIP = putAddr(&l.a, s.addr4()) }},
		{name: "dst", kind: kIPv4, set: func(l *inst, s *scalar) { ip4(l).DstIP = putAddr(&l.b, s.addr4()) }},
	}

	ip6d := &layerDef{name: "IPv6", build: func() *inst {
		l := &inst{ser: []gopacket.SerializableLayer{&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolNoNextHeader}}}
		ip6(l).DstIP = putAddr(&l.b, netip.IPv6Loopback())
		return l
	}}
	ip6d.fields = []*fieldDef{
		u("version", 4, nil, func(l *inst, s *scalar) { ip6(l).Version = uint8(s.n) }),
		u("tc", 8, nil, func(l *inst, s *scalar) { ip6(l).TrafficClass = uint8(s.n) }),
		u("fl", 20, nil, func(l *inst, s *scalar) { ip6(l).FlowLabel = uint32(s.n) }),
		u("plen", 16, nil, func(l *inst, s *scalar) { l.lenVal = uint16(s.n) }),
		u("nh", 8, ipProtos, func(l *inst, s *scalar) { ip6(l).NextHeader = layers.IPProtocol(s.n) }),
		u("hlim", 8, nil, func(l *inst, s *scalar) { ip6(l).HopLimit = uint8(s.n) }),
		{name: "src", kind: kIPv6, set: func(l *inst, s *scalar) { ip6(l).SrcIP = putAddr(&l.a, s.addr6()) }},
		{name: "dst", kind: kIPv6, set: func(l *inst, s *scalar) { ip6(l).DstIP = putAddr(&l.b, s.addr6()) }},
	}

	icmpd := &layerDef{name: "ICMP", build: func() *inst {
		return &inst{ser: []gopacket.SerializableLayer{&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}}}
	}}
	icmpd.fields = []*fieldDef{
		u("type", 8, icmpTypes, func(l *inst, s *scalar) {
			i := icmp4(l)
			i.TypeCode = layers.CreateICMPv4TypeCode(uint8(s.n), i.TypeCode.Code())
		}),
		u("code", 8, nil, func(l *inst, s *scalar) {
			i := icmp4(l)
			i.TypeCode = layers.CreateICMPv4TypeCode(i.TypeCode.Type(), uint8(s.n))
		}),
		u("chksum", 16, nil, func(l *inst, s *scalar) { l.ckVal = uint16(s.n) }),
		u("id", 16, nil, func(l *inst, s *scalar) { icmp4(l).Id = uint16(s.n) }),
		u("seq", 16, nil, func(l *inst, s *scalar) { icmp4(l).Seq = uint16(s.n) }),
	}

	icmp6fields := func() []*fieldDef {
		return []*fieldDef{
			u("type", 8, icmpv6Types, func(l *inst, s *scalar) {
				i := icmp6(l)
				i.TypeCode = layers.CreateICMPv6TypeCode(uint8(s.n), i.TypeCode.Code())
			}),
			u("code", 8, nil, func(l *inst, s *scalar) {
				i := icmp6(l)
				i.TypeCode = layers.CreateICMPv6TypeCode(i.TypeCode.Type(), uint8(s.n))
			}),
			u("cksum", 16, nil, func(l *inst, s *scalar) { l.ckVal = uint16(s.n) }),
			u("id", 16, nil, func(l *inst, s *scalar) { setICMPv6Rest(l, true, uint16(s.n)) }),
			u("seq", 16, nil, func(l *inst, s *scalar) { setICMPv6Rest(l, false, uint16(s.n)) }),
		}
	}
	echo6 := func(name string, typ uint8) *layerDef {
		d := &layerDef{name: name, fields: icmp6fields(), build: func() *inst {
			return &inst{ser: []gopacket.SerializableLayer{
				&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}, &layers.ICMPv6Echo{},
			}}
		}}
		return d
	}
	icmp6d := &layerDef{name: "ICMPv6", fields: icmp6fields(), build: func() *inst {
		l := &inst{ser: []gopacket.SerializableLayer{&layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}}}
		l.ser = append(l.ser, &l.icmp6rest)
		return l
	}}

	tcpd := &layerDef{name: "TCP", build: func() *inst {
		return &inst{ser: []gopacket.SerializableLayer{&layers.TCP{
			SrcPort: 20, DstPort: 80, SYN: true, Window: 8192, DataOffset: 5,
		}}}
	}}
	tcpd.fields = []*fieldDef{
		u("sport", 16, nil, func(l *inst, s *scalar) { tcp(l).SrcPort = layers.TCPPort(s.n) }),
		u("dport", 16, nil, func(l *inst, s *scalar) { tcp(l).DstPort = layers.TCPPort(s.n) }),
		u("seq", 32, nil, func(l *inst, s *scalar) { tcp(l).Seq = uint32(s.n) }),
		u("ack", 32, nil, func(l *inst, s *scalar) { tcp(l).Ack = uint32(s.n) }),
		u("dataofs", 4, nil, func(l *inst, s *scalar) { tcp(l).DataOffset = uint8(s.n) }),
		u("reserved", 3, nil, func(l *inst, s *scalar) {}),
		{name: "flags", kind: kTCPFlags, max: 0x1ff, set: func(l *inst, s *scalar) { setTCPFlags(tcp(l), uint16(s.n)) }},
		u("window", 16, nil, func(l *inst, s *scalar) { tcp(l).Window = uint16(s.n) }),
		u("chksum", 16, nil, func(l *inst, s *scalar) { l.ckVal = uint16(s.n) }),
		u("urgptr", 16, nil, func(l *inst, s *scalar) { tcp(l).Urgent = uint16(s.n) }),
	}

	udpd := &layerDef{name: "UDP", build: func() *inst {
		return &inst{ser: []gopacket.SerializableLayer{&layers.UDP{SrcPort: 53, DstPort: 53}}}
	}}
	udpd.fields = []*fieldDef{
		u("sport", 16, nil, func(l *inst, s *scalar) { udp(l).SrcPort = layers.UDPPort(s.n) }),
		u("dport", 16, nil, func(l *inst, s *scalar) { udp(l).DstPort = layers.UDPPort(s.n) }),
		u("len", 16, nil, func(l *inst, s *scalar) { l.lenVal = uint16(s.n) }),
		u("chksum", 16, nil, func(l *inst, s *scalar) { l.ckVal = uint16(s.n) }),
	}

	dnsd := &layerDef{name: "DNS", build: func() *inst {
		l := &inst{ser: []gopacket.SerializableLayer{&layers.DNS{RD: true}}}
		d := dns(l)
		d.Questions = []layers.DNSQuestion{{Name: []byte("www.example.com"), Type: 1, Class: 1}}
		return l
	}}
	dnsBit := func(name string, set func(d *layers.DNS, v bool)) *fieldDef {
		return u(name, 1, bools, func(l *inst, s *scalar) { set(dns(l), s.n != 0) })
	}
	dnsd.fields = []*fieldDef{
		u("id", 16, nil, func(l *inst, s *scalar) { dns(l).ID = uint16(s.n) }),
		dnsBit("qr", func(d *layers.DNS, v bool) { d.QR = v }),
		u("opcode", 4, nil, func(l *inst, s *scalar) { dns(l).OpCode = layers.DNSOpCode(s.n) }),
		dnsBit("aa", func(d *layers.DNS, v bool) { d.AA = v }),
		dnsBit("tc", func(d *layers.DNS, v bool) { d.TC = v }),
		dnsBit("rd", func(d *layers.DNS, v bool) { d.RD = v }),
		dnsBit("ra", func(d *layers.DNS, v bool) { d.RA = v }),
		u("z", 3, nil, func(l *inst, s *scalar) { dns(l).Z = uint8(s.n) }),
		u("rcode", 4, nil, func(l *inst, s *scalar) { dns(l).ResponseCode = layers.DNSResponseCode(s.n) }),
		{name: "qd", kind: kQD},
		{name: "qname", kind: kBytes, group: "qd", set: func(l *inst, s *scalar) {
			l.name = append(l.name[:0], s.b...)
			dns(l).Questions[0].Name = l.name
		}},
		{name: "qtype", kind: kUint, max: 0xffff, names: dnsTypes, group: "qd", set: func(l *inst, s *scalar) {
			dns(l).Questions[0].Type = layers.DNSType(s.n)
		}},
		{name: "qclass", kind: kUint, max: 0xffff, names: dnsClasses, group: "qd", set: func(l *inst, s *scalar) {
			dns(l).Questions[0].Class = layers.DNSClass(s.n)
		}},
	}

	rawd := &layerDef{name: "Raw", build: func() *inst {
		p := gopacket.Payload(nil)
		return &inst{ser: []gopacket.SerializableLayer{&p}}
	}}
	rawd.fields = []*fieldDef{
		{name: "load", kind: kBytes, set: func(l *inst, s *scalar) {
			l.name = append(l.name[:0], s.b...)
			*raw(l) = l.name
		}},
	}

	defs = map[string]*layerDef{}
	for _, d := range []*layerDef{ether, arpd, ipd, ip6d, icmpd, icmp6d,
		echo6("ICMPv6EchoRequest", 128), echo6("ICMPv6EchoReply", 129),
		tcpd, udpd, dnsd, rawd} {
		defs[d.name] = d
	}
}

// nameOf returns the preferred symbolic name of v in names, or "".
func nameOf(names map[string]uint64, v uint64) string {
	best := ""
	for k, n := range names {
		if n == v && (best == "" || len(k) < len(best) || len(k) == len(best) && k < best) {
			best = k
		}
	}
	return best
}

func setTCPFlags(t *layers.TCP, f uint16) {
	t.FIN = f&0x01 != 0
	t.SYN = f&0x02 != 0
	t.RST = f&0x04 != 0
	t.PSH = f&0x08 != 0
	t.ACK = f&0x10 != 0
	t.URG = f&0x20 != 0
	t.ECE = f&0x40 != 0
	t.CWR = f&0x80 != 0
	t.NS = f&0x100 != 0
}

func tcpFlags(t *layers.TCP) uint16 {
	var f uint16
	for i, b := range [...]bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR, t.NS} {
		if b {
			f |= 1 << i
		}
	}
	return f
}

func (s *scalar) addr4() netip.Addr {
	if s.addr.Is4() {
		return s.addr
	}
	return netip.IPv4Unspecified()
}

func (s *scalar) addr6() netip.Addr {
	if s.addr.Is6() {
		return s.addr
	}
	return netip.IPv6Unspecified()
}
