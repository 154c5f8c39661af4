package filter

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// testPacket is one packet of the test corpus.
type testPacket struct {
	name string // file#index or synthetic name
	data []byte
}

// corpus holds test packets per link type.
type corpus map[LinkType][]testPacket

// linkTypesUnderTest are the link types the differential test covers, with
// tcpdump's -y names.
var linkTypesUnderTest = []LinkType{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6}

// maxPerFile bounds the packets taken from one capture so that a large,
// repetitive file does not dominate the run time.
const maxPerFile = 300

// loadCorpus reads every capture under testdata and adds synthetic packets;
// Ethernet frames are also rewritten as Linux cooked (v1, v2) and raw-IP
// packets so that every link type sees the same variety.
func loadCorpus(t testing.TB) corpus {
	t.Helper()
	c := corpus{}
	var files []string
	for _, pat := range []string{"testdata/*/*.pcap", "testdata/*/*.pcapng"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no captures in testdata")
	}
	for _, f := range files {
		lt, pkts, err := readCapture(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, d := range pkts {
			if i >= maxPerFile {
				break
			}
			name := filepath.Base(f) + "#" + itoa(i)
			c.add(lt, name, d)
		}
	}
	for _, s := range synthPackets(t) {
		c.add(LinkTypeEthernet, s.name, s.data)
	}
	// IPv4-only and IPv6-only link types see the raw-IP packets (of both
	// versions: a filter must cope with what the file holds).
	c[LinkTypeIPv4] = c[LinkTypeRaw]
	c[LinkTypeIPv6] = c[LinkTypeRaw]
	return c
}

// add adds a packet, deriving the other link types from Ethernet frames.
func (c corpus) add(lt LinkType, name string, d []byte) {
	switch lt {
	case LinkTypeEthernet:
		c[lt] = append(c[lt], testPacket{name, d})
		if len(d) < 14 {
			return
		}
		etype := binary.BigEndian.Uint16(d[12:14])
		payload := d[14:]
		pktType := uint16(len(c[lt]) % 5) // host, broadcast, multicast, otherhost, outgoing
		sll := make([]byte, 16, 16+len(payload))
		binary.BigEndian.PutUint16(sll[0:], pktType)
		binary.BigEndian.PutUint16(sll[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(sll[4:], 6)
		copy(sll[6:], d[6:12])
		binary.BigEndian.PutUint16(sll[14:], etype)
		c[LinkTypeLinuxSLL] = append(c[LinkTypeLinuxSLL], testPacket{name + "/sll", append(sll, payload...)})
		sll2 := make([]byte, 20, 20+len(payload))
		binary.BigEndian.PutUint16(sll2[0:], etype)
		binary.BigEndian.PutUint32(sll2[4:], 2) // ifindex
		binary.BigEndian.PutUint16(sll2[8:], 1)
		sll2[10] = byte(pktType)
		sll2[11] = 6
		copy(sll2[12:], d[6:12])
		c[LinkTypeLinuxSLL2] = append(c[LinkTypeLinuxSLL2], testPacket{name + "/sll2", append(sll2, payload...)})
		c[LinkTypeRaw] = append(c[LinkTypeRaw], testPacket{name + "/raw", payload})
	case LinkTypeLinuxSLL:
		c[lt] = append(c[lt], testPacket{name, d})
		if len(d) >= 16 {
			sll2 := make([]byte, 20, 20+len(d)-16)
			copy(sll2[0:2], d[14:16])
			binary.BigEndian.PutUint32(sll2[4:], 3)
			copy(sll2[8:10], d[2:4])
			sll2[10] = d[1]
			sll2[11] = d[5]
			copy(sll2[12:20], d[6:14])
			c[LinkTypeLinuxSLL2] = append(c[LinkTypeLinuxSLL2], testPacket{name + "/sll2", append(sll2, d[16:]...)})
			c[LinkTypeRaw] = append(c[LinkTypeRaw], testPacket{name + "/raw", d[16:]})
		}
	case LinkTypeIPv6, LinkTypeIPv4:
		c[LinkTypeRaw] = append(c[LinkTypeRaw], testPacket{name, d})
	default:
		c[lt] = append(c[lt], testPacket{name, d})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// readCapture reads a pcap or pcapng file with gopacket's pure-Go reader.
func readCapture(path string) (LinkType, [][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	type src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r src
	var lt LinkType
	if strings.HasSuffix(path, ".pcapng") {
		ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return 0, nil, err
		}
		r, lt = ng, LinkType(ng.LinkType())
	} else {
		pr, err := pcapgo.NewReader(f)
		if err != nil {
			return 0, nil, err
		}
		r, lt = pr, LinkType(uint32(pr.LinkType())&0xffff)
	}
	var pkts [][]byte
	for {
		d, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, nil, err
		}
		pkts = append(pkts, append([]byte(nil), d...))
	}
	return lt, pkts, nil
}

// synthPackets builds packets the captures lack: VLAN stacks, IPv6 with
// extension headers, SCTP, IP options, fragments, RARP, LLC, broadcast and
// multicast, and truncated copies of them.
func synthPackets(t testing.TB) []testPacket {
	t.Helper()
	mac1 := net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	mac2 := net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	mcast := net.HardwareAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
	a1, a2 := net.IP{198, 18, 0, 1}, net.IP{198, 18, 0, 2}
	b1, b2 := net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
		for _, l := range ls {
			if n, ok := l.(interface {
				SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
			}); ok {
				for _, m := range ls {
					if nl, ok := m.(gopacket.NetworkLayer); ok {
						_ = n.SetNetworkLayerForChecksum(nl)
					}
				}
			}
		}
		if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
			t.Fatalf("serialise: %v", err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	eth := func(dst net.HardwareAddr, et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac1, DstMAC: dst, EthernetType: et}
	}
	ip4 := func(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst, Id: 1}
	}
	ip6 := func(src, dst net.IP, nh layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: nh, SrcIP: src, DstIP: dst}
	}
	tcp := func(sp, dp uint16, syn, ack bool) *layers.TCP {
		return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: 1, SYN: syn, ACK: ack, Window: 1024}
	}
	udp := func(sp, dp uint16) *layers.UDP {
		return &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	}
	pl := gopacket.Payload([]byte("sonde test payload 0123456789"))
	var out []testPacket
	add := func(name string, d []byte) { out = append(out, testPacket{"synth:" + name, d}) }

	add("tcp-syn", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolTCP), tcp(40000, 80, true, false)))
	add("tcp-synack", ser(eth(mac1, layers.EthernetTypeIPv4), ip4(a2, a1, layers.IPProtocolTCP), tcp(80, 40000, true, true)))
	add("tcp-data", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, ACK: true, PSH: true, Window: 1, Seq: 7}, pl))
	add("tcp-flags-all", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolTCP), &layers.TCP{SrcPort: 22, DstPort: 22, FIN: true, RST: true, URG: true, ECE: true, CWR: true, NS: true}))
	ipopt := ip4(a1, a2, layers.IPProtocolTCP)
	ipopt.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}, {OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
	add("ip-options-tcp", ser(eth(mac2, layers.EthernetTypeIPv4), ipopt, tcp(1024, 80, true, false)))
	add("udp-dns", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolUDP), udp(5353, 53), pl))
	add("udp-port0", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolUDP), udp(0, 65535)))
	frag1 := ip4(a1, a2, layers.IPProtocolUDP)
	frag1.Flags = layers.IPv4MoreFragments
	add("ip-frag-first", ser(eth(mac2, layers.EthernetTypeIPv4), frag1, udp(53, 53), pl))
	frag2 := ip4(a1, a2, layers.IPProtocolUDP)
	frag2.FragOffset = 185
	add("ip-frag-later", ser(eth(mac2, layers.EthernetTypeIPv4), frag2, gopacket.Payload([]byte{0, 53, 0, 53, 0, 8, 0, 0, 1, 2, 3, 4})))
	frag3 := ip4(a1, a2, layers.IPProtocolTCP)
	frag3.FragOffset = 1
	frag3.Flags = layers.IPv4DontFragment
	add("ip-frag-tcp", ser(eth(mac2, layers.EthernetTypeIPv4), frag3, gopacket.Payload([]byte{0, 80, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0})))
	add("icmp-echo", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, pl))
	add("icmp-reply", ser(eth(mac1, layers.EthernetTypeIPv4), ip4(a2, a1, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(0, 0), Id: 1, Seq: 1}, pl))
	add("icmp-unreach", ser(eth(mac1, layers.EthernetTypeIPv4), ip4(a2, a1, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, pl))
	add("icmp-timxceed", ser(eth(mac1, layers.EthernetTypeIPv4), ip4(net.IP{10, 0, 0, 1}, a1, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(11, 0)}, pl))
	add("sctp", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolSCTP), &layers.SCTP{SrcPort: 9, DstPort: 2905, VerificationTag: 1}))
	add("igmp", ser(eth(mcast, layers.EthernetTypeIPv4), ip4(a1, net.IP{224, 0, 0, 251}, layers.IPProtocolIGMP), gopacket.Payload([]byte{0x16, 0, 0, 0, 224, 0, 0, 251})))
	add("udp-mdns-mcast", ser(eth(mcast, layers.EthernetTypeIPv4), ip4(a1, net.IP{224, 0, 0, 251}, layers.IPProtocolUDP), udp(5353, 5353), pl))
	add("udp-bcast", ser(eth(bcast, layers.EthernetTypeIPv4), ip4(net.IP{0, 0, 0, 0}, net.IP{255, 255, 255, 255}, layers.IPProtocolUDP), udp(68, 67), pl))
	add("udp-zero-dst", ser(eth(bcast, layers.EthernetTypeIPv4), ip4(a1, net.IP{0, 0, 0, 0}, layers.IPProtocolUDP), udp(1, 2)))
	add("pim", ser(eth(mcast, layers.EthernetTypeIPv4), ip4(a1, net.IP{224, 0, 0, 13}, layers.IPProtocol(103)), gopacket.Payload([]byte{0x20, 0, 0, 0})))
	add("vrrp", ser(eth(mcast, layers.EthernetTypeIPv4), ip4(a1, net.IP{224, 0, 0, 18}, layers.IPProtocol(112)), gopacket.Payload([]byte{0x21, 1, 100, 1, 0, 1, 0, 0, 198, 18, 0, 254})))
	add("gre", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolGRE), gopacket.Payload([]byte{0, 0, 0x08, 0})))
	add("esp", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolESP), gopacket.Payload([]byte{0, 0, 1, 0, 0, 0, 0, 1})))
	add("ah", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(a1, a2, layers.IPProtocolAH), gopacket.Payload([]byte{6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})))
	add("ip-other-net", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(net.IP{10, 1, 2, 3}, net.IP{192, 168, 1, 1}, layers.IPProtocolTCP), tcp(1023, 1024, false, true)))
	add("ip-loopback", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(net.IP{127, 0, 0, 1}, net.IP{127, 0, 0, 1}, layers.IPProtocolUDP), udp(123, 123)))
	add("ip-0.0.0.10", ser(eth(mac2, layers.EthernetTypeIPv4), ip4(net.IP{0, 0, 0, 10}, net.IP{10, 0, 0, 0}, layers.IPProtocolUDP), udp(7, 7)))

	// VLAN stacks: 802.1Q, 802.1ad (QinQ) and the old 0x9100.
	add("vlan10-udp", ser(eth(mac2, layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, ip4(a1, a2, layers.IPProtocolUDP), udp(5353, 53), pl))
	add("vlan20-tcp", ser(eth(mac2, layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 20, Priority: 5, Type: layers.EthernetTypeIPv4}, ip4(a1, a2, layers.IPProtocolTCP), tcp(40000, 80, true, false)))
	add("qinq-100-20-tcp", ser(eth(mac2, layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}, ip4(a1, a2, layers.IPProtocolTCP), tcp(40000, 80, true, false)))
	add("vlan9100-4095-ip6", ser(eth(mac2, layers.EthernetType(0x9100)), &layers.Dot1Q{VLANIdentifier: 4095, Type: layers.EthernetTypeIPv6}, ip6(b1, b2, layers.IPProtocolUDP), udp(53, 53), pl))
	add("vlan0-arp", ser(eth(bcast, layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 0, Type: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: mac1, SourceProtAddress: []byte(a1), DstHwAddress: make([]byte, 6), DstProtAddress: []byte(a2)}))
	add("vlan-triple", ser(eth(mac2, layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}, ip4(a1, a2, layers.IPProtocolUDP), udp(1, 53)))

	// ARP and RARP.
	arp := func(op uint16, sp, tp net.IP) *layers.ARP {
		return &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
			SourceHwAddress: mac1, SourceProtAddress: []byte(sp.To4()), DstHwAddress: make([]byte, 6), DstProtAddress: []byte(tp.To4())}
	}
	add("arp-request", ser(eth(bcast, layers.EthernetTypeARP), arp(1, a1, a2)))
	add("arp-reply", ser(eth(mac1, layers.EthernetTypeARP), arp(2, a2, a1)))
	add("arp-10", ser(eth(bcast, layers.EthernetTypeARP), arp(1, net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2})))
	add("rarp", ser(eth(bcast, layers.EthernetType(0x8035)), arp(3, net.IP{0, 0, 0, 0}, net.IP{10, 0, 0, 2})))

	// IPv6 with extension headers.
	add("ip6-tcp", ser(eth(mac2, layers.EthernetTypeIPv6), ip6(b1, b2, layers.IPProtocolTCP), tcp(40000, 80, true, false)))
	add("ip6-udp", ser(eth(mac2, layers.EthernetTypeIPv6), ip6(b2, b1, layers.IPProtocolUDP), udp(53, 5353), pl))
	add("ip6-sctp", ser(eth(mac2, layers.EthernetTypeIPv6), ip6(b1, b2, layers.IPProtocolSCTP), &layers.SCTP{SrcPort: 9, DstPort: 9}))
	add("ip6-icmp6-echo", ser(eth(mac2, layers.EthernetTypeIPv6), ip6(b1, b2, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, &layers.ICMPv6Echo{Identifier: 1, SeqNumber: 1}))
	add("ip6-icmp6-ns", ser(eth(net.HardwareAddr{0x33, 0x33, 0xff, 0, 0, 2}, layers.EthernetTypeIPv6), ip6(net.ParseIP("fe80::1"), net.ParseIP("ff02::1:ff00:2"), layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(135, 0)}, gopacket.Payload(make([]byte, 20))))
	add("ip6-loopback-udp", ser(eth(mac2, layers.EthernetTypeIPv6), ip6(net.ParseIP("::1"), net.ParseIP("::1"), layers.IPProtocolUDP), udp(1, 2)))
	add("ip6-v4mapped", ser(eth(mac2, layers.EthernetTypeIPv6), ip6(net.ParseIP("::ffff:1.2.3.4"), b1, layers.IPProtocolUDP), udp(1, 2)))
	// Raw extension headers: hop-by-hop then TCP; fragment then UDP/ICMPv6;
	// fragment then TCP (which libpcap's "tcp" finds behind one fragment
	// header but "port" does not).
	rawIP6 := func(dst net.HardwareAddr, nh byte, ext []byte) []byte {
		h := make([]byte, 14+40)
		copy(h[0:6], dst)
		copy(h[6:12], mac1)
		binary.BigEndian.PutUint16(h[12:], 0x86dd)
		h[14] = 0x60
		binary.BigEndian.PutUint16(h[18:], uint16(len(ext)))
		h[20] = nh
		h[21] = 64
		copy(h[22:38], b1)
		copy(h[38:54], b2)
		return append(h, ext...)
	}
	tcpHdr := []byte{0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 4, 0, 0, 0, 0, 0}
	udpHdr := []byte{0, 53, 0, 53, 0, 8, 0, 0}
	icmp6Hdr := []byte{128, 0, 0, 0, 0, 1, 0, 1}
	add("ip6-hbh-tcp", rawIP6(mac2, 0, append([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpHdr...)))
	add("ip6-frag-udp", rawIP6(mac2, 44, append([]byte{17, 0, 0, 1, 0, 0, 0, 9}, udpHdr...)))
	add("ip6-frag-tcp", rawIP6(mac2, 44, append([]byte{6, 0, 0, 0, 0, 0, 0, 9}, tcpHdr...)))
	add("ip6-frag-icmp6", rawIP6(mac2, 44, append([]byte{58, 0, 0, 1, 0, 0, 0, 9}, icmp6Hdr...)))
	add("ip6-frag-sctp-later", rawIP6(mac2, 44, append([]byte{132, 0, 0, 16, 0, 0, 0, 9}, make([]byte, 16)...)))
	add("ip6-dstopts-udp", rawIP6(mac2, 60, append([]byte{17, 0, 1, 4, 0, 0, 0, 0}, udpHdr...)))
	add("ip6-routing-icmp6", rawIP6(mac2, 43, append([]byte{58, 0, 0, 0, 0, 0, 0, 0}, icmp6Hdr...)))
	add("ip6-mcast", rawIP6(net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}, 17, udpHdr))

	// 802.3 frames with LLC headers (length field <= 1500): STP, IP SAP, ISO.
	llc := func(dsap byte, n int) []byte {
		h := make([]byte, 14, 14+n)
		copy(h[0:6], []byte{0x01, 0x80, 0xc2, 0, 0, 0})
		copy(h[6:12], mac1)
		binary.BigEndian.PutUint16(h[12:], uint16(n))
		body := make([]byte, n)
		body[0], body[1], body[2] = dsap, dsap, 3
		return append(h, body...)
	}
	add("llc-stp", llc(0x42, 38))
	add("llc-ip", llc(0x06, 46))
	add("llc-iso", llc(0xfe, 46))
	add("llc-netbeui", llc(0xf0, 46))
	add("llc-100", llc(100, 46))
	add("ether-lldp", append(append([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, mac1...), 0x88, 0xcc, 2, 7, 4, 0, 0, 0, 0, 0, 0, 0))

	// Runts and truncated copies: they exercise loads past the end, which
	// reject the packet in classic BPF.
	n := len(out)
	for i := 0; i < n; i++ {
		d := out[i].data
		for _, cut := range []int{0, 1, 12, 13, 14, 15, 20, 23, 24, 30, 34, 36, 38, 40, 42, 46, 50, 54, 56, 58, 60, 62} {
			if cut < len(d) && (i%3 == 0 || cut > 20) {
				add(strings.TrimPrefix(out[i].name, "synth:")+"/cut"+itoa(cut), d[:cut])
			}
		}
	}
	return out
}
