package scan

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"sonde/packet"
)

func BenchmarkPermutation(b *testing.B) {
	p := NewPermutation(65536*65536, 1)
	b.ReportAllocs()
	var i, sink uint64
	for b.Loop() {
		sink ^= p.At(i)
		i++
	}
	_ = sink
}

var (
	testLink = newLink(net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2},
		netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("2001:2::1"))
	testLocals = locals{v4: 0xc6120001, v6: netip.MustParseAddr("2001:2::1").As16()}
	target4    = netip.MustParseAddr("198.18.0.2")
	target6    = netip.MustParseAddr("2001:2::2")
)

func BenchmarkBuildProbe(b *testing.B) {
	for _, dst := range []netip.Addr{target4, target6} {
		b.Run(dst.String(), func(b *testing.B) {
			k := sipKey{1, 2}
			buf := make([]byte, maxFrameLen)
			b.ReportAllocs()
			var i uint64
			for b.Loop() {
				sport := k.srcPort(i, 0)
				c := k.cookie(dst, uint16(i), sport)
				p := probeSpec{dst: dst, dport: uint16(i), sport: sport, cookie: c, id: uint16(c), proto: TCP, flags: 0x02}
				buildFrame(buf, &testLink, &p)
				i++
			}
		})
	}
}

func BenchmarkParseReply(b *testing.B) {
	f := synAck(target4)
	var r reply
	b.ReportAllocs()
	for b.Loop() {
		parseReply(f, &testLocals, &r)
	}
}

// synAck is a SYN-ACK from the target's port 22 to our port 61000, with
// the acknowledgment number 8.
func synAck(from netip.Addr) []byte {
	l := newLink(net.HardwareAddr{2, 0, 0, 0, 0, 2}, net.HardwareAddr{2, 0, 0, 0, 0, 1}, target4, target6)
	to := netip.MustParseAddr("198.18.0.1")
	if from.Is6() {
		to = netip.MustParseAddr("2001:2::1")
	}
	f := make([]byte, maxFrameLen)
	n := buildFrame(f, &l, &probeSpec{dst: to, dport: 61000, sport: 22, cookie: 7, id: 1, proto: TCP, flags: 0x12})
	f = f[:n]
	binary.BigEndian.PutUint32(f[n-20+8:], 8) // ack 8 (the checksum no longer matters)
	return f
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	p := NewPermutation(1<<32, 1)
	k := sipKey{1, 2}
	buf := make([]byte, maxFrameLen)
	var pb [maxPayload]byte
	var r reply
	for _, dst := range []netip.Addr{target4, target6} {
		f := synAck(dst)
		n := testing.AllocsPerRun(1000, func() {
			idx := p.At(12345)
			sport := k.srcPort(idx, 1)
			c := k.cookie(dst, 80, sport)
			buildFrame(buf, &testLink, &probeSpec{dst: dst, dport: 80, sport: sport, cookie: c, proto: TCP, flags: 2})
			buildFrame(buf, &testLink, &probeSpec{dst: dst, dport: 53, sport: sport, cookie: c, proto: UDP, payload: udpPayload(pb[:], 53, c)})
			parseReply(f, &testLocals, &r)
		})
		if n != 0 {
			t.Errorf("%v: %v allocations per probe and reply", dst, n)
		}
	}
}

func TestPermutationIsABijection(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 100, 1000, 65537} {
		p := NewPermutation(n, 42)
		seen := make([]bool, n)
		for i := range n {
			v := p.At(i)
			if v >= n || seen[v] {
				t.Fatalf("n=%d: At(%d)=%d repeated or out of range", n, i, v)
			}
			seen[v] = true
		}
		if n >= 100 {
			q := NewPermutation(n, 43)
			same := 0
			for i := range n {
				if p.At(i) == q.At(i) {
					same++
				}
			}
			if same > int(n/10) {
				t.Errorf("n=%d: seeds 42 and 43 agree on %d positions", n, same)
			}
		}
	}
}

func TestShardsPartition(t *testing.T) {
	for _, total := range []uint64{0, 1, 10, 1001} {
		for _, n := range []uint64{1, 2, 3, 7} {
			var sum uint64
			seen := map[uint64]bool{}
			for i := range n {
				s := Shard{I: i, N: n}
				for j := range s.positions(total) {
					pos := s.position(j)
					if pos >= total || seen[pos] {
						t.Fatalf("total %d shard %d/%d: position %d repeated or out of range", total, i, n, pos)
					}
					seen[pos] = true
				}
				sum += s.positions(total)
			}
			if sum != total {
				t.Errorf("total %d in %d shards: %d positions", total, n, sum)
			}
		}
	}
}

// TestProbeChecksums: every kind of probe frame has checksums that
// verify (IPv4 header; TCP and UDP over the IPv4 or IPv6 pseudo-header),
// and the lengths the headers give are the frame's.
func TestProbeChecksums(t *testing.T) {
	var pb [maxPayload]byte
	for _, dst := range []netip.Addr{target4, target6} {
		for _, proto := range []Proto{TCP, UDP} {
			for _, port := range []uint16{53, 123, 161, 1000} {
				p := probeSpec{dst: dst, dport: port, sport: 61234, cookie: 0xdeadbeef, id: 7, proto: proto, flags: 2}
				if proto == UDP {
					p.payload = udpPayload(pb[:], port, p.cookie)
				}
				f := make([]byte, maxFrameLen)
				n := buildFrame(f, &testLink, &p)
				f = f[:n]
				var l4 []byte
				var pseudo uint32
				if dst.Is4() {
					if packet.Checksum(0, f[14:34]) != 0 || int(binary.BigEndian.Uint16(f[16:])) != n-14 {
						t.Errorf("%v %v: IPv4 header wrong", dst, proto)
					}
					l4 = f[34:]
					pseudo = packet.Sum(0, f[26:34])
				} else {
					if int(binary.BigEndian.Uint16(f[18:])) != n-54 || binary.BigEndian.Uint32(f[14:])&0xfffff != flowLabel(p.cookie) {
						t.Errorf("%v %v: IPv6 header wrong", dst, proto)
					}
					l4 = f[54:]
					pseudo = packet.Sum(0, f[22:54])
				}
				if packet.Checksum(pseudo+uint32(proto)+uint32(len(l4)), l4) != 0 {
					t.Errorf("%v %v port %d: checksum does not verify", dst, proto, port)
				}
			}
		}
	}
}

