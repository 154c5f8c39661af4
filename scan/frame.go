package scan

import (
	"encoding/binary"
	"net"
	"net/netip"

	"sonde/packet"
)

// Raw probes leave from source ports above Linux's default ephemeral range
// (32768–60999), so the kernel's own connections never share them.
const (
	srcPortBase  = 61000
	srcPortRange = 65536 - srcPortBase
)

// maxPayload bounds a UDP probe's payload; maxFrameLen is the longest
// probe frame: Ethernet + IPv6 + UDP with the longest payload.
const (
	maxPayload  = 128
	maxFrameLen = 14 + 40 + 8 + maxPayload
)

// link is what every probe frame of a scan shares: the link-layer
// addresses (the next hop's, then ours) and our source addresses.
type link struct {
	macs [12]byte
	src4 [4]byte
	src6 [16]byte
}

func newLink(src, dst net.HardwareAddr, src4, src6 netip.Addr) link {
	var l link
	copy(l.macs[0:6], dst)
	copy(l.macs[6:12], src)
	if src4.Is4() {
		l.src4 = src4.As4()
	}
	if src6.Is6() {
		l.src6 = src6.As16()
	}
	return l
}

// probeSpec is one probe to build.
type probeSpec struct {
	dst          netip.Addr
	dport, sport uint16
	cookie       uint32
	id           uint16 // the IPv4 identification
	proto        Proto  // TCP or UDP
	flags        uint8  // TCP flags
	// ack puts a TCP probe's cookie in the acknowledgment number: the RST
	// it draws carries it back as its sequence number (RFC 9293 section
	// 3.10.7.1). Otherwise it rides in the sequence number.
	ack     bool
	payload []byte // a UDP probe's payload (at most maxPayload bytes)
}

// cookie is the keyed hash a probe carries: what a valid reply must echo.
// IPv4 and IPv6 destinations hash in separate domains.
func (k sipKey) cookie(dst netip.Addr, dport, sport uint16) uint32 {
	ports := uint64(dport)<<16 | uint64(sport)
	if dst.Is4() {
		return uint32(k.sum(uint64(addrU32(dst))<<32|ports, 0x736f6e6465))
	}
	b := dst.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	return uint32(k.sum(hi^mix64(lo), 0x736f6e64<<32|ports))
}

// flowLabel is the 20 bits of a cookie an IPv6 probe carries in its flow
// label: ICMPv6 errors quote it, which validates them.
func flowLabel(cookie uint32) uint32 { return cookie & 0xfffff }

// srcPort picks the source port of a probe's attempt: different for each
// retry, so a retry never meets the target's state of an earlier one.
func (k sipKey) srcPort(idx uint64, attempt int) uint16 {
	return srcPortBase + uint16(mix64(idx^k.k1+uint64(attempt)*0x9e3779b97f4a7c15)%srcPortRange)
}

