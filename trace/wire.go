package trace

import (
	"encoding/binary"
	"net/netip"

	"sonde/packet"
)

// IP protocol numbers used on the wire.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// payloadLen is the number of data bytes after the UDP or ICMP header: 32,
// so an IPv4 UDP probe is 60 bytes long, as Linux traceroute's are. Its
// first two bytes are the word that sets the checksum (Paris traceroute).
const payloadLen = 32

// flowKey is what a probe keeps constant (Paris) or varies (classic): the
// addresses, the ports (or the ICMP identifier) and the protocol.
type flowKey struct {
	src, dst   netip.Addr
	method     Method
	sport      uint16 // UDP/TCP source port, ICMP identifier
	dport      uint16 // UDP/TCP destination port
	classic    bool   // vary the flow per probe, as classic traceroute does
	tcpNonce   uint16 // low half of TCP sequence numbers
	icmpSumFix uint16 // the constant ICMP checksum of Paris mode
}

// build writes into b (which must hold 60+payloadLen bytes) the probe with
// the given TTL and token, and returns its length. The token is what tells
// probes apart in replies: the UDP checksum, the ICMP echo sequence number,
// the upper half of the TCP sequence number, and (IPv4) the IP ID. Tokens
// are 1 to 0xfffe.
func (k *flowKey) build(b []byte, ttl uint8, token uint16) int {
	v6 := k.dst.Is6()
	hl := 20
	if v6 {
		hl = 40
	}
	var l4 []byte
	var proto byte
	switch k.method {
	case UDP:
		proto = protoUDP
		l4 = b[hl : hl+8+payloadLen]
		clear(l4)
		dport := k.dport
		if k.classic {
			dport += token - 1
		}
		binary.BigEndian.PutUint16(l4[0:], k.sport)
		binary.BigEndian.PutUint16(l4[2:], dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
		fillPayload(l4[10:])
		// The checksum is the token: the payload's first word makes it so.
		s := packet.PseudoSum(k.src, k.dst, proto, len(l4)) + packet.Sum(0, l4)
		binary.BigEndian.PutUint16(l4[8:], onesAdd(^token, ^packet.Fold(s)))
		binary.BigEndian.PutUint16(l4[6:], token)
	case ICMP:
		proto = protoICMP
		typ := byte(8)
		if v6 {
			proto, typ = protoICMPv6, 128
		}
		l4 = b[hl : hl+8+payloadLen]
		clear(l4)
		l4[0] = typ
		binary.BigEndian.PutUint16(l4[4:], k.sport)
		binary.BigEndian.PutUint16(l4[6:], token)
		fillPayload(l4[10:])
		var s uint32
		if v6 {
			s = packet.PseudoSum(k.src, k.dst, proto, len(l4))
		}
		s += packet.Sum(0, l4)
		if k.classic {
			binary.BigEndian.PutUint16(l4[2:], ^packet.Fold(s))
		} else {
			// Paris: the checksum stays k.icmpSumFix whatever the sequence.
			binary.BigEndian.PutUint16(l4[8:], onesAdd(^k.icmpSumFix, ^packet.Fold(s)))
			binary.BigEndian.PutUint16(l4[2:], k.icmpSumFix)
		}
	case TCP:
		proto = protoTCP
		l4 = b[hl : hl+20]
		clear(l4)
		sport := k.sport
		if k.classic {
			sport += token - 1
		}
		binary.BigEndian.PutUint16(l4[0:], sport)
		binary.BigEndian.PutUint16(l4[2:], k.dport)
		binary.BigEndian.PutUint32(l4[4:], uint32(token)<<16|uint32(k.tcpNonce))
		l4[12] = 5 << 4
		l4[13] = 0x02 // SYN
		binary.BigEndian.PutUint16(l4[14:], 64240)
		s := packet.PseudoSum(k.src, k.dst, proto, len(l4)) + packet.Sum(0, l4)
		binary.BigEndian.PutUint16(l4[16:], ^packet.Fold(s))
	}
	n := hl + len(l4)
	h := b[:hl]
	clear(h)
	if v6 {
		h[0] = 6 << 4
		binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
		h[6] = proto
		h[7] = ttl
		s, d := k.src.As16(), k.dst.As16()
		copy(h[8:], s[:])
		copy(h[24:], d[:])
	} else {
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(n))
		binary.BigEndian.PutUint16(h[4:], token)
		h[8] = ttl
		h[9] = proto
		s, d := k.src.As4(), k.dst.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		binary.BigEndian.PutUint16(h[10:], packet.Checksum(0, h))
	}
	return n
}

