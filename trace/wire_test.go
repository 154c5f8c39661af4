package trace

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sonde/packet"
)

var (
	src4 = netip.MustParseAddr("198.18.0.1")
	dst4 = netip.MustParseAddr("198.18.200.1")
	rtr4 = netip.MustParseAddr("198.18.3.2")
	src6 = netip.MustParseAddr("2001:2::1")
	dst6 = netip.MustParseAddr("2001:2:0:c8::1")
	rtr6 = netip.MustParseAddr("2001:2:0:3::2")
)

// icmpError builds what a router sends back: an IPv4 packet with an ICMP
// error (type, code) quoting probe, optionally with RFC 4884 extensions.
func icmpError(from, to netip.Addr, typ, code byte, probe []byte, ext []byte) []byte {
	q := probe
	if len(ext) > 0 {
		q = append(slices.Clone(probe), make([]byte, 128-len(probe))...)
	}
	icmp := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, q...)
	if len(ext) > 0 {
		icmp[5] = byte(len(q) / 4)
		icmp = append(icmp, ext...)
	}
	binary.BigEndian.PutUint16(icmp[2:], ^packet.Fold(packet.Sum(0, icmp)))
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(icmp)))
	ip[8], ip[9] = 64, protoICMP
	a, b := from.As4(), to.As4()
	copy(ip[12:], a[:])
	copy(ip[16:], b[:])
	return append(ip, icmp...)
}

// icmp6Error is the ICMPv6 message (no IPv6 header, as a raw socket reads).
func icmp6Error(typ, code byte, probe []byte) []byte {
	return append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, probe...)
}

func checksumOK(t *testing.T, k *flowKey, p []byte) {
	t.Helper()
	hl, proto := 20, p[9]
	if k.dst.Is6() {
		hl, proto = 40, p[6]
	}
	l4 := p[hl:]
	s := packet.Sum(0, l4)
	if proto != protoICMP {
		s += packet.PseudoSum(k.src, k.dst, proto, len(l4))
	}
	if packet.Fold(s) != 0xffff {
		t.Errorf("%v: bad transport checksum (sum %#x)", k.method, packet.Fold(s))
	}
	if !k.dst.Is6() && packet.Fold(packet.Sum(0, p[:20])) != 0xffff {
		t.Errorf("%v: bad IPv4 header checksum", k.method)
	}
}

// TestParisFlowConstant: in Paris mode, what routers hash (addresses,
// protocol, ports; ICMP type, code, checksum and identifier) is the same
// for every probe, while the token differs; every checksum is valid.
func TestParisFlowConstant(t *testing.T) {
	for _, addrs := range [][2]netip.Addr{{src4, dst4}, {src6, dst6}} {
		for _, m := range []Method{UDP, ICMP, TCP} {
			k := &flowKey{src: addrs[0], dst: addrs[1], method: m, sport: 40000, dport: 33434, tcpNonce: 7, icmpSumFix: 0xbeef}
			hl := 20
			if addrs[1].Is6() {
				hl = 40
			}
			var first []byte
			for tok := uint16(1); tok < 400; tok += 37 {
				b := make([]byte, 128)
				n := k.build(b, 5, tok)
				p := b[:n]
				checksumOK(t, k, p)
				flow := slices.Clone(p[hl : hl+4]) // ports, or ICMP type, code, checksum
				if m == ICMP {
					flow = append(flow, p[hl+4:hl+6]...)
				}
				if first == nil {
					first = flow
				} else if !slices.Equal(flow, first) {
					t.Errorf("%v %v token %d: flow bytes % x, first % x", m, addrs[1], tok, flow, first)
				}
				var r reply
				if !quote(p, addrs[1].Is6(), &r) || r.token != tok {
					t.Errorf("%v %v: token %d read back as %d", m, addrs[1], tok, r.token)
				}
			}
		}
	}
}

