package packet

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func synTemplate(t testing.TB) (*Packet, gopacket.SerializeBuffer) {
	tp, err := Parse(`Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/IP(src="198.18.0.1", dst="198.18.0.0/16")/TCP(dport=(1,65535), flags="S")`)
	if err != nil {
		t.Fatal(err)
	}
	return tp.Packet(), gopacket.NewSerializeBuffer()
}

func TestNoAllocs(t *testing.T) {
	p, buf := synTemplate(t)
	i := uint64(0)
	if n := testing.AllocsPerRun(1000, func() {
		p.SetIndex(i)
		i += 7919
		if err := p.Serialize(buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("SetIndex+Serialize: %v allocations, want 0", n)
	}
	p.Serialize(buf)
	frame := append([]byte(nil), buf.Bytes()...)
	d := NewDecoder(LinkEthernet)
	out := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(1000, func() {
		if err := d.Decode(frame); err != nil {
			t.Fatal(err)
		}
		out = d.AppendTCPDump(out[:0])
		if _, ok := d.ReplyKey(); !ok {
			t.Fatal("no key")
		}
	}); n != 0 {
		t.Errorf("Decode+AppendTCPDump+ReplyKey: %v allocations, want 0", n)
	}
	if string(out) != "IP 198.18.255.255.20 > 198.18.0.4.80: Flags [S], seq 0, win 8192, length 0" && len(out) == 0 {
		t.Error("empty rendering")
	}
	// A DNS query over UDP, warmed up once. (Records, such as EDNS OPT,
	// allocate in gopacket's decoding.)
	dq, _ := Parse(`Ether()/IP(dst="198.18.0.2")/UDP(sport=4000)/DNS(qd=DNSQR(qname="target.lab"))`)
	dq.At(0).Serialize(buf)
	frames := [][]byte{append([]byte(nil), buf.Bytes()...)}
	d = NewDecoder(LinkEthernet)
	for _, f := range frames {
		d.Decode(f)
	}
	if n := testing.AllocsPerRun(200, func() {
		for _, f := range frames {
			d.Decode(f)
			out = d.AppendTCPDump(out[:0])
		}
	}); n != 0 {
		t.Errorf("DNS Decode+AppendTCPDump: %v allocations, want 0", n)
	}
}

func BenchmarkSerializeSYN(b *testing.B) {
	p, buf := synTemplate(b)
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		p.SetIndex(i)
		i++
		if err := p.Serialize(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSerializeSYNPorts(b *testing.B) {
	// The scanner's way: a prebuilt packet whose TCP fields are set in place.
	p, buf := synTemplate(b)
	tcp := p.Layers()[2].(*layers.TCP)
	b.ReportAllocs()
	i := uint16(0)
	for b.Loop() {
		i++
		tcp.DstPort = layers.TCPPort(i)
		tcp.Seq = uint32(i) * 2654435761
		if err := p.Serialize(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFrame(b *testing.B) []byte {
	p, buf := synTemplate(b)
	p.SetIndex(12345)
	if err := p.Serialize(buf); err != nil {
		b.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func BenchmarkDecode(b *testing.B) {
	frame := benchFrame(b)
	d := NewDecoder(LinkEthernet)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTCPDump(b *testing.B) {
	frame := benchFrame(b)
	d := NewDecoder(LinkEthernet)
	out := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(frame)
		out = d.AppendTCPDump(out[:0])
	}
}

func BenchmarkExpand(b *testing.B) {
	tp, err := Parse(`IP(dst="198.18.0.0/16")/TCP(dport=(1,65535))`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var last netip.Addr
	for b.Loop() {
		n := 0
		for p := range tp.All() {
			if n++; n == 1000 {
				last = p.Dst()
				break
			}
		}
	}
	_ = last
}

func TestAnswers(t *testing.T) {
	build := func(expr string) *Decoder {
		t.Helper()
		tp, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := tp.At(0).Serialize(buf); err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(LinkRaw)
		if err := d.Decode(append([]byte(nil), buf.Bytes()...)); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return d
	}
	const syn = `IP(src="198.18.0.1", dst="198.18.0.2", id=99)/TCP(sport=40000, dport=80, seq=1000)`
	const udp = `IP(src="198.18.0.1", dst="198.18.0.2", id=5)/UDP(sport=40000, dport=33434)`
	const dnsq = `IP(src="198.18.0.1", dst="198.18.0.2")/UDP(sport=40001, dport=53)/DNS(id=7, qd=DNSQR(qname="target.lab"))`
	for _, tc := range []struct {
		name, req, reply string
		want             bool
	}{
		{"syn-ack", syn, `IP(src="198.18.0.2", dst="198.18.0.1")/TCP(sport=80, dport=40000, flags="SA", seq=5, ack=1001)`, true},
		{"rst", syn, `IP(src="198.18.0.2", dst="198.18.0.1")/TCP(sport=80, dport=40000, flags="RA", ack=1001)`, true},
		{"bad ack", syn, `IP(src="198.18.0.2", dst="198.18.0.1")/TCP(sport=80, dport=40000, flags="SA", ack=77)`, false},
		{"wrong port", syn, `IP(src="198.18.0.2", dst="198.18.0.1")/TCP(sport=81, dport=40000, flags="SA", ack=1001)`, false},
		{"own packet", syn, syn, false},
		{"echo", `IP(src="198.18.0.1", dst="198.18.0.2")/ICMP(id=3, seq=4)`, `IP(src="198.18.0.2", dst="198.18.0.1")/ICMP(type="echo-reply", id=3, seq=4)`, true},
		{"echo seq", `IP(src="198.18.0.1", dst="198.18.0.2")/ICMP(id=3, seq=4)`, `IP(src="198.18.0.2", dst="198.18.0.1")/ICMP(type="echo-reply", id=3, seq=5)`, false},
		{"echo6", `IPv6(src="2001:2::2", dst="2001:2::1")/ICMPv6EchoRequest(id=9, seq=1)`, `IPv6(src="2001:2::1", dst="2001:2::2")/ICMPv6EchoReply(id=9, seq=1)`, true},
		{"time exceeded", udp, `IP(src="198.18.0.9", dst="198.18.0.1")/ICMP(type="time-exceeded")/IP(src="198.18.0.1", dst="198.18.0.2", id=5, ttl=1)/UDP(sport=40000, dport=33434)`, true},
		{"time exceeded, 8 bytes of L4", udp, `IP(src="198.18.0.9", dst="198.18.0.1")/ICMP(type="time-exceeded")/IP(src="198.18.0.1", dst="198.18.0.2", id=5, ttl=1, len=28, proto=17)/"\x9c\x40\x82\x9a\x00\x08\x00\x00"`, true},
		{"time exceeded, other probe", udp, `IP(src="198.18.0.9", dst="198.18.0.1")/ICMP(type="time-exceeded")/IP(src="198.18.0.1", dst="198.18.0.2", id=6, ttl=1)/UDP(sport=40000, dport=33434)`, false},
		{"port unreachable", udp, `IP(src="198.18.0.2", dst="198.18.0.1")/ICMP(type="dest-unreach", code=3)/IP(src="198.18.0.1", dst="198.18.0.2", id=5)/UDP(sport=40000, dport=33434)`, true},
		{"icmp6 time exceeded", `IPv6(src="2001:2::2", dst="2001:2::1")/UDP(sport=40000, dport=33435)`, `IPv6(src="2001:2::9", dst="2001:2::2")/ICMPv6(type="time-exceeded")/IPv6(src="2001:2::2", dst="2001:2::1", hlim=1)/UDP(sport=40000, dport=33435)`, true},
		{"dns", dnsq, `IP(src="198.18.0.2", dst="198.18.0.1")/UDP(sport=53, dport=40001)/DNS(id=7, qr=1, qd=DNSQR(qname="target.lab"))`, true},
		{"dns id", dnsq, `IP(src="198.18.0.2", dst="198.18.0.1")/UDP(sport=53, dport=40001)/DNS(id=8, qr=1, qd=DNSQR(qname="target.lab"))`, false},
	} {
		req, reply := build(tc.req), build(tc.reply)
		if got := Answers(reply, req); got != tc.want {
			rk, _ := reply.ReplyKey()
			qk, _ := req.RequestKey()
			t.Errorf("%s: Answers = %v, want %v (reply key %+v, request key %+v)", tc.name, got, tc.want, rk, qk)
		}
		if tc.want {
			m := map[MatchKey]int{}
			qk, _ := req.RequestKey()
			m[qk] = 1
			rk, _ := reply.ReplyKey()
			if m[rk] != 1 {
				t.Errorf("%s: reply key %+v not found", tc.name, rk)
			}
		}
	}
	// ARP over Ethernet.
	arpd := func(expr string) *Decoder {
		tp, _ := Parse(expr)
		buf := gopacket.NewSerializeBuffer()
		tp.At(0).Serialize(buf)
		d := NewDecoder(LinkEthernet)
		d.Decode(append([]byte(nil), buf.Bytes()...))
		return d
	}
	req := arpd(`Ether(src="02:00:00:00:00:01")/ARP(hwsrc="02:00:00:00:00:01", psrc="198.18.5.1", pdst="198.18.5.2")`)
	rep := arpd(`Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")/ARP(op="is-at", hwsrc="02:00:00:00:00:02", psrc="198.18.5.2", hwdst="02:00:00:00:00:01", pdst="198.18.5.1")`)
	if !Answers(rep, req) {
		t.Error("ARP reply does not answer its request")
	}
	if Answers(req, rep) {
		t.Error("ARP request answers the reply")
	}
}

func newBuf() gopacket.SerializeBuffer { return gopacket.NewSerializeBuffer() }
