package analyze

import (
	"net/netip"
	"time"

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
	// IOLimit, when positive, keeps the IO statistics in at most IOLimit
	// intervals whatever the capture's span, for a graph of a capture whose
	// length is not known in advance: the interval starts at Interval (1ms
	// when zero) and doubles, merging neighbours, whenever a packet falls
	// beyond the last one. Zero: no bound.
	IOLimit int
	// IOProtocols also keeps the IO statistics per protocol, each packet
	// counted for the innermost protocol of its hierarchy path (see
	// IOProtocols). It needs Interval or IOLimit.
	IOProtocols bool
	// Follow keeps the payload of TCP stream FollowStream (tshark -z
	// follow,tcp,ascii,N).
	Follow bool
	// FollowStream is the tcp.stream number to follow (zero: the first).
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
	flows flowCache

	// per-packet scratch
	path []proto
}

// New returns an Analyzer that computes what cfg selects.
func New(cfg Config) *Analyzer {
	a := &Analyzer{cfg: cfg}
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
	a.flows.index = make(map[flowKey]int32)
	a.flows.index4 = make(map[flowKey4]int32)
	if cfg.Hierarchy {
		a.phs = newHierarchy()
	}
	a.io.init(cfg)
	if cfg.Follow {
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

// maxHops bounds the layers of one kind counted per packet (tunnels nest).
const maxHops = 4

// ipRec is one IP header of a packet.
type ipRec struct {
	kind     Kind // IPv4 or IPv6
	src, dst addrKey
}

// l4Rec is one TCP or UDP header of a packet, with the addresses of the IP
// header that carries it.
type l4Rec struct {
	kind     Kind // TCP or UDP
	src, dst endpointKey
	flags    uint8 // TCP
	seq      uint32
	payload  []byte
}

// flowPacket is what one packet contributes to the tables: every Ethernet,
// IP and transport header found, outermost first (tshark counts a tunnelled
// packet in the conversations of each layer).
type flowPacket struct {
	rel    time.Duration
	length uint64
	nEth   int
	eth    [maxHops][2]addrKey // source, destination
	nIP    int
	ip     [maxHops]ipRec
	nL4    int
	l4     [maxHops]l4Rec
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
	interval := a.io.add(fp.rel, fp.length)

	a.path = a.dec.walk(data, link, &fp, a.path)
	stream := a.account(&fp)
	if a.phs != nil || a.io.pframes != nil {
		a.path = appProto(a.path, &fp, stream, &a.app)
		if a.phs != nil {
			a.phs.add(a.path, fp.length)
		}
		if n := len(a.path); n > 0 && a.io.pframes != nil {
			a.io.addProto(a.path[n-1], interval, fp.length)
		}
	}
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
// application summaries. It returns the TCP stream of the innermost
// transport header, or -1.
func (a *Analyzer) account(fp *flowPacket) int {
	if a.flows.cacheable(fp) {
		return a.accountCached(fp)
	}
	lastStream := -1
	for _, e := range fp.eth[:fp.nEth] {
		a.update(0, endpointKey{addr: e[0]}, endpointKey{addr: e[1]}, 0, fp)
	}
	for _, ip := range fp.ip[:fp.nIP] {
		i := 1
		if ip.kind == IPv6 {
			i = 2
		}
		a.update(i, endpointKey{addr: ip.src}, endpointKey{addr: ip.dst}, 0, fp)
	}
	for i := range fp.nL4 {
		r := &fp.l4[i]
		last := i == fp.nL4-1
		switch r.kind {
		case TCP:
			stream, fromA := a.tcp.stream(r)
			if last {
				lastStream = stream
			}
			a.update(3, r.src, r.dst, uint32(stream)+1, fp)
			if a.fol != nil && stream == a.fol.stream {
				a.fol.add(r)
			}
			if last && len(r.payload) > 0 {
				a.app.tcpPayload(stream, fromA, r)
			}
		case UDP:
			a.update(4, r.src, r.dst, 0, fp)
			if last && len(r.payload) > 0 {
				a.app.udpPayload(r)
			}
		}
	}
	return lastStream
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
