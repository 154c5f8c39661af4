// Command gen writes a reproducible capture for benchmarks: a realistic
// mix of interleaved TCP connections (handshakes, HTTP requests and
// responses, TLS ClientHellos with SNI and ALPN, bulk transfers, teardown),
// DNS over UDP, ICMP and ICMPv6 echoes, ARP, and TCP over IPv6. The same
// seed always gives the same file.
//
//	go run ./bench/gen -n 1000000 -o work/mix.pcap
//
// The capture of docs/04-capture.md is
//
//	go run ./bench/gen -n 400 -flows 3 -seed 4 -o analyze/testdata/mix.pcap
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"sonde/capfile"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of packets")
	out := flag.String("o", "mix.pcap", "output file")
	seed := flag.Uint64("seed", 1, "random seed")
	conc := flag.Int("flows", 200, "exchanges in progress at once")
	flag.Parse()
	if err := run(*n, *out, *seed, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type gen struct {
	rng  *rand.Rand
	w    *capfile.Writer
	ts   time.Time
	buf  gopacket.SerializeBuffer
	opts gopacket.SerializeOptions
	n    int
}

// flow emits the packets of one exchange, one per call, until done.
type flow interface {
	next(g *gen) (done bool, err error)
}

func run(n int, out string, seed uint64, conc int) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := capfile.NewWriter(f, capfile.WriterConfig{Format: capfile.FormatPcap,
		Interfaces: []capfile.Interface{{LinkType: layers.LinkTypeEthernet, Snaplen: 65535}}})
	if err != nil {
		return err
	}
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x5eed)), w: w, ts: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		buf: gopacket.NewSerializeBuffer(), opts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}}
	active := make([]flow, 0, conc)
	for g.n < n {
		for len(active) < max(conc, 1) {
			active = append(active, g.newFlow())
		}
		i := g.rng.IntN(len(active))
		done, err := active[i].next(g)
		if err != nil {
			return err
		}
		if done {
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func (g *gen) emit(ls ...gopacket.SerializableLayer) error {
	if err := gopacket.SerializeLayers(g.buf, g.opts, ls...); err != nil {
		return err
	}
	g.ts = g.ts.Add(time.Duration(5+g.rng.IntN(60)) * time.Microsecond)
	g.n++
	data := g.buf.Bytes()
	return g.w.WritePacket(capfile.CaptureInfo{Timestamp: g.ts, Length: len(data)}, data)
}

func (g *gen) mac(i uint32) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x42, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
}

func (g *gen) clientIP4() net.IP {
	return net.IP{10, byte(g.rng.IntN(4)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))}
}

func (g *gen) serverIP4() net.IP {
	return net.IP{198, 18, byte(g.rng.IntN(8)), byte(1 + g.rng.IntN(254))}
}

var sites = []string{"example.com", "example.org", "example.net", "www.example.com", "api.example.org",
	"cdn.example.net", "mail.example.com", "static.example.org", "login.example.net", "img.example.com"}

func (g *gen) newFlow() flow {
	switch r := g.rng.IntN(100); {
	case r < 30:
		return g.newTCP(80, false)
	case r < 55:
		return g.newTCP(443, false)
	case r < 63:
		return g.newTCP(22, false)
	case r < 70:
		return g.newTCP(443, true)
	case r < 88:
		return &dnsFlow{name: sites[g.rng.IntN(len(sites))], cli: g.clientIP4(), port: uint16(1024 + g.rng.IntN(60000)), id: uint16(g.rng.Uint32())}
	case r < 94:
		return &pingFlow{cli: g.clientIP4(), srv: g.serverIP4(), id: uint16(g.rng.Uint32()), left: 2 + g.rng.IntN(6)}
	case r < 97:
		return &pingFlow{v6: true, id: uint16(g.rng.Uint32()), left: 2 + g.rng.IntN(4),
			cli: net.ParseIP(fmt.Sprintf("2001:db8:1::%x", 1+g.rng.IntN(4000))), srv: net.ParseIP(fmt.Sprintf("2001:db8:2::%x", 1+g.rng.IntN(200)))}
	default:
		return &arpFlow{a: g.clientIP4(), b: net.IP{10, 0, 0, 1}}
	}
}

// tcpFlow is one TCP connection: handshake, request, response, teardown.
type tcpFlow struct {
	v6           bool
	cli, srv     net.IP
	cmac, smac   net.HardwareAddr
	cport, sport uint16
	cseq, sseq   uint32
	step         int
	request      []byte
	respLeft     int
	respSeg      int
}

