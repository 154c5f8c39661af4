package packet

import "net/netip"

// Sum adds b to the running sum s of an Internet checksum (RFC 1071): b
// as big-endian 16-bit words, a last odd byte as the high half of a word.
// Sums of the parts of a packet (a pseudo-header, then a header, then a
// payload) add up, as long as each part but the last has an even length.
func Sum(s uint32, b []byte) uint32 {
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// Fold folds the carries of a running sum into 16 bits (one's complement
// addition). The checksum is its complement; a packet whose checksum
// field is right sums, checksum included, to 0xffff.
func Fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// Checksum returns the Internet checksum of b carried on from the running
// sum s (zero, or a pseudo-header's PseudoSum); b's checksum field must be
// zero.
func Checksum(s uint32, b []byte) uint16 { return ^Fold(Sum(s, b)) }

// PseudoSum is the running sum of the pseudo-header that TCP, UDP and
// ICMPv6 checksums cover: the addresses, the protocol and the upper-layer
// length n (RFC 793 and 768 for IPv4, RFC 8200 section 8.1 for IPv6).
func PseudoSum(src, dst netip.Addr, proto uint8, n int) uint32 {
	var s uint32
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		s = Sum(Sum(0, a[:]), b[:])
	} else {
		a, b := src.As16(), dst.As16()
		s = Sum(Sum(0, a[:]), b[:])
	}
	return s + uint32(proto) + uint32(n)
}
