package route

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"sonde/rawsock"
)

func ipVersion(a netip.Addr) string {
	if a.Is6() {
		return "IPv6"
	}
	return "IPv4"
}

// request builds the ARP request or neighbour solicitation for hop.
func request(rt *Route, hop netip.Addr) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if hop.Is4() {
		eth := &layers.Ethernet{SrcMAC: rt.SrcMAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
		arp := &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: rt.SrcMAC, SourceProtAddress: rt.Src.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: hop.AsSlice(),
		}
		err = gopacket.SerializeLayers(buf, opts, eth, arp)
	} else {
		// RFC 4861 section 7.2.2: to the solicited-node multicast address
		// (RFC 4291 section 2.7.1), hop limit 255, with our link-layer
		// address so the neighbour can answer at once.
		b := hop.As16()
		snm := netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
		mac, _ := multicastMAC(snm)
		eth := &layers.Ethernet{SrcMAC: rt.SrcMAC, DstMAC: mac, EthernetType: layers.EthernetTypeIPv6}
		ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: rt.Src.AsSlice(), DstIP: snm.AsSlice()}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
		if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, fmt.Errorf("route: neighbour solicitation: %w", err)
		}
		ns := &layers.ICMPv6NeighborSolicitation{TargetAddress: hop.AsSlice(),
			Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: rt.SrcMAC}}}
		err = gopacket.SerializeLayers(buf, opts, eth, ip, icmp, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("route: building the request for %s: %w", hop, err)
	}
	return buf.Bytes(), nil
}

// answer returns the link-layer address of hop if frame is its ARP reply
// or neighbour advertisement.
func answer(frame []byte, hop netip.Addr) (net.HardwareAddr, bool) {
	a, mac, ok := parseAnswer(frame)
	if !ok || a != hop {
		return nil, false
	}
	return mac, true
}

// parseAnswer returns the address and link-layer address an ARP reply or
// a neighbour advertisement announces.
func parseAnswer(frame []byte) (netip.Addr, net.HardwareAddr, bool) {
	if len(frame) < 14 {
		return netip.Addr{}, nil, false
	}
	switch uint16(frame[12])<<8 | uint16(frame[13]) {
	case rawsock.ProtoARP:
		a := frame[14:]
		// htype 1, ptype IPv4, hlen 6, plen 4, op 2 (RFC 826)
		if len(a) < 28 || a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0 || a[4] != 6 || a[5] != 4 || a[6] != 0 || a[7] != 2 {
			return netip.Addr{}, nil, false
		}
		return netip.AddrFrom4([4]byte(a[14:18])), net.HardwareAddr(append([]byte(nil), a[8:14]...)), true
	case rawsock.ProtoIPv6:
		p := frame[14:]
		// Hop limit 255: sent on this link (RFC 4861 section 7.1.2).
		if len(p) < 40+24 || p[0]>>4 != 6 || p[6] != 58 || p[7] != 255 {
			return netip.Addr{}, nil, false
		}
		m := p[40:]
		if m[0] != 136 || m[1] != 0 {
			return netip.Addr{}, nil, false
		}
		target := netip.AddrFrom16([16]byte(m[8:24]))
		// The target link-layer address option (RFC 4861 section 4.6.1),
		// else the frame's source.
		for o := m[24:]; len(o) >= 8 && o[1] > 0 && int(o[1])*8 <= len(o); o = o[int(o[1])*8:] {
			if o[0] == 2 && o[1] == 1 {
				return target, net.HardwareAddr(append([]byte(nil), o[2:8]...)), true
			}
		}
		return target, net.HardwareAddr(append([]byte(nil), frame[6:12]...)), true
	}
	return netip.Addr{}, nil, false
}

// multicastMAC maps a multicast or the limited broadcast address to its
// link-layer address (RFC 1112 section 6.4, RFC 2464 section 7).
func multicastMAC(a netip.Addr) (net.HardwareAddr, bool) {
	switch {
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true
	case a.Is4() && a.IsMulticast():
		b := a.As4()
		return net.HardwareAddr{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}, true
	case a.Is6() && a.IsMulticast():
		b := a.As16()
		return net.HardwareAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}, true
	}
	return nil, false
}
