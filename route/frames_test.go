package route

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	ourMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	theirMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRequestARP(t *testing.T) {
	rt := &Route{Src: netip.MustParseAddr("198.18.0.1"), SrcMAC: ourMAC}
	hop := netip.MustParseAddr("198.18.0.2")
	f, err := request(rt, hop)
	if err != nil {
		t.Fatal(err)
	}
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	arp, _ := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if eth == nil || arp == nil {
		t.Fatalf("not Ethernet/ARP: %v", p)
	}
	if eth.DstMAC.String() != "ff:ff:ff:ff:ff:ff" || eth.SrcMAC.String() != ourMAC.String() {
		t.Errorf("Ethernet %v → %v, want %v → broadcast", eth.SrcMAC, eth.DstMAC, ourMAC)
	}
	want := []any{uint16(layers.ARPRequest), ourMAC.String(), "198.18.0.1", "198.18.0.2"}
	got := []any{arp.Operation, net.HardwareAddr(arp.SourceHwAddress).String(), net.IP(arp.SourceProtAddress).String(), net.IP(arp.DstProtAddress).String()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ARP request (-want +got):\n%s", diff)
	}
}

func TestRequestNeighborSolicitation(t *testing.T) {
	rt := &Route{Src: netip.MustParseAddr("2001:2::1"), SrcMAC: ourMAC}
	hop := netip.MustParseAddr("2001:2::abcd:ef12")
	f, err := request(rt, hop)
	if err != nil {
		t.Fatal(err)
	}
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	ns, _ := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	if eth == nil || ip == nil || ns == nil {
		t.Fatalf("not Ethernet/IPv6/ICMPv6 NS: %v", p)
	}
	if eth.DstMAC.String() != "33:33:ff:cd:ef:12" {
		t.Errorf("Ethernet destination %v, want 33:33:ff:cd:ef:12", eth.DstMAC)
	}
	if ip.DstIP.String() != "ff02::1:ffcd:ef12" || ip.SrcIP.String() != "2001:2::1" || ip.HopLimit != 255 {
		t.Errorf("IPv6 %v → %v hop limit %d, want 2001:2::1 → ff02::1:ffcd:ef12, 255", ip.SrcIP, ip.DstIP, ip.HopLimit)
	}
	if ns.TargetAddress.String() != hop.String() || len(ns.Options) != 1 || ns.Options[0].Type != layers.ICMPv6OptSourceAddress ||
		net.HardwareAddr(ns.Options[0].Data).String() != ourMAC.String() {
		t.Errorf("solicitation for %v with options %v, want %v with our source link-layer address", ns.TargetAddress, ns.Options, hop)
	}
	// The checksum covers the pseudo-header (RFC 8200 section 8.1): the
	// one's complement sum of it and the message is all ones.
	msg := f[14+40:]
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(ip.SrcIP)
	add(ip.DstIP)
	var l [8]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(msg)))
	l[7] = 58
	add(l[:])
	add(msg)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Errorf("ICMPv6 checksum does not verify (sum %#x)", sum)
	}
}

// replies returns an ARP reply and a neighbour advertisement from theirMAC
// for the given addresses.
func replies(t testing.TB, v4, v6 netip.Addr, withOption bool) (arp, na []byte) {
	arp = serialize(t,
		&layers.Ethernet{SrcMAC: theirMAC, DstMAC: ourMAC, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: theirMAC, SourceProtAddress: v4.AsSlice(),
			DstHwAddress: ourMAC, DstProtAddress: []byte{198, 18, 0, 1}})
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: v6.AsSlice(), DstIP: net.ParseIP("2001:2::1")}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	icmp.SetNetworkLayerForChecksum(ip)
	adv := &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: v6.AsSlice()}
	if withOption {
		adv.Options = layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: net.HardwareAddr{0x02, 0, 0, 0, 0, 3}}}
	}
	na = serialize(t, &layers.Ethernet{SrcMAC: theirMAC, DstMAC: ourMAC, EthernetType: layers.EthernetTypeIPv6}, ip, icmp, adv)
	return arp, na
}

func TestAnswer(t *testing.T) {
	v4, v6 := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("2001:2::2")
	arp, na := replies(t, v4, v6, true)
	_, bare := replies(t, v4, v6, false)
	for _, tc := range []struct {
		name  string
		frame []byte
		hop   netip.Addr
		want  string // "" for no answer
	}{
		{"arp", arp, v4, theirMAC.String()},
		{"arp other host", arp, netip.MustParseAddr("198.18.0.3"), ""},
		{"arp for an IPv6 hop", arp, v6, ""},
		{"advert option", na, v6, "02:00:00:00:00:03"},
		{"advert without option", bare, v6, theirMAC.String()},
		{"advert other target", na, netip.MustParseAddr("2001:2::3"), ""},
		{"truncated", na[:60], v6, ""},
		{"empty", nil, v4, ""},
	} {
		mac, ok := answer(tc.frame, tc.hop)
		if got := map[bool]string{true: mac.String(), false: ""}[ok]; got != tc.want {
			t.Errorf("%s: answer = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func FuzzAnswer(f *testing.F) {
	v4, v6 := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("2001:2::2")
	arp, na := replies(f, v4, v6, true)
	f.Add(arp)
	f.Add(na)
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, hop := range []netip.Addr{v4, v6} {
			if mac, ok := answer(frame, hop); ok && len(mac) != 6 {
				t.Fatalf("answer gave a %d-byte address", len(mac))
			}
		}
	})
}

func TestMulticastMAC(t *testing.T) {
	for a, want := range map[string]string{
		"255.255.255.255":   "ff:ff:ff:ff:ff:ff",
		"224.0.0.251":       "01:00:5e:00:00:fb",
		"239.255.130.7":     "01:00:5e:7f:82:07",
		"ff02::1:ffcd:ef12": "33:33:ff:cd:ef:12",
		"198.18.0.1":        "",
		"2001:2::1":         "",
	} {
		mac, ok := multicastMAC(netip.MustParseAddr(a))
		if got := map[bool]string{true: mac.String(), false: ""}[ok]; got != want {
			t.Errorf("multicastMAC(%s) = %q, want %q", a, got, want)
		}
	}
}