func (g *gen) newTCP(port uint16, v6 bool) *tcpFlow {
	f := &tcpFlow{v6: v6, cport: uint16(32768 + g.rng.IntN(28000)), sport: port,
		cseq: g.rng.Uint32(), sseq: g.rng.Uint32(), cmac: g.mac(g.rng.Uint32N(5000)), smac: g.mac(0xffff0001)}
	if v6 {
		f.cli = net.ParseIP(fmt.Sprintf("2001:db8:1::%x", 1+g.rng.IntN(4000)))
		f.srv = net.ParseIP(fmt.Sprintf("2001:db8:2::%x", 1+g.rng.IntN(200)))
	} else {
		f.cli, f.srv = g.clientIP4(), g.serverIP4()
	}
	site := sites[g.rng.IntN(len(sites))]
	switch port {
	case 80:
		f.request = fmt.Appendf(nil, "GET /page/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n", g.rng.IntN(500), site)
		f.respLeft = 400 + g.rng.IntN(30000)
	case 443:
		f.request = clientHello(site, g.rng)
		f.respLeft = 2000 + g.rng.IntN(60000)
	default:
		f.request = []byte("SSH-2.0-OpenSSH_9.2\r\n")
		f.respLeft = 200 + g.rng.IntN(8000)
	}
	f.respSeg = 1448
	return f
}

func (f *tcpFlow) packet(g *gen, fromClient bool, flags string, payload []byte) error {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(f.cport), DstPort: layers.TCPPort(f.sport), Seq: f.cseq, Ack: f.sseq, Window: 64240}
	src, dst, smac, dmac := f.cli, f.srv, f.cmac, f.smac
	if !fromClient {
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
		tcp.Seq, tcp.Ack = f.sseq, f.cseq
		src, dst, smac, dmac = dst, src, dmac, smac
	}
	for _, c := range flags {
		switch c {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'P':
			tcp.PSH = true
		case 'F':
			tcp.FIN = true
		}
	}
	if tcp.SYN {
		tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}
	}
	eth := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
	var err error
	if f.v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp.SetNetworkLayerForChecksum(ip)
		err = g.emit(eth, ip, tcp, gopacket.Payload(payload))
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst, Flags: layers.IPv4DontFragment}
		tcp.SetNetworkLayerForChecksum(ip)
		err = g.emit(eth, ip, tcp, gopacket.Payload(payload))
	}
	n := uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		n++
	}
	if fromClient {
		f.cseq += n
	} else {
		f.sseq += n
	}
	return err
}