// buildFrame writes the probe p into buf (at least maxFrameLen bytes) and
// returns the frame's length: Ethernet, IPv4 or IPv6, then TCP or UDP,
// with the cookie in the TCP sequence (or acknowledgment) number, the
// IPv4 identification or the IPv6 flow label, and every checksum. It
// allocates nothing.
func buildFrame(buf []byte, l *link, p *probeSpec) int {
	copy(buf[0:12], l.macs[:])
	var l4 []byte
	var sum uint32 // the pseudo-header's sum
	n := 8 + len(p.payload)
	if p.proto == TCP {
		n = 20
	}
	if p.dst.Is4() {
		buf[12], buf[13] = 0x08, 0x00
		ip := buf[14:34]
		clear(ip)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+n))
		binary.BigEndian.PutUint16(ip[4:], p.id)
		ip[6] = 0x40 // don't fragment
		ip[8] = 64
		ip[9] = uint8(p.proto)
		copy(ip[12:16], l.src4[:])
		d := p.dst.As4()
		copy(ip[16:20], d[:])
		binary.BigEndian.PutUint16(ip[10:], packet.Checksum(0, ip))
		sum = packet.Sum(0, ip[12:20]) + uint32(p.proto) + uint32(n)
		l4 = buf[34 : 34+n]
	} else {
		buf[12], buf[13] = 0x86, 0xdd
		ip := buf[14:54]
		// Version 6, traffic class 0, the flow label (RFC 8200 section 3).
		binary.BigEndian.PutUint32(ip[0:], 6<<28|flowLabel(p.cookie))
		binary.BigEndian.PutUint16(ip[4:], uint16(n))
		ip[6] = uint8(p.proto)
		ip[7] = 64
		copy(ip[8:24], l.src6[:])
		d := p.dst.As16()
		copy(ip[24:40], d[:])
		sum = packet.Sum(0, ip[8:40]) + uint32(p.proto) + uint32(n)
		l4 = buf[54 : 54+n]
	}
	clear(l4)
	binary.BigEndian.PutUint16(l4[0:], p.sport)
	binary.BigEndian.PutUint16(l4[2:], p.dport)
	if p.proto == TCP {
		if p.ack {
			binary.BigEndian.PutUint32(l4[8:], p.cookie)
		} else {
			binary.BigEndian.PutUint32(l4[4:], p.cookie)
		}
		l4[12] = 5 << 4
		l4[13] = p.flags
		binary.BigEndian.PutUint16(l4[14:], 1024)
		binary.BigEndian.PutUint16(l4[16:], packet.Checksum(sum, l4))
	} else {
		binary.BigEndian.PutUint16(l4[4:], uint16(n))
		copy(l4[8:], p.payload)
		c := packet.Checksum(sum, l4)
		if c == 0 {
			c = 0xffff // zero means "no checksum" (RFC 768), forbidden in IPv6
		}
		binary.BigEndian.PutUint16(l4[6:], c)
	}
	return 14 + iphdrLen(p.dst) + n
}

// iphdrLen is the length of the IP header of a probe to dst.
func iphdrLen(dst netip.Addr) int {
	if dst.Is4() {
		return 20
	}
	return 40
}

// locals are our addresses replies must be sent to.
type locals struct {
	v4 uint32
	v6 [16]byte
}

// reply is a reply to a raw probe, parsed from an Ethernet frame.
type reply struct {
	src   netip.Addr // the target (the quoted destination for ICMP)
	proto Proto      // of the probe it answers
	sport uint16     // the target's port
	dport uint16     // our source port
	seq   uint32     // TCP: the sequence number; ICMP quoting TCP: the quoted one
	ack   uint32
	flags uint8
	ttl   uint8 // or hop limit
	// icmp is set for an ICMP or ICMPv6 destination unreachable quoting
	// the probe (icmp6 for ICMPv6), with its code.
	icmp, icmp6 bool
	icmpCode    uint8
	// quoteID is the quoted IPv4 identification or IPv6 flow label.
	quoteID uint32
	payload []byte // a UDP reply's payload (as far as it was captured)
}

