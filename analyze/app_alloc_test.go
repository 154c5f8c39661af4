package analyze_test

import (
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"sonde/analyze"
)

func dnsFrame(t testing.TB, resp bool) []byte {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 53}}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	dns := &layers.DNS{ID: 7, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("example.com"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	if resp {
		dns.QR = true
		dns.Answers = []layers.DNSResourceRecord{{Name: []byte("example.com"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: net.IP{192, 0, 2, 1}}}
		udp.SrcPort, udp.DstPort = 53, 5353
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
	}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, dns); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestKnownApplicationRecordsDoNotAllocate: a DNS question, an HTTP request
// and a TLS ClientHello already seen cost no allocation either.
func TestKnownApplicationRecordsDoNotAllocate(t *testing.T) {
	a := analyze.New(analyze.Config{Conversations: analyze.AllKinds, Endpoints: analyze.AllKinds, Hierarchy: true, DNS: true, HTTP: true, TLS: true})
	for name, p := range map[string][]byte{
		"dns query": dnsFrame(t, false), "dns response": dnsFrame(t, true),
		"http request":  tcpFrame(t, 1, true, "PA", 1, []byte("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n")),
		"tls hello":     tcpFrameTLS(t, clientHelloRecord()),
		"http response": tcpFrame(t, 1, false, "PA", 1, []byte("HTTP/1.1 404 Not Found\r\n\r\n")),
	} {
		a.Add(p, time.Unix(0, 0), len(p), layers.LinkTypeEthernet)
		allocs := testing.AllocsPerRun(100, func() { a.Add(p, time.Unix(0, 0), len(p), layers.LinkTypeEthernet) })
		if allocs != 0 {
			t.Errorf("%s: %v allocations per packet, want 0", name, allocs)
		}
	}
}
