package packet_test

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"sonde/packet"
)

// TestChecksumRFC1071 is the worked example of RFC 1071 section 3, and an
// odd length.
func TestChecksumRFC1071(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if s := packet.Sum(0, b); s != 0x2ddf0 {
		t.Errorf("Sum = %#x, want 0x2ddf0", s)
	}
	if f := packet.Fold(0x2ddf0); f != 0xddf2 {
		t.Errorf("Fold = %#x, want 0xddf2", f)
	}
	if c := packet.Checksum(0, b); c != ^uint16(0xddf2) {
		t.Errorf("Checksum = %#x, want %#x", c, ^uint16(0xddf2))
	}
	// An odd byte counts as the high half of a word: 0x01 is 0x0100.
	if s := packet.Sum(0, []byte{0x01}); s != 0x0100 {
		t.Errorf("Sum of one byte = %#x, want 0x100", s)
	}
}

// TestChecksumAgainstGopacket: the IPv4 header and the TCP and UDP
// checksums over both pseudo-headers equal those gopacket computes.
func TestChecksumAgainstGopacket(t *testing.T) {
	for _, tc := range []struct{ src, dst string }{{"198.18.0.1", "198.18.0.2"}, {"2001:2::1", "2001:2::2"}} {
		src, dst := netip.MustParseAddr(tc.src), netip.MustParseAddr(tc.dst)
		for _, proto := range []layers.IPProtocol{layers.IPProtocolTCP, layers.IPProtocolUDP} {
			var net gopacket.NetworkLayer
			var ip4 *layers.IPv4
			if src.Is4() {
				ip4 = &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: 0x1234}
				net = ip4
			} else {
				net = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
			}
			var l4 gopacket.SerializableLayer
			payload := gopacket.Payload("odd payload")
			if proto == layers.IPProtocolTCP {
				tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 7, SYN: true, Window: 1024}
				tcp.SetNetworkLayerForChecksum(net)
				l4 = tcp
			} else {
				udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
				udp.SetNetworkLayerForChecksum(net)
				l4 = udp
			}
			buf := gopacket.NewSerializeBuffer()
			opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
			if err := gopacket.SerializeLayers(buf, opts, net.(gopacket.SerializableLayer), l4, payload); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			hl := 40
			if src.Is4() {
				hl = 20
				if packet.Fold(packet.Sum(0, b[:hl])) != 0xffff {
					t.Errorf("%s: the IPv4 header does not sum to 0xffff", tc.src)
				}
				want := uint16(b[10])<<8 | uint16(b[11])
				b[10], b[11] = 0, 0
				if got := packet.Checksum(0, b[:hl]); got != want {
					t.Errorf("%s: IPv4 header checksum %#x, gopacket's %#x", tc.src, got, want)
				}
			}
			seg := b[hl:]
			at := 16 // TCP's checksum field
			if proto == layers.IPProtocolUDP {
				at = 6
			}
			want := uint16(seg[at])<<8 | uint16(seg[at+1])
			seg[at], seg[at+1] = 0, 0
			if got := packet.Checksum(packet.PseudoSum(src, dst, uint8(proto), len(seg)), seg); got != want {
				t.Errorf("%s %v: checksum %#x, gopacket's %#x", tc.src, proto, got, want)
			}
		}
	}
}