func fillPayload(p []byte) {
	for i := range p {
		p[i] = byte(0x40 + i)
	}
}

// sum adds b as big-endian 16-bit words (RFC 1071), without folding.
func onesAdd(a, b uint16) uint16 { return packet.Fold(uint32(a) + uint32(b)) }

// Reply kinds.
const (
	kindNone        = iota
	kindTimeExceed  // a router on the way: ICMP time exceeded
	kindUnreachable // ICMP destination unreachable (port unreachable from the destination, or !H/!N/!P/!X)
	kindEchoReply   // the destination's echo reply
	kindTCP         // the destination's SYN-ACK or RST
)

// reply is what parse finds in a received packet.
type reply struct {
	kind  int
	from  netip.Addr
	code  uint8
	token uint16
	// quoted flow, to check the reply is about one of ours
	qsrc, qdst   netip.Addr
	qproto       byte
	sport, dport uint16 // quoted ports, or the TCP reply's ports swapped back, or echo id in sport
	tcpNonce     uint16
	checkNonce   bool
	// ttl is the TTL (hop limit) the quoted header had left when it
	// reached whoever answered, or for an echo reply or TCP segment
	// the reply's own TTL (0 when unknown).
	ttl  uint8
	mpls []MPLSLabel
}

// parseV4 parses a whole IPv4 packet (from a raw ICMP or TCP socket).
func parseV4(p []byte, r *reply) bool {
	if len(p) < 20 || p[0]>>4 != 4 {
		return false
	}
	ihl := int(p[0]&15) * 4
	if ihl < 20 || len(p) < ihl {
		return false
	}
	if tl := int(binary.BigEndian.Uint16(p[2:])); tl >= ihl && tl < len(p) {
		p = p[:tl]
	}
	from := netip.AddrFrom4([4]byte(p[12:16]))
	ok := false
	switch p[9] {
	case protoICMP:
		ok = parseICMP(p[ihl:], from, false, r)
	case protoTCP:
		ok = parseTCP(p[ihl:], from, netip.AddrFrom4([4]byte(p[16:20])), r)
	}
	if ok && (r.kind == kindEchoReply || r.kind == kindTCP) {
		r.ttl = p[8]
	}
	return ok
}

// parseV6 parses the payload of an IPv6 packet from src to dst with next
// header proto (a raw IPv6 socket gives no header).
func parseV6(p []byte, proto byte, from, to netip.Addr, r *reply) bool {
	switch proto {
	case protoICMPv6:
		return parseICMP(p, from, true, r)
	case protoTCP:
		return parseTCP(p, from, to, r)
	}
	return false
}

func parseTCP(p []byte, from, to netip.Addr, r *reply) bool {
	if len(p) < 20 {
		return false
	}
	flags := p[13]
	if flags&0x04 == 0 && flags&0x12 != 0x12 { // RST, or SYN+ACK
		return false
	}
	ack := binary.BigEndian.Uint32(p[8:]) - 1
	*r = reply{kind: kindTCP, from: from, qsrc: to, qdst: from, qproto: protoTCP,
		sport: binary.BigEndian.Uint16(p[2:]), dport: binary.BigEndian.Uint16(p[0:]),
		token: uint16(ack >> 16), tcpNonce: uint16(ack), checkNonce: true}
	if flags&0x04 != 0 {
		r.code = 1 // RST
	}
	return true
}

