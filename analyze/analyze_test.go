package analyze_test

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"sonde/analyze"
)

// tcpFrame builds an Ethernet/IPv4/TCP frame of flow i.
func tcpFrame(t testing.TB, i int, fromClient bool, flags string, seq uint32, payload []byte) []byte {
	t.Helper()
	cli, srv := net.IP{10, 0, 0, byte(1 + i)}, net.IP{192, 0, 2, 80}
	cport, sport := layers.TCPPort(40000+i), layers.TCPPort(80)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 1, 0}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli, DstIP: srv}
	tcp := &layers.TCP{SrcPort: cport, DstPort: sport, Seq: seq, Window: 65535}
	if !fromClient {
		eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
		ip.SrcIP, ip.DstIP = srv, cli
		tcp.SrcPort, tcp.DstPort = sport, cport
	}
	tcp.SYN = strings.Contains(flags, "S")
	tcp.ACK = strings.Contains(flags, "A")
	tcp.FIN = strings.Contains(flags, "F")
	tcp.PSH = strings.Contains(flags, "P")
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestConversationsOfSyntheticFlows(t *testing.T) {
	a := analyze.New(analyze.Config{Conversations: analyze.AllKinds, Endpoints: analyze.TCP, Hierarchy: true, FollowStream: 1, HTTP: true})
	ts := time.Unix(1700000000, 0)
	req := []byte("GET /index.html HTTP/1.1\r\nHost: example.org\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
	for i := range 3 {
		pk := [][]byte{
			tcpFrame(t, i, true, "S", 100, nil),
			tcpFrame(t, i, false, "SA", 500, nil),
			tcpFrame(t, i, true, "A", 101, nil),
			tcpFrame(t, i, true, "PA", 101, req),
			tcpFrame(t, i, false, "PA", 501, resp),
			tcpFrame(t, i, true, "PA", 101, req), // retransmission
		}
		for j, p := range pk {
			a.Add(p, ts.Add(time.Duration(i)*time.Second+time.Duration(j)*time.Millisecond), len(p), layers.LinkTypeEthernet)
		}
	}
	convs := a.Conversations(analyze.TCP)
	if len(convs) != 3 {
		t.Fatalf("%d TCP conversations, want 3", len(convs))
	}
	for i, c := range convs {
		if c.Stream != i || c.FramesAB != 4 || c.FramesBA != 2 || c.PortB != 80 || c.Start != time.Duration(i)*time.Second || c.Duration != 5*time.Millisecond {
			t.Errorf("conversation %d: %+v", i, c)
		}
	}
	f := a.Follow()
	if f == nil || f.Number != 1 || f.Nodes[0].Port() != 40001 {
		t.Fatalf("follow: %+v", f)
	}
	want := []analyze.Chunk{{Node: 0, Data: req}, {Node: 1, Data: resp}}
	if diff := cmp.Diff(want, f.Chunks); diff != "" {
		t.Errorf("followed stream (-want +got):\n%s", diff)
	}
	h := a.HTTP()
	if len(h) != 1 || h[0].Host != "example.org" || h[0].Path != "/index.html" || h[0].Requests != 6 || h[0].Status[200] != 3 {
		t.Errorf("http: %+v", h)
	}
	phs := a.Hierarchy()
	if len(phs) != 1 || phs[0].Name != "eth" || phs[0].Frames != 18 || phs[0].Children[0].Children[0].Name != "tcp" {
		t.Errorf("hierarchy: %+v", phs)
	}
}

func TestClientHello(t *testing.T) {
	// A ClientHello with SNI "example.com" and ALPN h2, http/1.1.
	ext := func(typ uint16, body []byte) []byte {
		return append([]byte{byte(typ >> 8), byte(typ), byte(len(body) >> 8), byte(len(body))}, body...)
	}
	name := []byte("example.com")
	sni := ext(0, append([]byte{0, byte(len(name) + 3), 0, 0, byte(len(name))}, name...))
	alpnList := []byte{2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}
	alpn := ext(16, append([]byte{0, byte(len(alpnList))}, alpnList...))
	exts := append(sni, alpn...)
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)             // session id
	body = append(body, 0, 2, 0x13, 1) // one cipher suite
	body = append(body, 1, 0)          // null compression
	body = append(body, byte(len(exts)>>8), byte(len(exts)))
	body = append(body, exts...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	rec := append([]byte{22, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)

	a := analyze.New(analyze.Config{TLS: true, FollowStream: -1, Hierarchy: true})
	p := tcpFrameTLS(t, rec)
	a.Add(p, time.Unix(0, 0), len(p), layers.LinkTypeEthernet)
	// Every cut of the record must parse without panicking.
	for n := range len(rec) {
		q := tcpFrameTLS(t, rec[:n])
		a.Add(q, time.Unix(0, 0), len(q), layers.LinkTypeEthernet)
	}
	got := a.TLS()
	if len(got) == 0 || got[0].ServerName != "example.com" || !cmp.Equal(got[0].ALPN, []string{"h2", "http/1.1"}) || got[0].Count != 1 {
		t.Errorf("tls: %+v", got)
	}
}

func tcpFrameTLS(t testing.TB, payload []byte) []byte {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	tcp := &layers.TCP{SrcPort: 50000, DstPort: 443, ACK: true, PSH: true}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// knownFlowPackets returns packets of 10 flows, and adds them once to a so
// that every flow is known.
func knownFlowPackets(t testing.TB, a *analyze.Analyzer) [][]byte {
	var pkts [][]byte
	for i := range 10 {
		pkts = append(pkts, tcpFrame(t, i, true, "PA", 1000, []byte("some payload bytes")), tcpFrame(t, i, false, "A", 2000, nil))
	}
	for _, p := range pkts {
		a.Add(p, time.Unix(1700000000, 0), len(p), layers.LinkTypeEthernet)
	}
	return pkts
}

func TestKnownFlowsDoNotAllocate(t *testing.T) {
	a := analyze.New(analyze.Config{Conversations: analyze.AllKinds, Endpoints: analyze.AllKinds, Hierarchy: true, FollowStream: -1, DNS: true, HTTP: true, TLS: true})
	pkts := knownFlowPackets(t, a)
	ts := time.Unix(1700000000, 0)
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		p := pkts[i%len(pkts)]
		i++
		a.Add(p, ts, len(p), layers.LinkTypeEthernet)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet of a known flow, want 0", allocs)
	}
}

func TestMemoryBoundedByFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("adds a million packets")
	}
	a := analyze.New(analyze.Config{Conversations: analyze.AllKinds, Endpoints: analyze.AllKinds, Hierarchy: true, FollowStream: -1, DNS: true, HTTP: true, TLS: true})
	pkts := knownFlowPackets(t, a)
	ts := time.Unix(1700000000, 0)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	add := func(n int) {
		for i := range n {
			p := pkts[i%len(pkts)]
			a.Add(p, ts.Add(time.Duration(i)*time.Microsecond), len(p), layers.LinkTypeEthernet)
		}
	}
	add(100_000)
	before := heap()
	add(900_000)
	after := heap()
	if a.Packets() != 1_000_000+uint64(len(pkts)) {
		t.Fatalf("%d packets", a.Packets())
	}
	if after > before+256<<10 {
		t.Errorf("heap grew from %d to %d bytes over 900k packets of 10 known flows", before, after)
	}
	if n := len(a.Conversations(analyze.TCP)); n != 10 {
		t.Errorf("%d TCP conversations, want 10", n)
	}
}

func BenchmarkAdd(b *testing.B) {
	a := analyze.New(analyze.Config{Conversations: analyze.TCP, Hierarchy: true, FollowStream: -1})
	pkts := knownFlowPackets(b, a)
	ts := time.Unix(1700000000, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pkts[i%len(pkts)]
		i++
		a.Add(p, ts, len(p), layers.LinkTypeEthernet)
	}
}

func FuzzAdd(f *testing.F) {
	f.Add([]byte{}, uint16(1))
	f.Add(tcpFrame(f, 1, true, "PA", 1, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, link uint16) {
		a := analyze.New(analyze.Config{Conversations: analyze.AllKinds, Endpoints: analyze.AllKinds, Hierarchy: true, Interval: time.Second, FollowStream: 0, DNS: true, HTTP: true, TLS: true})
		a.Add(data, time.Unix(0, 0), len(data), layers.LinkType(link))
		a.Add(data, time.Unix(1, 0), len(data), layers.LinkType(link))
		_ = a.Conversations(analyze.TCP)
		_ = a.DNS()
	})
}
