package analyze

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Kind selects a conversation or endpoint table.
type Kind uint8

// The tables an Analyzer can keep.
const (
	Eth  Kind = 1 << iota // Ethernet (MAC addresses)
	IPv4                  // IPv4 addresses
	IPv6                  // IPv6 addresses
	TCP                   // IP addresses and TCP ports
	UDP                   // IP addresses and UDP ports
)

// AllKinds selects every table.
const AllKinds = Eth | IPv4 | IPv6 | TCP | UDP

// String returns tshark's name for the table: "Ethernet", "IPv4", "IPv6",
// "TCP" or "UDP".
func (k Kind) String() string {
	switch k {
	case Eth:
		return "Ethernet"
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return "Kind(?)"
}

// ParseKind maps a table name as tshark spells it in -z conv,NAME (eth, ip,
// ipv6, tcp, udp) to its Kind.
func ParseKind(name string) (Kind, bool) {
	switch name {
	case "eth":
		return Eth, true
	case "ip", "ipv4":
		return IPv4, true
	case "ipv6":
		return IPv6, true
	case "tcp":
		return TCP, true
	case "udp":
		return UDP, true
	}
	return 0, false
}

// Locator finds the country and autonomous system of an address, e.g. from
// a MaxMind database. Either result may be empty when unknown.
type Locator interface {
	Locate(addr netip.Addr) (country, asn string)
}

// Config says what an Analyzer computes. The zero value computes nothing
// but packet and byte totals.
type Config struct {
	// Conversations selects the conversation tables to keep (zero: none).
	Conversations Kind
	// Endpoints selects the endpoint tables to keep (zero: none).
	Endpoints Kind
	// Hierarchy keeps the protocol hierarchy (tshark -z io,phs).
	Hierarchy bool
	// Interval, when positive, keeps frames and bytes per interval
	// (tshark -z io,stat,N).
	Interval time.Duration
	// FollowStream, when not negative, keeps the payload of that TCP stream
	// (tshark -z follow,tcp,ascii,N). Use -1 to follow none; the zero value
	// follows stream 0.
	FollowStream int
	// DNS keeps DNS questions with their answers.
	DNS bool
	// HTTP keeps HTTP requests with the status of their responses.
	HTTP bool
	// TLS keeps the server name (SNI) and ALPN of TLS ClientHellos.
	TLS bool
	// Locator, when not nil, adds country and ASN to IP endpoints.
	Locator Locator
}

// Analyzer accumulates statistics over packets. Create one with New.
type Analyzer struct {
	cfg Config
	dec decoder

	packets, bytes uint64
	first, last    time.Time
	started        bool

	convs [5]*table // by kind bit index; nil when not kept
	eps   [5]*epTable
	tcp   tcpStreams
	phs   *hierarchy
	io    ioStats
	fol   *follow
	app   appStats

	// per-packet scratch
	path []proto
}

// New returns an Analyzer that computes what cfg selects.
func New(cfg Config) *Analyzer {
	a := &Analyzer{cfg: cfg}
	a.dec.init()
	for i := range 5 {
		k := Kind(1 << i)
		if cfg.Conversations&k != 0 {
			a.convs[i] = newTable(k)
		}
		if cfg.Endpoints&k != 0 {
			a.eps[i] = newEpTable(k)
		}
	}
	// TCP stream numbers are needed by the TCP table, follow and HTTP.
	a.tcp.init()
	if cfg.Hierarchy {
		a.phs = newHierarchy()
	}
	a.io.interval = cfg.Interval
	if cfg.FollowStream >= 0 {
		a.fol = &follow{stream: cfg.FollowStream}
	}
	a.app.init(cfg)
	a.path = make([]proto, 0, 16)
	return a
}

// Packets returns the number of packets added.
func (a *Analyzer) Packets() uint64 { return a.packets }

// Bytes returns the sum of the wire lengths of the packets added.
func (a *Analyzer) Bytes() uint64 { return a.bytes }

// First returns the timestamp of the first packet (zero before any).
func (a *Analyzer) First() time.Time { return a.first }

// Duration returns the time from the first packet to the latest one.
func (a *Analyzer) Duration() time.Duration { return a.last.Sub(a.first) }

// flowPacket is what one packet contributes to the tables.
type flowPacket struct {
	rel      time.Duration
	length   uint64
	hasEth   bool
	ethSrc   addrKey
	ethDst   addrKey
	ipKind   Kind // IPv4, IPv6 or 0
	ipSrc    addrKey
	ipDst    addrKey
	l4       Kind // TCP, UDP or 0
	sport    uint16
	dport    uint16
	tcpFlags uint8
	seq      uint32
	payload  []byte
}

// TCP flag bits as in the header (RFC 9293).
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// Add accounts one packet: data as captured (possibly truncated), its
// capture time, its length on the wire and the link type it starts with.
// Malformed packets count as far as they decode; Add never fails.
func (a *Analyzer) Add(data []byte, ts time.Time, wireLen int, link layers.LinkType) {
	if wireLen < len(data) {
		wireLen = len(data)
	}
	if !a.started {
		a.started = true
		a.first = ts
	}
	if ts.After(a.last) {
		a.last = ts
	}
	a.packets++
	a.bytes += uint64(wireLen)
	var fp flowPacket
	fp.rel = ts.Sub(a.first)
	fp.length = uint64(wireLen)
	a.io.add(fp.rel, fp.length)

	a.path = a.path[:0]
	decoded := a.dec.decode(data, link)
	d := &a.dec
	for i, lt := range decoded {
		switch lt {
		case layers.LayerTypeEthernet:
			a.path = append(a.path, protoEth)
			fp.hasEth = true
			fp.ethSrc = macKey(d.eth.SrcMAC)
			fp.ethDst = macKey(d.eth.DstMAC)
		case layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2:
			a.path = append(a.path, protoSLL)
		case layers.LayerTypeLoopback:
			a.path = append(a.path, protoNull)
		case layers.LayerTypeDot1Q:
			if i > 0 && decoded[i-1] == layers.LayerTypeEthernet && d.eth.EthernetType == layers.EthernetTypeQinQ {
				a.path = append(a.path, protoQinQ)
			} else {
				a.path = append(a.path, protoVLAN)
			}
		case layers.LayerTypeARP:
			a.path = append(a.path, protoARP)
		case layers.LayerTypeIPv4:
			if i == 0 {
				a.path = append(a.path, protoRaw)
			}
			a.path = append(a.path, protoIP)
			if fp.ipKind == 0 {
				fp.ipKind = IPv4
				fp.ipSrc = ipKey(d.ip4.SrcIP)
				fp.ipDst = ipKey(d.ip4.DstIP)
			}
		case layers.LayerTypeIPv6:
			if i == 0 {
				a.path = append(a.path, protoRaw)
			}
			a.path = append(a.path, protoIPv6)
			if fp.ipKind == 0 {
				fp.ipKind = IPv6
				fp.ipSrc = ipKey(d.ip6.SrcIP)
				fp.ipDst = ipKey(d.ip6.DstIP)
			}
		case layers.LayerTypeICMPv4:
			a.path = append(a.path, protoICMP)
		case layers.LayerTypeICMPv6:
			a.path = append(a.path, protoICMPv6)
		case layers.LayerTypeTCP:
			a.path = append(a.path, protoTCP)
			if fp.l4 == 0 && fp.ipKind != 0 {
				fp.l4 = TCP
				fp.sport, fp.dport = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
				fp.seq = d.tcp.Seq
				fp.tcpFlags = tcpFlags(&d.tcp)
				fp.payload = d.tcp.Payload
			}
		case layers.LayerTypeUDP:
			a.path = append(a.path, protoUDP)
			if fp.l4 == 0 && fp.ipKind != 0 {
				fp.l4 = UDP
				fp.sport, fp.dport = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
				fp.payload = d.udp.Payload
			}
		}
	}
	if fp.l4 != 0 && len(fp.payload) > 0 && len(a.path) > 0 && (a.path[len(a.path)-1] == protoTCP || a.path[len(a.path)-1] == protoUDP) {
		if p := a.app.classify(&fp); p != protoNone {
			a.path = append(a.path, p)
		}
	}
	if a.phs != nil {
		a.phs.add(a.path, fp.length)
	}
	a.account(&fp)
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= flagFIN
	}
	if t.SYN {
		f |= flagSYN
	}
	if t.RST {
		f |= flagRST
	}
	if t.ACK {
		f |= flagACK
	}
	return f
}