// parseReply reads an Ethernet frame addressed to us as a TCP segment, a
// UDP datagram, or an ICMP or ICMPv6 destination unreachable that quotes a
// TCP or UDP probe, over IPv4 or IPv6. It allocates nothing and never
// panics.
func parseReply(f []byte, l *locals, r *reply) bool {
	if len(f) < 14 {
		return false
	}
	r.icmp, r.icmp6, r.payload = false, false, nil
	var body []byte
	var nh uint8
	switch {
	case f[12] == 0x08 && f[13] == 0x00:
		ip := f[14:]
		if len(ip) < 20 {
			return false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ip[0]>>4 != 4 || ihl < 20 || len(ip) < ihl || binary.BigEndian.Uint32(ip[16:]) != l.v4 || l.v4 == 0 {
			return false
		}
		if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
			return false // a fragment other than the first
		}
		end := min(len(ip), max(ihl, int(binary.BigEndian.Uint16(ip[2:]))))
		r.ttl, nh, body = ip[8], ip[9], ip[ihl:end]
		r.src = netip.AddrFrom4([4]byte(ip[12:16]))
	case f[12] == 0x86 && f[13] == 0xdd:
		ip := f[14:]
		if len(ip) < 40 || ip[0]>>4 != 6 || [16]byte(ip[24:40]) != l.v6 || l.v6 == ([16]byte{}) {
			return false
		}
		// Replies to our probes carry no extension header.
		end := min(len(ip), 40+int(binary.BigEndian.Uint16(ip[4:])))
		r.ttl, nh, body = ip[7], ip[6], ip[40:end]
		r.src = netip.AddrFrom16([16]byte(ip[8:24]))
	default:
		return false
	}
	switch nh {
	case 6:
		if len(body) < 20 {
			return false
		}
		r.proto = TCP
		r.sport = binary.BigEndian.Uint16(body[0:])
		r.dport = binary.BigEndian.Uint16(body[2:])
		r.seq = binary.BigEndian.Uint32(body[4:])
		r.ack = binary.BigEndian.Uint32(body[8:])
		r.flags = body[13]
		return true
	case 17:
		if len(body) < 8 {
			return false
		}
		r.proto = UDP
		r.sport = binary.BigEndian.Uint16(body[0:])
		r.dport = binary.BigEndian.Uint16(body[2:])
		ul := int(binary.BigEndian.Uint16(body[4:]))
		r.payload = body[8:min(len(body), max(8, ul))]
		return true
	case 1:
		// Destination unreachable (RFC 792): type 3, then the quoted
		// IPv4 header and at least 8 bytes of the probe's header.
		if len(body) < 8+20+8 || body[0] != 3 {
			return false
		}
		q := body[8:]
		qihl := int(q[0]&0x0f) * 4
		if q[0]>>4 != 4 || qihl < 20 || len(q) < qihl+8 || q[9] != 6 && q[9] != 17 || binary.BigEndian.Uint32(q[12:]) != l.v4 {
			return false
		}
		r.icmpCode = body[1]
		r.quoteID = uint32(binary.BigEndian.Uint16(q[4:]))
		r.src = netip.AddrFrom4([4]byte(q[16:20]))
		return r.quoted(Proto(q[9]), q[qihl:])
	case 58:
		// Destination unreachable (RFC 4443 section 3.1): type 1, then
		// the quoted IPv6 header and the probe's header.
		if len(body) < 8+40+8 || body[0] != 1 {
			return false
		}
		q := body[8:]
		if q[0]>>4 != 6 || q[6] != 6 && q[6] != 17 || [16]byte(q[8:24]) != l.v6 {
			return false
		}
		r.icmp6 = true
		r.icmpCode = body[1]
		r.quoteID = binary.BigEndian.Uint32(q[0:]) & 0xfffff
		r.src = netip.AddrFrom16([16]byte(q[24:40]))
		return r.quoted(Proto(q[6]), q[40:])
	}
	return false
}

// quoted fills r from the quoted header of the probe an ICMP error
// answers.
func (r *reply) quoted(proto Proto, qt []byte) bool {
	r.icmp = true
	r.proto = proto
	r.dport = binary.BigEndian.Uint16(qt[0:])
	r.sport = binary.BigEndian.Uint16(qt[2:])
	if proto == TCP {
		r.seq = binary.BigEndian.Uint32(qt[4:])
	}
	return true
}

// closed reports whether an ICMP error says the port is closed: port
// unreachable (ICMP code 3, ICMPv6 code 4).
func (r *reply) closed() bool {
	if r.icmp6 {
		return r.icmpCode == 4
	}
	return r.icmpCode == 3
}

// reason names the ICMP error as nmap does.
func (r *reply) reason() string {
	if r.icmp6 {
		return icmp6Reason(r.icmpCode)
	}
	return icmpReason(r.icmpCode)
}

// icmpReason names an ICMP destination-unreachable code as nmap does.
func icmpReason(code uint8) string {
	switch code {
	case 0:
		return "net-unreach"
	case 1:
		return "host-unreach"
	case 2:
		return "proto-unreach"
	case 3:
		return "port-unreach"
	case 9:
		return "net-prohibited"
	case 10:
		return "host-prohibited"
	case 13:
		return "admin-prohibited"
	}
	return "unreach"
}

// icmp6Reason names an ICMPv6 destination-unreachable code (RFC 4443
// section 3.1) as nmap does.
func icmp6Reason(code uint8) string {
	switch code {
	case 0:
		return "no-route"
	case 1, 5:
		return "admin-prohibited"
	case 2:
		return "beyond-scope"
	case 3:
		return "host-unreach"
	case 4:
		return "port-unreach"
	case 6:
		return "reject-route"
	}
	return "unreach"
}
