package scan

import (
	"encoding/binary"
	"net"
)

// Raw probes leave from source ports above Linux's default ephemeral range
// (32768–60999), so the kernel's own connections never share them.
const (
	srcPortBase  = 61000
	srcPortRange = 65536 - srcPortBase
)

// synFrameLen is an Ethernet + IPv4 + TCP frame without options.
const synFrameLen = 14 + 20 + 20

// frameTemplate holds the fixed bytes of a raw TCP probe: the link-layer
// addresses, the source address and the flags.
type frameTemplate [synFrameLen]byte

func newFrameTemplate(src, dst net.HardwareAddr, srcIP [4]byte, flags uint8) frameTemplate {
	var f frameTemplate
	copy(f[0:6], dst)
	copy(f[6:12], src)
	f[12], f[13] = 0x08, 0x00
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 40)
	ip[6] = 0x40 // don't fragment
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:16], srcIP[:])
	tcp := f[34:54]
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 1024)
	return f
}

// cookie is the keyed hash a probe carries: what a valid reply must echo.
func (k sipKey) cookie(dst uint32, dport, sport uint16) uint32 {
	return uint32(k.sum(uint64(dst)<<32|uint64(dport)<<16|uint64(sport), 0x736f6e6465))
}

// srcPort picks the source port of a probe's attempt: different for each
// retry, so a retry never meets the target's state of an earlier one.
func (k sipKey) srcPort(idx uint64, attempt int) uint16 {
	return srcPortBase + uint16(mix64(idx^k.k1+uint64(attempt)*0x9e3779b97f4a7c15)%srcPortRange)
}

// buildProbe writes into buf (at least synFrameLen bytes) the probe to
// dst:dport from sport: the template with the addresses, ports, cookie
// and checksums filled in. It allocates nothing.
func buildProbe(buf []byte, t *frameTemplate, dst uint32, dport, sport uint16, cookie uint32, id uint16, ack bool) {
	copy(buf, t[:])
	ip := buf[14:34]
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint32(ip[16:], dst)
	binary.BigEndian.PutUint16(ip[10:], checksum(0, ip))
	tcp := buf[34:54]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	if ack {
		// An ACK probe's cookie rides in the acknowledgment number: the
		// RST it draws carries it back as its sequence number (RFC 9293
		// section 3.10.7.1).
		binary.BigEndian.PutUint32(tcp[8:], cookie)
	} else {
		binary.BigEndian.PutUint32(tcp[4:], cookie)
	}
	// Pseudo-header: source, destination, protocol, TCP length.
	sum := uint32(binary.BigEndian.Uint16(ip[12:])) + uint32(binary.BigEndian.Uint16(ip[14:])) +
		uint32(dst>>16) + uint32(dst&0xffff) + 6 + 20
	binary.BigEndian.PutUint16(tcp[16:], checksum(sum, tcp))
}

// checksum is the Internet checksum (RFC 1071) of b with sum carried in;
// b's checksum field must be zero.
func checksum(sum uint32, b []byte) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// reply is a reply to a raw TCP probe, parsed from an Ethernet frame.
type reply struct {
	src         uint32 // the target (the quoted destination for ICMP)
	sport       uint16 // the target's port
	dport       uint16 // our source port
	seq, ack    uint32
	flags       uint8
	ttl         uint8
	icmp        bool  // an ICMP destination unreachable quoting the probe
	icmpCode    uint8 // its code
	icmpQuoted  uint32
	icmpQuoteOK bool
}

// parseReply reads an Ethernet frame addressed to us (local, our IPv4
// address) as a TCP segment or an ICMP destination unreachable that
// quotes a TCP probe. It allocates nothing and never panics.
func parseReply(f []byte, local uint32, r *reply) bool {
	if len(f) < 34 || f[12] != 0x08 || f[13] != 0x00 {
		return false
	}
	ip := f[14:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[0]>>4 != 4 || ihl < 20 || len(ip) < ihl || binary.BigEndian.Uint32(ip[16:]) != local {
		return false
	}
	if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
		return false // a fragment other than the first
	}
	r.ttl = ip[8]
	body := ip[ihl:]
	switch ip[9] {
	case 6:
		if len(body) < 20 {
			return false
		}
		r.icmp = false
		r.src = binary.BigEndian.Uint32(ip[12:])
		r.sport = binary.BigEndian.Uint16(body[0:])
		r.dport = binary.BigEndian.Uint16(body[2:])
		r.seq = binary.BigEndian.Uint32(body[4:])
		r.ack = binary.BigEndian.Uint32(body[8:])
		r.flags = body[13]
		return true
	case 1:
		// Destination unreachable (RFC 792): type 3, then the quoted
		// IPv4 header and at least 8 bytes of the TCP header.
		if len(body) < 8+20+8 || body[0] != 3 {
			return false
		}
		q := body[8:]
		qihl := int(q[0]&0x0f) * 4
		if q[0]>>4 != 4 || qihl < 20 || len(q) < qihl+8 || q[9] != 6 || binary.BigEndian.Uint32(q[12:]) != local {
			return false
		}
		qt := q[qihl:]
		r.icmp = true
		r.icmpCode = body[1]
		r.src = binary.BigEndian.Uint32(q[16:])
		r.dport = binary.BigEndian.Uint16(qt[0:])
		r.sport = binary.BigEndian.Uint16(qt[2:])
		r.seq = binary.BigEndian.Uint32(qt[4:])
		return true
	}
	return false
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