// TestParseReplyQuotes: ICMP and ICMPv6 errors quoting a probe give back
// the probe's addresses, ports, cookie and identification, and the
// reason nmap gives; replies to another address are not ours.
func TestParseReplyQuotes(t *testing.T) {
	for _, tc := range []struct {
		dst    netip.Addr
		proto  Proto
		code   uint8
		reason string
		closed bool
	}{
		{target4, UDP, 3, "port-unreach", true},
		{target4, TCP, 13, "admin-prohibited", false},
		{target6, UDP, 4, "port-unreach", true},
		{target6, TCP, 1, "admin-prohibited", false},
		{target6, TCP, 3, "host-unreach", false},
	} {
		c := uint32(0xfeedf00d)
		f := quotedError(tc.dst, tc.proto, tc.code, c)
		var r reply
		if !parseReply(f, &testLocals, &r) {
			t.Errorf("%v %v code %d: not parsed", tc.dst, tc.proto, tc.code)
			continue
		}
		want := c
		if tc.dst.Is6() {
			want = flowLabel(c)
		} else {
			want = uint32(uint16(c))
		}
		if !r.icmp || r.src != tc.dst || r.sport != 5000 || r.dport != 61001 || r.proto != tc.proto || r.quoteID != want ||
			r.reason() != tc.reason || r.closed() != tc.closed || tc.proto == TCP && r.seq != c {
			t.Errorf("%v %v code %d: parsed %+v", tc.dst, tc.proto, tc.code, r)
		}
		other := testLocals
		other.v4, other.v6[15] = 0xc6120009, 9
		if parseReply(f, &other, &r) {
			t.Errorf("%v %v: a reply to another address was taken", tc.dst, tc.proto)
		}
	}
}

// quotedError is an ICMP (to an IPv4 target) or ICMPv6 destination
// unreachable with code, from the target to us, quoting a probe to its
// port 5000 from our port 61001 that carried cookie c.
func quotedError(dst netip.Addr, proto Proto, code uint8, c uint32) []byte {
	var pb [maxPayload]byte
	probe := make([]byte, maxFrameLen)
	p := probeSpec{dst: dst, dport: 5000, sport: 61001, cookie: c, id: uint16(c), proto: proto, flags: 2}
	if proto == UDP {
		p.payload = udpPayload(pb[:], 53, c)
	}
	n := buildFrame(probe, &testLink, &p)
	ip := probe[14:n]
	if dst.Is4() {
		f := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1, 3, code, 0, 0, 0, 0, 0, 0}, ip...)
		binary.BigEndian.PutUint16(f[16:], uint16(len(f)-14))
		return f
	}
	h := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, 58, 64}
	h = append(h, target6.AsSlice()...)
	h = append(h, testLocals.v6[:]...)
	h = append(h, 1, code, 0, 0, 0, 0, 0, 0)
	f := append(h, ip...)
	binary.BigEndian.PutUint16(f[18:], uint16(len(f)-54))
	return f
}

// TestUDPAnswerValid: DNS and NTP replies must echo the probe's cookie.
func TestUDPAnswerValid(t *testing.T) {
	var pb [maxPayload]byte
	for _, port := range []uint16{53, 123} {
		c := uint32(0x12345678)
		q := udpPayload(pb[:], port, c)
		resp := make([]byte, 48)
		copy(resp, q)
		if port == 123 {
			copy(resp[24:32], q[40:48]) // the origin timestamp
		}
		if !udpAnswerValid(port, resp, c) {
			t.Errorf("port %d: the answer echoing the cookie is refused", port)
		}
		if udpAnswerValid(port, resp, c+1) {
			t.Errorf("port %d: an answer with another cookie is taken", port)
		}
	}
}

// FuzzParseReply: no frame, however malformed, makes the parser panic or
// read out of bounds.
func FuzzParseReply(f *testing.F) {
	f.Add(synAck(target4))
	f.Add(synAck(target6))
	icmp := make([]byte, 14+20+8+20+8)
	icmp[12], icmp[14], icmp[23] = 0x08, 0x45, 1
	copy(icmp[30:34], []byte{198, 18, 0, 1})
	icmp[34] = 3
	icmp[42], icmp[51] = 0x45, 6
	copy(icmp[54:58], []byte{198, 18, 0, 1})
	f.Add(icmp)
	f.Add(quotedError(target6, UDP, 4, 1))
	f.Add(quotedError(target4, UDP, 3, 1))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r reply
		parseReply(b, &testLocals, &r)
	})
}

// TestUDPPayloadsFit: every port's payload fits the frame buffer, built
// in place (no allocation).
func TestUDPPayloadsFit(t *testing.T) {
	var pb [maxPayload]byte
	for port := range 65536 {
		b := udpPayload(pb[:], uint16(port), 7)
		if len(b) > maxPayload || len(b) > 0 && &b[0] != &pb[0] {
			t.Errorf("port %d: a payload of %d bytes, not built in the buffer", port, len(b))
		}
	}
}