// account updates the conversation and endpoint tables, follow and the
// application summaries.
func (a *Analyzer) account(fp *flowPacket) {
	if fp.hasEth {
		a.update(0, endpointKey{addr: fp.ethSrc}, endpointKey{addr: fp.ethDst}, 0, fp)
	}
	switch fp.ipKind {
	case IPv4:
		a.update(1, endpointKey{addr: fp.ipSrc}, endpointKey{addr: fp.ipDst}, 0, fp)
	case IPv6:
		a.update(2, endpointKey{addr: fp.ipSrc}, endpointKey{addr: fp.ipDst}, 0, fp)
	}
	src := endpointKey{addr: fp.ipSrc, port: fp.sport}
	dst := endpointKey{addr: fp.ipDst, port: fp.dport}
	switch fp.l4 {
	case TCP:
		stream, fromA := a.tcp.stream(src, dst, fp)
		a.update(3, src, dst, uint32(stream)+1, fp)
		if a.fol != nil && stream == a.fol.stream {
			a.fol.add(src, dst, fp)
		}
		if len(fp.payload) > 0 {
			a.app.tcpPayload(stream, fromA, fp)
		}
	case UDP:
		a.update(4, src, dst, 0, fp)
		if len(fp.payload) > 0 {
			a.app.udpPayload(fp)
		}
	}
}

