package packet

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// FrameInfo is what a capture knows of a frame beyond its bytes: the
// frame.* fields.
type FrameInfo struct {
	Number   uint64    // 1 for the first frame
	Time     time.Time // capture time
	Length   int       // bytes on the wire
	CapLen   int       // bytes captured
	Relative time.Duration
}

// Fields extracts fields named as tshark names them (`tshark -T fields -e
// ip.src …`) from decoded frames, formatted as tshark prints them. As
// tshark does by default, tcp.seq and tcp.ack are relative to the first
// sequence number seen in each direction of a connection (tcp.seq_raw and
// tcp.ack_raw are not), and a field that occurs twice — the addresses of
// an ICMP error and of the header it quotes — prints both, comma-separated.
// Fields keeps per-connection state for the relative numbers: memory grows
// with connections, not frames. A Fields is not safe for concurrent use.
type Fields struct {
	names []string
	get   []fieldFunc
	base  map[halfFlow]uint32
}

// fieldFunc appends one field's value(s) to b.
type fieldFunc func(b []byte, d *Decoder, fi *FrameInfo, f *Fields) []byte

// halfFlow is one direction of a TCP connection.
type halfFlow struct {
	src, dst     netip.Addr
	sport, dport uint16
}

// NewFields returns an extractor of the named fields; an unknown name is an
// error that lists the known ones.
func NewFields(names []string) (*Fields, error) {
	f := &Fields{names: names, base: map[halfFlow]uint32{}}
	for _, n := range names {
		fn, ok := fieldTable()[n]
		if !ok {
			return nil, fmt.Errorf("packet: unknown field %q (known: %s)", n, strings.Join(FieldNames(), ", "))
		}
		f.get = append(f.get, fn)
	}
	return f, nil
}