var filler = func() []byte {
	b := make([]byte, 1448)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func (f *tcpFlow) next(g *gen) (bool, error) {
	f.step++
	switch f.step {
	case 1:
		return false, f.packet(g, true, "S", nil)
	case 2:
		return false, f.packet(g, false, "SA", nil)
	case 3:
		return false, f.packet(g, true, "A", nil)
	case 4:
		return false, f.packet(g, true, "PA", f.request)
	}
	if f.respLeft > 0 {
		n := min(f.respLeft, f.respSeg)
		f.respLeft -= n
		var payload []byte
		switch {
		case f.sport == 80 && f.step == 5:
			payload = fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n", f.respLeft+n)
		case f.sport == 443:
			// One TLS application-data record per segment.
			n = max(n, 6)
			payload = []byte{23, 3, 3, byte((n - 5) >> 8), byte(n - 5)}
			n -= 5
		case f.sport == 22:
			// The version banner first, then one SSH binary packet per
			// segment (RFC 4253 4.2, 6).
			if f.step == 5 {
				payload = []byte("SSH-2.0-OpenSSH_9.2\r\n")
			}
			n = max(n-len(payload), 6)
			payload = append(payload, 0, 0, byte((n-4)>>8), byte(n-4), 4)
			n -= 5
		}
		payload = append(payload, filler[:n]...)
		if err := f.packet(g, false, "PA", payload); err != nil {
			return false, err
		}
		if f.step%2 == 0 { // delayed ACK: every other segment
			f.step++
			return false, f.packet(g, true, "A", nil)
		}
		return false, nil
	}
	switch f.respLeft--; f.respLeft {
	case -1:
		return false, f.packet(g, true, "FA", nil)
	case -2:
		return false, f.packet(g, false, "FA", nil)
	default:
		return true, f.packet(g, true, "A", nil)
	}
}

// clientHello builds a TLS 1.3 ClientHello record offering SNI and ALPN.
func clientHello(name string, rng *rand.Rand) []byte {
	ext := func(typ uint16, body []byte) []byte {
		return append([]byte{byte(typ >> 8), byte(typ), byte(len(body) >> 8), byte(len(body))}, body...)
	}
	sni := ext(0, append([]byte{0, byte(len(name) + 3), 0, 0, byte(len(name))}, name...))
	protos := []byte{2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}
	alpn := ext(16, append([]byte{0, byte(len(protos))}, protos...))
	versions := ext(43, []byte{2, 3, 4})
	exts := append(append(sni, alpn...), versions...)
	body := []byte{3, 3}
	for range 32 {
		body = append(body, byte(rng.Uint32()))
	}
	body = append(body, 0, 0, 4, 0x13, 1, 0x13, 2, 1, 0)
	body = append(body, byte(len(exts)>>8), byte(len(exts)))
	body = append(body, exts...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

type dnsFlow struct {
	name string
	cli  net.IP
	port uint16
	id   uint16
	step int
}

func (f *dnsFlow) next(g *gen) (bool, error) {
	f.step++
	srv := net.IP{198, 18, 0, 53}
	dns := &layers.DNS{ID: f.id, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(f.name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	udp := &layers.UDP{SrcPort: layers.UDPPort(f.port), DstPort: 53}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: f.cli, DstIP: srv}
	eth := &layers.Ethernet{SrcMAC: g.mac(1), DstMAC: g.mac(53), EthernetType: layers.EthernetTypeIPv4}
	if f.step == 2 {
		dns.QR, dns.RA = true, true
		dns.Answers = []layers.DNSResourceRecord{{Name: []byte(f.name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300,
			IP: net.IP{93, 184, 216, byte(len(f.name))}}}
		udp.SrcPort, udp.DstPort = udp.DstPort, udp.SrcPort
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
		eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
	}
	udp.SetNetworkLayerForChecksum(ip)
	return f.step == 2, g.emit(eth, ip, udp, dns)
}

type pingFlow struct {
	v6       bool
	cli, srv net.IP
	id       uint16
	seq      uint16
	left     int
	reply    bool
}

func (f *pingFlow) next(g *gen) (bool, error) {
	payload := gopacket.Payload(filler[:56])
	src, dst := f.cli, f.srv
	if f.reply {
		src, dst = dst, src
	}
	eth := &layers.Ethernet{SrcMAC: g.mac(7), DstMAC: g.mac(8), EthernetType: layers.EthernetTypeIPv4}
	var err error
	if f.v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: src, DstIP: dst}
		typ := uint8(layers.ICMPv6TypeEchoRequest)
		if f.reply {
			typ = layers.ICMPv6TypeEchoReply
		}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
		icmp.SetNetworkLayerForChecksum(ip)
		echo := &layers.ICMPv6Echo{Identifier: f.id, SeqNumber: f.seq}
		err = g.emit(eth, ip, icmp, echo, payload)
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: src, DstIP: dst}
		typ := uint8(layers.ICMPv4TypeEchoRequest)
		if f.reply {
			typ = layers.ICMPv4TypeEchoReply
		}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: f.id, Seq: f.seq}
		err = g.emit(eth, ip, icmp, payload)
	}
	if f.reply {
		f.seq++
		f.left--
	}
	f.reply = !f.reply
	return f.left == 0 && !f.reply, err
}

type arpFlow struct {
	a, b net.IP
	step int
}

func (f *arpFlow) next(g *gen) (bool, error) {
	f.step++
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: g.mac(11), SourceProtAddress: f.a.To4(),
		DstHwAddress: net.HardwareAddr{0, 0, 0, 0, 0, 0}, DstProtAddress: f.b.To4()}
	eth := &layers.Ethernet{SrcMAC: g.mac(11), DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP}
	if f.step == 2 {
		arp.Operation = layers.ARPReply
		arp.SourceHwAddress, arp.DstHwAddress = g.mac(12), g.mac(11)
		arp.SourceProtAddress, arp.DstProtAddress = f.b.To4(), f.a.To4()
		eth.SrcMAC, eth.DstMAC = g.mac(12), g.mac(11)
	}
	return f.step == 2, g.emit(eth, arp)
}