func (a *Analyzer) update(i int, src, dst endpointKey, stream uint32, fp *flowPacket) {
	if t := a.convs[i]; t != nil {
		t.add(src, dst, stream, fp)
	}
	if e := a.eps[i]; e != nil {
		e.add(src, dst, fp.length)
	}
}

// addrKey holds an address compactly: 4 or 16 bytes of IP, or 6 of MAC,
// with its length.
type addrKey struct {
	b [16]byte
	n uint8
}

func macKey(m []byte) addrKey {
	var k addrKey
	k.n = uint8(copy(k.b[:], m))
	return k
}

func ipKey(ip []byte) addrKey {
	var k addrKey
	k.n = uint8(copy(k.b[:], ip))
	return k
}

// endpointKey is an address and, for TCP and UDP, a port.
type endpointKey struct {
	addr addrKey
	port uint16
}

func (k endpointKey) less(o endpointKey) bool {
	for i := range k.addr.b {
		if k.addr.b[i] != o.addr.b[i] {
			return k.addr.b[i] < o.addr.b[i]
		}
	}
	return k.port < o.port
}

// Address is an endpoint address: an IP address, or a MAC address for
// Ethernet tables.
type Address struct {
	IP  netip.Addr // valid for IPv4, IPv6, TCP and UDP tables
	MAC [6]byte    // for Ethernet tables
}

// String formats the address as tshark -n does.
func (a Address) String() string {
	if a.IP.IsValid() {
		return a.IP.String()
	}
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, x := range a.MAC {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexd[x>>4], hexd[x&15])
	}
	return string(b)
}

func (k addrKey) address() Address {
	switch k.n {
	case 4:
		return Address{IP: netip.AddrFrom4([4]byte(k.b[:4]))}
	case 16:
		return Address{IP: netip.AddrFrom16(k.b)}
	}
	var a Address
	copy(a.MAC[:], k.b[:6])
	return a
}

// decoder is the reused layer decoder: one DecodingLayerParser per first
// layer, sharing the layer structs.
type decoder struct {
	eth     layers.Ethernet
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	dot1q   layers.Dot1Q
	arp     layers.ARP
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	ip6ext  layers.IPv6ExtensionSkipper
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func (d *decoder) init() {
	d.parsers = make(map[gopacket.LayerType]*gopacket.DecodingLayerParser)
	all := []gopacket.DecodingLayer{&d.eth, &d.sll, &d.sll2, &d.loop, &d.dot1q, &d.arp, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6, &d.ip6ext}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2, layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	d.decoded = make([]gopacket.LayerType, 0, 16)
}

// decode decodes as many layers as it can and returns their types.
func (d *decoder) decode(data []byte, link layers.LinkType) []gopacket.LayerType {
	var first gopacket.LayerType
	switch link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if link == layers.LinkTypeLoop || len(data) < 4 {
			return d.decoded[:0]
		}
		first = layers.LayerTypeLoopback
		// Loopback stores the family in host order; gopacket accepts both.
		_ = binary.LittleEndian
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12:
		if len(data) == 0 {
			return d.decoded[:0]
		}
		switch data[0] >> 4 {
		case 4:
			first = layers.LayerTypeIPv4
		case 6:
			first = layers.LayerTypeIPv6
		default:
			return d.decoded[:0]
		}
	default:
		return d.decoded[:0]
	}
	d.decoded = d.decoded[:0]
	_ = d.parsers[first].DecodeLayers(data, &d.decoded)
	return d.decoded
}