// FieldNames lists the fields NewFields knows, sorted.
func FieldNames() []string {
	out := make([]string, 0, len(fieldTable()))
	for n := range fieldTable() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Names returns the fields f extracts, in order.
func (f *Fields) Names() []string { return f.names }

// Append appends the fields of the last frame decoded by d, separated by
// sep, as tshark -T fields prints them (an absent field is empty). It
// allocates only for a connection seen for the first time.
func (f *Fields) Append(b []byte, d *Decoder, fi FrameInfo, sep byte) []byte {
	f.track(d)
	for i, get := range f.get {
		if i > 0 {
			b = append(b, sep)
		}
		b = get(b, d, &fi, f)
	}
	return b
}

// track remembers the first sequence number of each direction of a TCP
// connection, as tshark's relative numbers start from it.
func (f *Fields) track(d *Decoder) {
	k, ok := tcpHalf(d)
	if !ok {
		return
	}
	if _, seen := f.base[k]; !seen {
		base := d.TCP.Seq
		if !d.TCP.SYN {
			base-- // mid-stream: tshark numbers the first byte seen 1
		}
		f.base[k] = base
	}
	rev := halfFlow{k.dst, k.src, k.dport, k.sport}
	if _, seen := f.base[rev]; !seen && d.TCP.ACK {
		f.base[rev] = d.TCP.Ack - 1
	}
}

func tcpHalf(d *Decoder) (halfFlow, bool) {
	if !d.Has(layers.LayerTypeTCP) {
		return halfFlow{}, false
	}
	src, dst, _, ok := d.network()
	if !ok {
		return halfFlow{}, false
	}
	return halfFlow{src, dst, uint16(d.TCP.SrcPort), uint16(d.TCP.DstPort)}, true
}

// field makes a field present when has says its layer was decoded.
func field(has func(*Decoder) bool, app func(b []byte, d *Decoder) []byte) fieldFunc {
	return func(b []byte, d *Decoder, _ *FrameInfo, _ *Fields) []byte {
		if !has(d) {
			return b
		}
		return app(b, d)
	}
}

// fieldTable maps each field name to its extractor, built on first use.
var fieldTable = sync.OnceValue(func() map[string]fieldFunc {
	ip := func(d *Decoder) bool { return d.Has(layers.LayerTypeIPv4) }
	ip6 := func(d *Decoder) bool { return d.Has(layers.LayerTypeIPv6) }
	tcp := func(d *Decoder) bool { return d.Has(layers.LayerTypeTCP) }
	udp := func(d *Decoder) bool { return d.Has(layers.LayerTypeUDP) }
	icmp := func(d *Decoder) bool { return d.Has(layers.LayerTypeICMPv4) }
	icmp6 := func(d *Decoder) bool { return d.Has(layers.LayerTypeICMPv6) }
	eth := func(d *Decoder) bool { return d.Has(layers.LayerTypeEthernet) }
	arp := func(d *Decoder) bool { return d.Has(layers.LayerTypeARP) }
	dns := func(d *Decoder) bool { return d.Has(layers.LayerTypeDNS) }
	// quoted appends ",value" of the header an ICMP error quotes.
	quoted := func(b []byte, d *Decoder, v6 bool, app func(b []byte, q Quote) []byte) []byte {
		if q, ok := d.Quote(); ok && q.Src.Is6() == v6 {
			b = append(b, ',')
			b = app(b, q)
		}
		return b
	}
	ports := func(has func(*Decoder) bool, proto layers.IPProtocol, own func(d *Decoder) uint16, q func(Quote) uint16) fieldFunc {
		return func(b []byte, d *Decoder, _ *FrameInfo, _ *Fields) []byte {
			sep := false
			if has(d) {
				b = appendUint(b, uint64(own(d)))
				sep = true
			}
			if qt, ok := d.Quote(); ok && qt.Proto == proto && qt.L4 >= 4 {
				if sep {
					b = append(b, ',')
				}
				b = appendUint(b, uint64(q(qt)))
			}
			return b
		}
	}
	return map[string]fieldFunc{
		"frame.number": func(b []byte, _ *Decoder, fi *FrameInfo, _ *Fields) []byte { return appendUint(b, fi.Number) },
		"frame.len":    func(b []byte, _ *Decoder, fi *FrameInfo, _ *Fields) []byte { return appendUint(b, uint64(fi.Length)) },
		"frame.cap_len": func(b []byte, _ *Decoder, fi *FrameInfo, _ *Fields) []byte {
			return appendUint(b, uint64(fi.CapLen))
		},
		"frame.time_epoch": func(b []byte, _ *Decoder, fi *FrameInfo, _ *Fields) []byte {
			return appendSecNano(b, fi.Time.Unix(), fi.Time.Nanosecond())
		},
		"frame.time_relative": func(b []byte, _ *Decoder, fi *FrameInfo, _ *Fields) []byte {
			r := fi.Relative
			return appendSecNano(b, int64(r/time.Second), int(r%time.Second))
		},
		"eth.src":        field(eth, func(b []byte, d *Decoder) []byte { return appendMAC(b, d.Ethernet.SrcMAC) }),
		"eth.dst":        field(eth, func(b []byte, d *Decoder) []byte { return appendMAC(b, d.Ethernet.DstMAC) }),
		"eth.type":       field(eth, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(d.Ethernet.EthernetType), 4) }),
		"arp.opcode":     field(arp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.ARP.Operation)) }),
		"arp.src.hw_mac": field(arp, func(b []byte, d *Decoder) []byte { return appendMAC(b, d.ARP.SourceHwAddress) }),
		"arp.src.proto_ipv4": field(arp, func(b []byte, d *Decoder) []byte {
			return appendIP(b, d.ARP.SourceProtAddress)
		}),
		"arp.dst.proto_ipv4": field(arp, func(b []byte, d *Decoder) []byte { return appendIP(b, d.ARP.DstProtAddress) }),
		"ip.version":         field(ip, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.IPv4.Version)) }),
		"ip.hdr_len":         field(ip, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.IPv4.IHL)*4) }),
		"ip.dsfield":         field(ip, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(d.IPv4.TOS), 2) }),
		"ip.len":             field(ip, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.IPv4.Length)) }),
		"ip.flags":           field(ip, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(d.IPv4.Flags), 2) }),
		"ip.frag_offset": field(ip, func(b []byte, d *Decoder) []byte {
			return appendUint(b, uint64(d.IPv4.FragOffset)*8)
		}),
		"ip.checksum": field(ip, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(d.IPv4.Checksum), 4) }),
		"ip.id": field(ip, func(b []byte, d *Decoder) []byte {
			b = appendHex(b, uint64(d.IPv4.Id), 4)
			return quoted(b, d, false, func(b []byte, q Quote) []byte { return appendHex(b, uint64(q.ID), 4) })
		}),
		"ip.ttl": field(ip, func(b []byte, d *Decoder) []byte {
			b = appendUint(b, uint64(d.IPv4.TTL))
			return quoted(b, d, false, func(b []byte, q Quote) []byte { return appendUint(b, uint64(q.TTL)) })
		}),
		"ip.proto": field(ip, func(b []byte, d *Decoder) []byte {
			b = appendUint(b, uint64(d.IPv4.Protocol))
			return quoted(b, d, false, func(b []byte, q Quote) []byte { return appendUint(b, uint64(q.Proto)) })
		}),
		"ip.src": field(ip, func(b []byte, d *Decoder) []byte {
			b = appendIP(b, d.IPv4.SrcIP)
			return quoted(b, d, false, func(b []byte, q Quote) []byte { return q.Src.AppendTo(b) })
		}),
		"ip.dst": field(ip, func(b []byte, d *Decoder) []byte {
			b = appendIP(b, d.IPv4.DstIP)
			return quoted(b, d, false, func(b []byte, q Quote) []byte { return q.Dst.AppendTo(b) })
		}),
		"ipv6.src": field(ip6, func(b []byte, d *Decoder) []byte {
			b = appendIP(b, d.IPv6.SrcIP)
			return quoted(b, d, true, func(b []byte, q Quote) []byte { return q.Src.AppendTo(b) })
		}),
		"ipv6.dst": field(ip6, func(b []byte, d *Decoder) []byte {
			b = appendIP(b, d.IPv6.DstIP)
			return quoted(b, d, true, func(b []byte, q Quote) []byte { return q.Dst.AppendTo(b) })
		}),
		"ipv6.nxt":    field(ip6, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.IPv6.NextHeader)) }),
		"ipv6.hlim":   field(ip6, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.IPv6.HopLimit)) }),
		"ipv6.plen":   field(ip6, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.IPv6.Length)) }),
		"tcp.srcport": ports(tcp, layers.IPProtocolTCP, func(d *Decoder) uint16 { return uint16(d.TCP.SrcPort) }, func(q Quote) uint16 { return q.SrcPort }),
		"tcp.dstport": ports(tcp, layers.IPProtocolTCP, func(d *Decoder) uint16 { return uint16(d.TCP.DstPort) }, func(q Quote) uint16 { return q.DstPort }),
		"udp.srcport": ports(udp, layers.IPProtocolUDP, func(d *Decoder) uint16 { return uint16(d.UDP.SrcPort) }, func(q Quote) uint16 { return q.SrcPort }),
		"udp.dstport": ports(udp, layers.IPProtocolUDP, func(d *Decoder) uint16 { return uint16(d.UDP.DstPort) }, func(q Quote) uint16 { return q.DstPort }),
		"udp.length":  field(udp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.UDP.Length)) }),
		"udp.checksum": field(udp, func(b []byte, d *Decoder) []byte {
			return appendHex(b, uint64(d.UDP.Checksum), 4)
		}),
		"tcp.seq_raw": field(tcp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.TCP.Seq)) }),
		"tcp.ack_raw": field(tcp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.TCP.Ack)) }),
		"tcp.seq": func(b []byte, d *Decoder, _ *FrameInfo, f *Fields) []byte {
			k, ok := tcpHalf(d)
			if !ok {
				return b
			}
			return appendUint(b, uint64(d.TCP.Seq-f.base[k]))
		},
		"tcp.ack": func(b []byte, d *Decoder, _ *FrameInfo, f *Fields) []byte {
			k, ok := tcpHalf(d)
			if !ok {
				return b
			}
			if !d.TCP.ACK {
				return appendUint(b, uint64(d.TCP.Ack)) // tshark: raw when the flag is off
			}
			return appendUint(b, uint64(d.TCP.Ack-f.base[halfFlow{k.dst, k.src, k.dport, k.sport}]))
		},
		"tcp.flags":   field(tcp, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(tcpFlags(&d.TCP)), 4) }),
		"tcp.len":     field(tcp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(len(d.TCP.Payload))) }),
		"tcp.hdr_len": field(tcp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.TCP.DataOffset)*4) }),
		"tcp.window_size_value": field(tcp, func(b []byte, d *Decoder) []byte {
			return appendUint(b, uint64(d.TCP.Window))
		}),
		"tcp.checksum": field(tcp, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(d.TCP.Checksum), 4) }),
		"icmp.type":    field(icmp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.ICMPv4.TypeCode.Type())) }),
		"icmp.code":    field(icmp, func(b []byte, d *Decoder) []byte { return appendUint(b, uint64(d.ICMPv4.TypeCode.Code())) }),
		"icmpv6.type": field(icmp6, func(b []byte, d *Decoder) []byte {
			return appendUint(b, uint64(d.ICMPv6.TypeCode.Type()))
		}),
		"icmpv6.code": field(icmp6, func(b []byte, d *Decoder) []byte {
			return appendUint(b, uint64(d.ICMPv6.TypeCode.Code()))
		}),
		"dns.id":    field(dns, func(b []byte, d *Decoder) []byte { return appendHex(b, uint64(d.DNS.ID), 4) }),
		"dns.flags": field(dns, func(b []byte, d *Decoder) []byte { return appendHex(b, dnsFlags(&d.DNS), 4) }),
		"dns.qry.name": field(dns, func(b []byte, d *Decoder) []byte {
			for i := range d.DNS.Questions {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, d.DNS.Questions[i].Name...)
			}
			return b
		}),
		"dns.a": field(dns, func(b []byte, d *Decoder) []byte { return appendRRs(b, &d.DNS, layers.DNSTypeA) }),
		"dns.aaaa": field(dns, func(b []byte, d *Decoder) []byte {
			return appendRRs(b, &d.DNS, layers.DNSTypeAAAA)
		}),
	}
})

func appendRRs(b []byte, m *layers.DNS, t layers.DNSType) []byte {
	n := 0
	for i := range m.Answers {
		if m.Answers[i].Type != t {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendIP(b, m.Answers[i].IP)
		n++
	}
	return b
}

// appendSecNano appends seconds and nanoseconds as tshark prints times:
// "1700000000.123456789".
func appendSecNano(b []byte, sec int64, nsec int) []byte {
	if sec < 0 {
		b = append(b, '-')
		sec = -sec
	}
	b = appendUint(b, uint64(sec))
	b = append(b, '.')
	for div := 100000000; div > 0; div /= 10 {
		b = append(b, byte('0'+nsec/div%10))
	}
	return b
}