// parseICMP parses an ICMP or ICMPv6 message.
func parseICMP(p []byte, from netip.Addr, v6 bool, r *reply) bool {
	if len(p) < 8 {
		return false
	}
	typ, code := p[0], p[1]
	*r = reply{from: from, code: code}
	switch {
	case !v6 && typ == 0, v6 && typ == 129:
		r.kind = kindEchoReply
		r.qsrc, r.qdst = netip.Addr{}, from
		r.qproto = protoICMP
		if v6 {
			r.qproto = protoICMPv6
		}
		r.sport = binary.BigEndian.Uint16(p[4:])
		r.token = binary.BigEndian.Uint16(p[6:])
		return true
	case !v6 && typ == 11, v6 && typ == 3:
		r.kind = kindTimeExceed
	case !v6 && typ == 3, v6 && typ == 1:
		r.kind = kindUnreachable
	default:
		return false
	}
	body := p[8:]
	if !quote(body, v6, r) {
		return false
	}
	// RFC 4884: the length of the original datagram, in 32-bit words
	// (ICMPv4, byte 5) or 64-bit words (ICMPv6, byte 4); extensions follow
	// it. Older routers put them after 128 bytes with no length (RFC 4884
	// section 5.4's "compliant" mode is what Linux sends).
	var olen int
	if v6 {
		olen = int(p[4]) * 8
	} else {
		olen = int(p[5]) * 4
	}
	if olen == 0 && len(body) > 128+4 {
		olen = 128
	}
	if olen >= 128 && len(body) > olen {
		r.mpls = parseExtensions(body[olen:])
	}
	return true
}

// quote reads the header of the datagram an ICMP error quotes.
func quote(b []byte, v6 bool, r *reply) bool {
	q, l4, ok := packet.QuotedHeader(b, v6)
	if !ok {
		return false
	}
	r.qsrc, r.qdst, r.qproto, r.ttl = q.Src, q.Dst, byte(q.Proto), q.TTL
	if len(l4) < 8 {
		return false
	}
	switch r.qproto {
	case protoUDP:
		r.sport, r.dport = binary.BigEndian.Uint16(l4[0:]), binary.BigEndian.Uint16(l4[2:])
		r.token = binary.BigEndian.Uint16(l4[6:])
	case protoTCP:
		r.sport, r.dport = binary.BigEndian.Uint16(l4[0:]), binary.BigEndian.Uint16(l4[2:])
		seq := binary.BigEndian.Uint32(l4[4:])
		r.token, r.tcpNonce, r.checkNonce = uint16(seq>>16), uint16(seq), true
	case protoICMP, protoICMPv6:
		if (r.qproto == protoICMP && l4[0] != 8) || (r.qproto == protoICMPv6 && l4[0] != 128) {
			return false
		}
		r.sport = binary.BigEndian.Uint16(l4[4:])
		r.token = binary.BigEndian.Uint16(l4[6:])
	default:
		return false
	}
	return true
}

// parseExtensions reads an RFC 4884 extension structure and returns the
// MPLS label stack entries of RFC 4950 (class 1, C-type 1) it holds.
func parseExtensions(b []byte) []MPLSLabel {
	if len(b) < 4 || b[0]>>4 != 2 {
		return nil
	}
	b = b[4:]
	var out []MPLSLabel
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint16(b))
		if n < 4 || n > len(b) {
			break
		}
		if b[2] == 1 && b[3] == 1 {
			for e := b[4:n]; len(e) >= 4; e = e[4:] {
				v := binary.BigEndian.Uint32(e)
				out = append(out, MPLSLabel{Label: v >> 12, TC: uint8(v>>9) & 7, S: v>>8&1 == 1, TTL: uint8(v)})
			}
		}
		b = b[n:]
	}
	return out
}
