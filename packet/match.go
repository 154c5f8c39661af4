package packet

import (
	"bytes"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Quote is what an ICMP or ICMPv6 error quotes of the datagram that caused
// it (RFC 792, RFC 4443): its IP header and the first bytes of its transport
// header, at least 8 of them by RFC 792 (RFC 1812 routers quote more; RFC
// 4884 extensions may follow, and are ignored).
type Quote struct {
	Src, Dst netip.Addr
	Proto    layers.IPProtocol
	ID       uint16 // IPv4 identification (0 for IPv6)
	TTL      uint8  // TTL or hop limit left when the error was sent
	// L4 is the number of transport header bytes quoted.
	L4 int
	// SrcPort and DstPort are TCP or UDP ports (L4 >= 4).
	SrcPort, DstPort uint16
	// EchoID and EchoSeq are those of a quoted ICMP echo (L4 >= 8).
	EchoID, EchoSeq uint16
	// Seq is a quoted TCP sequence number (L4 >= 8).
	Seq uint32
}

// QuotedHeader parses the IP header of the datagram an ICMP or ICMPv6
// error quotes, which starts at b (after the 8 bytes of an ICMP error's
// header), and returns what it says, with L4 the length of the transport
// bytes that follow, and those bytes. Ports and echo fields are left for
// the caller to read from them (Decoder.Quote reads them).
func QuotedHeader(b []byte, v6 bool) (q Quote, l4 []byte, ok bool) {
	if v6 {
		if len(b) < 40 || b[0]>>4 != 6 {
			return q, nil, false
		}
		q.Src = netip.AddrFrom16([16]byte(b[8:24]))
		q.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		q.Proto = layers.IPProtocol(b[6])
		q.TTL = b[7]
		l4 = b[40:]
	} else {
		if len(b) < 20 || b[0]>>4 != 4 {
			return q, nil, false
		}
		ihl := int(b[0]&15) * 4
		if ihl < 20 || len(b) < ihl {
			return q, nil, false
		}
		q.Src = netip.AddrFrom4([4]byte(b[12:16]))
		q.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		q.Proto = layers.IPProtocol(b[9])
		q.ID = be16(b[4:])
		q.TTL = b[8]
		l4 = b[ihl:]
	}
	q.L4 = len(l4)
	return q, l4, true
}

// quoted parses the datagram an ICMP error quotes. payload is what follows
// the first 4 bytes of an ICMPv6 header (gopacket's ICMPv6 payload), or the
// 8-byte ICMPv4 header (gopacket's ICMPv4 payload).
func quoted(payload []byte, v6 bool) (Quote, bool) {
	if v6 {
		if len(payload) < 4 {
			return Quote{}, false
		}
		payload = payload[4:]
	}
	q, l4, ok := QuotedHeader(payload, v6)
	if !ok {
		return q, false
	}
	switch q.Proto {
	case layers.IPProtocolTCP, layers.IPProtocolUDP:
		if len(l4) >= 4 {
			q.SrcPort, q.DstPort = be16(l4), be16(l4[2:])
		}
		if q.Proto == layers.IPProtocolTCP && len(l4) >= 8 {
			q.Seq = be32(l4[4:])
		}
	case layers.IPProtocolICMPv4, layers.IPProtocolICMPv6:
		if len(l4) >= 8 {
			q.EchoID, q.EchoSeq = be16(l4[4:]), be16(l4[6:])
		}
	}
	return q, true
}

// Quote returns what the last decoded frame quotes if it is an ICMP or
// ICMPv6 error (destination unreachable, time exceeded, parameter problem,
// packet too big, source quench, redirect).
func (d *Decoder) Quote() (Quote, bool) {
	switch {
	case d.Has(layers.LayerTypeICMPv4):
		switch d.ICMPv4.TypeCode.Type() {
		case 3, 4, 5, 11, 12:
			return quoted(d.ICMPv4.Payload, false)
		}
	case d.Has(layers.LayerTypeICMPv6):
		if d.ICMPv6.TypeCode.Type() < 128 {
			return quoted(d.ICMPv6.Payload, true)
		}
	}
	return Quote{}, false
}

// MatchKind is the kind of exchange a MatchKey identifies.
type MatchKind uint8

// The kinds of MatchKey.
const (
	MatchNone     MatchKind = iota
	MatchTCP                // ports
	MatchUDP                // ports (DNS too: its id is checked by Answers)
	MatchICMPEcho           // ICMP or ICMPv6 echo: id and sequence
	MatchARP                // protocol addresses
	MatchIP                 // other IP protocols: addresses and protocol
)

// MatchKey identifies a request and the replies to it: the key of a request
// (RequestKey) equals the key of each reply to it (ReplyKey), including ICMP
// errors that quote it. It is comparable and holds no pointers to the
// frame, so it serves as a map key without allocating. Fields are those of
// the request: Src and Dst its addresses, and for TCP and UDP its ports, for
// ICMP echo its identifier (SrcPort) and sequence number (DstPort), for
// other IP protocols the protocol number (Proto).
type MatchKey struct {
	Kind             MatchKind
	Proto            uint8
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

func addrOf(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// network returns the addresses and protocol of the frame's outer IP layer.
func (d *Decoder) network() (src, dst netip.Addr, proto layers.IPProtocol, ok bool) {
	for _, t := range d.Layers {
		switch t {
		case layers.LayerTypeIPv4:
			return addrOf(d.IPv4.SrcIP), addrOf(d.IPv4.DstIP), d.IPv4.Protocol, true
		case layers.LayerTypeIPv6:
			return addrOf(d.IPv6.SrcIP), addrOf(d.IPv6.DstIP), d.IPv6.NextHeader, true
		}
	}
	return
}

// RequestKey returns the key of the last decoded frame seen as a request.
func (d *Decoder) RequestKey() (MatchKey, bool) {
	if d.Has(layers.LayerTypeARP) {
		return MatchKey{Kind: MatchARP, Src: addrOf(d.ARP.SourceProtAddress), Dst: addrOf(d.ARP.DstProtAddress)}, true
	}
	src, dst, proto, ok := d.network()
	if !ok {
		return MatchKey{}, false
	}
	k := MatchKey{Src: src, Dst: dst}
	switch {
	case proto == layers.IPProtocolTCP && d.Has(layers.LayerTypeTCP):
		k.Kind, k.SrcPort, k.DstPort = MatchTCP, uint16(d.TCP.SrcPort), uint16(d.TCP.DstPort)
	case proto == layers.IPProtocolUDP && d.Has(layers.LayerTypeUDP):
		k.Kind, k.SrcPort, k.DstPort = MatchUDP, uint16(d.UDP.SrcPort), uint16(d.UDP.DstPort)
	case proto == layers.IPProtocolICMPv4 && d.Has(layers.LayerTypeICMPv4) && d.ICMPv4.TypeCode.Type() == 8:
		k.Kind, k.SrcPort, k.DstPort = MatchICMPEcho, d.ICMPv4.Id, d.ICMPv4.Seq
	case proto == layers.IPProtocolICMPv6 && d.Has(layers.LayerTypeICMPv6) && d.ICMPv6.TypeCode.Type() == 128 && len(d.ICMPv6.Payload) >= 4:
		k.Kind, k.SrcPort, k.DstPort = MatchICMPEcho, be16(d.ICMPv6.Payload), be16(d.ICMPv6.Payload[2:])
	default:
		k.Kind, k.Proto = MatchIP, uint8(proto)
	}
	return k, true
}

// ReplyKey returns the key of the request the last decoded frame would
// answer: a TCP or UDP reply with the addresses and ports swapped, an echo
// reply, an ARP reply, or an ICMP error keyed by the datagram it quotes.
func (d *Decoder) ReplyKey() (MatchKey, bool) {
	if d.Has(layers.LayerTypeARP) {
		return MatchKey{Kind: MatchARP, Src: addrOf(d.ARP.DstProtAddress), Dst: addrOf(d.ARP.SourceProtAddress)}, true
	}
	if q, ok := d.Quote(); ok {
		k := MatchKey{Src: q.Src, Dst: q.Dst}
		switch {
		case q.Proto == layers.IPProtocolTCP && q.L4 >= 4:
			k.Kind, k.SrcPort, k.DstPort = MatchTCP, q.SrcPort, q.DstPort
		case q.Proto == layers.IPProtocolUDP && q.L4 >= 4:
			k.Kind, k.SrcPort, k.DstPort = MatchUDP, q.SrcPort, q.DstPort
		case (q.Proto == layers.IPProtocolICMPv4 || q.Proto == layers.IPProtocolICMPv6) && q.L4 >= 8:
			k.Kind, k.SrcPort, k.DstPort = MatchICMPEcho, q.EchoID, q.EchoSeq
		default:
			k.Kind, k.Proto = MatchIP, uint8(q.Proto)
		}
		return k, true
	}
	src, dst, proto, ok := d.network()
	if !ok {
		return MatchKey{}, false
	}
	k := MatchKey{Src: dst, Dst: src}
	switch {
	case proto == layers.IPProtocolTCP && d.Has(layers.LayerTypeTCP):
		k.Kind, k.SrcPort, k.DstPort = MatchTCP, uint16(d.TCP.DstPort), uint16(d.TCP.SrcPort)
	case proto == layers.IPProtocolUDP && d.Has(layers.LayerTypeUDP):
		k.Kind, k.SrcPort, k.DstPort = MatchUDP, uint16(d.UDP.DstPort), uint16(d.UDP.SrcPort)
	case proto == layers.IPProtocolICMPv4 && d.Has(layers.LayerTypeICMPv4) && d.ICMPv4.TypeCode.Type() == 0:
		k.Kind, k.SrcPort, k.DstPort = MatchICMPEcho, d.ICMPv4.Id, d.ICMPv4.Seq
	case proto == layers.IPProtocolICMPv6 && d.Has(layers.LayerTypeICMPv6) && d.ICMPv6.TypeCode.Type() == 129 && len(d.ICMPv6.Payload) >= 4:
		k.Kind, k.SrcPort, k.DstPort = MatchICMPEcho, be16(d.ICMPv6.Payload), be16(d.ICMPv6.Payload[2:])
	default:
		k.Kind, k.Proto = MatchIP, uint8(proto)
	}
	return k, true
}

// Answers reports whether the frame decoded in reply answers the one
// decoded in request, as Scapy's answers() does: the keys agree, and
// moreover a TCP reply acknowledges the request's sequence number (within
// Scapy's tolerance), a DNS response has the query's id and question, an
// ICMP error quotes the request's IPv4 identification and TCP sequence
// number when it quotes them, and an ARP reply is a reply.
func Answers(reply, request *Decoder) bool {
	rk, ok1 := reply.ReplyKey()
	qk, ok2 := request.RequestKey()
	if !ok1 || !ok2 || rk != qk {
		return false
	}
	if q, ok := reply.Quote(); ok {
		if request.Has(layers.LayerTypeIPv4) && !request.Has(layers.LayerTypeIPv6) && q.ID != request.IPv4.Id {
			return false
		}
		if q.Proto == layers.IPProtocolTCP && q.L4 >= 8 && q.Seq != request.TCP.Seq {
			return false
		}
		return true
	}
	switch rk.Kind {
	case MatchARP:
		return reply.ARP.Operation == 2 && request.ARP.Operation == 1
	case MatchTCP:
		r, q := &reply.TCP, &request.TCP
		// Scapy's TCP.answers: the reply acknowledges the request's
		// sequence number, give or take 2, unless it is a bare RST.
		if !(q.SYN && !q.ACK) && absDiff(q.Ack, r.Seq) > 2 {
			return false
		}
		if r.RST && !r.ACK {
			return true
		}
		return absDiff(r.Ack, q.Seq) <= 2+uint32(len(q.Payload))
	case MatchUDP:
		if reply.Has(layers.LayerTypeDNS) && request.Has(layers.LayerTypeDNS) {
			return dnsAnswers(&reply.DNS, &request.DNS)
		}
	}
	return true
}

func absDiff(a, b uint32) uint32 {
	if d := a - b; int32(d) >= 0 {
		return d
	} else {
		return -d
	}
}

func dnsAnswers(r, q *layers.DNS) bool {
	if !r.QR || q.QR || r.ID != q.ID || len(r.Questions) != len(q.Questions) {
		return false
	}
	for i := range r.Questions {
		a, b := &r.Questions[i], &q.Questions[i]
		if a.Type != b.Type || a.Class != b.Class || !bytes.EqualFold(a.Name, b.Name) {
			return false
		}
	}
	return true
}