// TestClassicVariesFlow: classic mode varies the UDP destination port and
// the ICMP checksum, as traceroute does.
func TestClassicVariesFlow(t *testing.T) {
	k := &flowKey{src: src4, dst: dst4, method: UDP, sport: 40000, dport: 33434, classic: true}
	b := make([]byte, 128)
	k.build(b, 1, 1)
	p1 := binary.BigEndian.Uint16(b[22:])
	k.build(b, 1, 2)
	if p2 := binary.BigEndian.Uint16(b[22:]); p1 != 33434 || p2 != 33435 {
		t.Errorf("classic UDP ports %d, %d; want 33434, 33435", p1, p2)
	}
	k = &flowKey{src: src4, dst: dst4, method: ICMP, sport: 9, classic: true}
	k.build(b, 1, 1)
	c1 := binary.BigEndian.Uint16(b[22:])
	checksumOK(t, k, b[:60])
	k.build(b, 1, 2)
	if c2 := binary.BigEndian.Uint16(b[22:]); c1 == c2 {
		t.Errorf("classic ICMP checksum constant %#x", c1)
	}
}

// TestParseReplies: time exceeded and unreachables from routers and the
// destination, echo replies and TCP answers are read, with the token of the
// probe they answer, over IPv4 and IPv6.
func TestParseReplies(t *testing.T) {
	b := make([]byte, 128)
	k := &flowKey{src: src4, dst: dst4, method: UDP, sport: 40000, dport: 33434}
	n := k.build(b, 4, 77)
	var r reply
	if !parseV4(icmpError(rtr4, src4, 11, 0, b[:28], nil), &r) {
		t.Fatal("time exceeded not parsed")
	}
	want := reply{kind: kindTimeExceed, from: rtr4, token: 77, qsrc: src4, qdst: dst4, qproto: protoUDP, sport: 40000, dport: 33434, ttl: 4}
	if diff := cmp.Diff(want, r, cmp.AllowUnexported(reply{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("time exceeded (-want +got):\n%s", diff)
	}
	if !parseV4(icmpError(dst4, src4, 3, 3, b[:n], nil), &r) || r.kind != kindUnreachable || r.code != 3 || r.token != 77 {
		t.Errorf("port unreachable: %+v", r)
	}
	// TCP: the destination's SYN-ACK acknowledges the token's sequence.
	k = &flowKey{src: src4, dst: dst4, method: TCP, sport: 40000, dport: 80, tcpNonce: 5}
	k.build(b, 9, 300)
	seq := binary.BigEndian.Uint32(b[24:])
	seg := make([]byte, 40)
	seg[0] = 0x45
	seg[8], seg[9] = 60, protoTCP
	copy(seg[12:], b[16:20])
	copy(seg[16:], b[12:16])
	binary.BigEndian.PutUint16(seg[20:], 80)
	binary.BigEndian.PutUint16(seg[22:], 40000)
	binary.BigEndian.PutUint32(seg[28:], seq+1)
	seg[33] = 0x12
	if !parseV4(seg, &r) || r.kind != kindTCP || r.token != 300 || r.tcpNonce != 5 || r.sport != 40000 || r.dport != 80 || r.ttl != 60 {
		t.Errorf("SYN-ACK: %+v", r)
	}
	seg[33] = 0x10 // a bare ACK answers nothing
	if parseV4(seg, &r) {
		t.Error("a bare ACK parsed as an answer")
	}
	// IPv6: time exceeded (3) and port unreachable (1/4), ICMPv6 echo.
	k = &flowKey{src: src6, dst: dst6, method: ICMP, sport: 9, icmpSumFix: 0xbeef}
	n = k.build(b, 3, 1234)
	if !parseV6(icmp6Error(3, 0, b[:n]), protoICMPv6, rtr6, src6, &r) || r.kind != kindTimeExceed || r.token != 1234 || r.sport != 9 || r.qdst != dst6 {
		t.Errorf("ICMPv6 time exceeded: %+v", r)
	}
	echo := slices.Clone(b[40:n])
	echo[0] = 129
	if !parseV6(echo, protoICMPv6, dst6, src6, &r) || r.kind != kindEchoReply || r.token != 1234 || r.from != dst6 {
		t.Errorf("ICMPv6 echo reply: %+v", r)
	}
}

// TestMPLSExtension: an RFC 4950 label stack in an RFC 4884 extension is
// read, and a broken extension is ignored.
func TestMPLSExtension(t *testing.T) {
	b := make([]byte, 128)
	k := &flowKey{src: src4, dst: dst4, method: UDP, sport: 40000, dport: 33434}
	k.build(b, 4, 9)
	// Version 2 header, then one object: length 12, class 1, C-type 1,
	// two entries: label 16005 TC 0 S 0 TTL 1, label 24 TC 5 S 1 TTL 255.
	ext := []byte{0x20, 0, 0, 0, 0, 12, 1, 1}
	ext = binary.BigEndian.AppendUint32(ext, 16005<<12|0<<9|0<<8|1)
	ext = binary.BigEndian.AppendUint32(ext, 24<<12|5<<9|1<<8|255)
	var r reply
	if !parseV4(icmpError(rtr4, src4, 11, 0, b[:28], ext), &r) {
		t.Fatal("not parsed")
	}
	want := []MPLSLabel{{Label: 16005, TTL: 1}, {Label: 24, TC: 5, S: true, TTL: 255}}
	if diff := cmp.Diff(want, r.mpls); diff != "" || r.token != 9 {
		t.Errorf("labels (-want +got):\n%s (token %d)", diff, r.token)
	}
	ext[5] = 200 // an object longer than the message
	if !parseV4(icmpError(rtr4, src4, 11, 0, b[:28], ext), &r) || len(r.mpls) != 0 {
		t.Errorf("broken extension: %+v", r.mpls)
	}
}

func FuzzParse(f *testing.F) {
	b := make([]byte, 128)
	k := &flowKey{src: src4, dst: dst4, method: UDP, sport: 40000, dport: 33434}
	n := k.build(b, 4, 77)
	f.Add(icmpError(rtr4, src4, 11, 0, b[:n], nil), false)
	f.Add(icmpError(rtr4, src4, 11, 0, b[:28], []byte{0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0x41, 1}), false)
	k = &flowKey{src: src6, dst: dst6, method: ICMP, sport: 9}
	n = k.build(b, 3, 1234)
	f.Add(icmp6Error(3, 0, b[:n]), true)
	f.Fuzz(func(t *testing.T, p []byte, v6 bool) {
		var r reply
		if v6 {
			parseV6(p, protoICMPv6, rtr6, src6, &r)
			parseV6(p, protoTCP, rtr6, src6, &r)
		} else {
			parseV4(p, &r)
		}
	})
}

// TestNoAllocs: building a probe and parsing a reply allocate nothing.
func TestNoAllocs(t *testing.T) {
	b := make([]byte, 128)
	k := &flowKey{src: src4, dst: dst4, method: UDP, sport: 40000, dport: 33434}
	n := k.build(b, 4, 77)
	msg := icmpError(rtr4, src4, 11, 0, b[:n], nil)
	var r reply
	tok := uint16(1)
	if a := testing.AllocsPerRun(100, func() {
		tok++
		k.build(b, 4, tok)
		parseV4(msg, &r)
	}); a != 0 {
		t.Errorf("%v allocations per probe and reply", a)
	}
}

func BenchmarkBuild(b *testing.B) {
	buf := make([]byte, 128)
	k := &flowKey{src: src6, dst: dst6, method: ICMP, sport: 9, icmpSumFix: 0xbeef}
	b.ReportAllocs()
	tok := uint16(0)
	for b.Loop() {
		tok = tok%0xfffe + 1
		k.build(buf, 5, tok)
	}
}

func BenchmarkParse(b *testing.B) {
	buf := make([]byte, 128)
	k := &flowKey{src: src4, dst: dst4, method: UDP, sport: 40000, dport: 33434}
	n := k.build(buf, 4, 77)
	msg := icmpError(rtr4, src4, 11, 0, buf[:n], nil)
	var r reply
	b.ReportAllocs()
	for b.Loop() {
		parseV4(msg, &r)
	}
}
