package analyze

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// decoder decodes packets layer by layer into reused gopacket layer structs
// (what a DecodingLayerParser does), handling each layer as soon as it is
// decoded: a tunnel repeats layer types, and the outer layer must be
// counted before the inner one overwrites its struct.
type decoder struct {
	eth    layers.Ethernet
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	loop   layers.Loopback
	dot1q  layers.Dot1Q
	arp    layers.ARP
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6ext layers.IPv6ExtensionSkipper
	tcp    layers.TCP
	udp    layers.UDP
	icmp4  layers.ICMPv4
	icmp6  layers.ICMPv6
	gre    layers.GRE
	vxlan  layers.VXLAN
	geneve layers.Geneve
}

// firstLayer returns the layer a packet of the link type starts with.
func firstLayer(data []byte, link layers.LinkType) gopacket.LayerType {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull:
		return layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12:
		if len(data) > 0 {
			switch data[0] >> 4 {
			case 4:
				return layers.LayerTypeIPv4
			case 6:
				return layers.LayerTypeIPv6
			}
		}
	}
	return gopacket.LayerTypeZero
}

// layer returns the reused struct that decodes t, or nil.
func (d *decoder) layer(t gopacket.LayerType) gopacket.DecodingLayer {
	switch t {
	case layers.LayerTypeEthernet:
		return &d.eth
	case layers.LayerTypeLinuxSLL:
		return &d.sll
	case layers.LayerTypeLinuxSLL2:
		return &d.sll2
	case layers.LayerTypeLoopback:
		return &d.loop
	case layers.LayerTypeDot1Q:
		return &d.dot1q
	case layers.LayerTypeARP:
		return &d.arp
	case layers.LayerTypeIPv4:
		return &d.ip4
	case layers.LayerTypeIPv6:
		return &d.ip6
	case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
		return &d.ip6ext
	case layers.LayerTypeTCP:
		return &d.tcp
	case layers.LayerTypeUDP:
		return &d.udp
	case layers.LayerTypeICMPv4:
		return &d.icmp4
	case layers.LayerTypeICMPv6:
		return &d.icmp6
	case layers.LayerTypeGRE:
		return &d.gre
	case layers.LayerTypeVXLAN:
		return &d.vxlan
	case layers.LayerTypeGeneve:
		return &d.geneve
	}
	return nil
}

// walk decodes a packet into fp and returns its protocol path for the
// hierarchy (reusing path's storage), named as tshark names protocols, up
// to the transport layer; appProto names what follows.
func (d *decoder) walk(data []byte, link layers.LinkType, fp *flowPacket, path []proto) []proto {
	path = path[:0]
	t := firstLayer(data, link)
	if t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
		path = append(path, protoRaw)
	}
	var etherType layers.EthernetType // of the previous layer, for VLAN tags
	var lastIP *ipRec
	for t != gopacket.LayerTypeZero {
		l := d.layer(t)
		if l == nil || l.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			break
		}
		next, payload := l.NextLayerType(), l.LayerPayload()
		switch t {
		case layers.LayerTypeEthernet:
			path = append(path, protoEth)
			if fp.nEth < maxHops {
				fp.eth[fp.nEth] = [2]addrKey{macKey(d.eth.SrcMAC), macKey(d.eth.DstMAC)}
				fp.nEth++
			}
			etherType = d.eth.EthernetType
		case layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2:
			path = append(path, protoSLL)
		case layers.LayerTypeLoopback:
			path = append(path, protoNull)
		case layers.LayerTypeDot1Q:
			if etherType == layers.EthernetTypeQinQ {
				path = append(path, protoQinQ)
			} else {
				path = append(path, protoVLAN)
			}
			etherType = d.dot1q.Type
		case layers.LayerTypeARP:
			path = append(path, protoARP)
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			rec := ipRec{kind: IPv4}
			if t == layers.LayerTypeIPv4 {
				path = append(path, protoIP)
				rec.src, rec.dst = ipKey(d.ip4.SrcIP), ipKey(d.ip4.DstIP)
			} else {
				path = append(path, protoIPv6)
				rec.kind, rec.src, rec.dst = IPv6, ipKey(d.ip6.SrcIP), ipKey(d.ip6.DstIP)
			}
			if fp.nIP < maxHops {
				fp.ip[fp.nIP] = rec
				lastIP = &fp.ip[fp.nIP]
				fp.nIP++
			}
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			// Extension headers are part of ipv6 in tshark's hierarchy.
		case layers.LayerTypeICMPv4:
			path = append(path, protoICMP)
			next = gopacket.LayerTypeZero // quoted headers are not conversations
		case layers.LayerTypeICMPv6:
			path = append(path, protoICMPv6)
			next = gopacket.LayerTypeZero
		case layers.LayerTypeGRE:
			path = append(path, protoGRE)
		case layers.LayerTypeVXLAN:
			path = append(path, protoVXLAN)
		case layers.LayerTypeGeneve:
			path = append(path, protoGeneve)
		case layers.LayerTypeTCP, layers.LayerTypeUDP:
			r := l4Rec{kind: UDP}
			if t == layers.LayerTypeTCP {
				path = append(path, protoTCP)
				r.kind = TCP
				r.src.port, r.dst.port = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
				r.flags, r.seq = tcpFlags(&d.tcp), d.tcp.Seq
				r.payload = d.tcp.Payload
				next = gopacket.LayerTypeZero
			} else {
				path = append(path, protoUDP)
				r.src.port, r.dst.port = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
				r.payload = d.udp.Payload
				if next != layers.LayerTypeVXLAN && next != layers.LayerTypeGeneve {
					next = gopacket.LayerTypeZero
				}
			}
			if lastIP == nil || fp.nL4 == maxHops {
				return path
			}
			r.src.addr, r.dst.addr = lastIP.src, lastIP.dst
			fp.l4[fp.nL4] = r
			fp.nL4++
		}
		t, data = next, payload
		if t == layers.LayerTypeIPv6Fragment {
			// Only a first fragment holds the next header (RFC 8200 4.5).
			if len(data) < 8 || binary.BigEndian.Uint16(data[2:])>>3 != 0 {
				break
			}
			t, data = layers.IPProtocol(data[0]).LayerType(), data[8:]
		}
	}
	return path
}

// appProto appends to path the application protocol of the packet's
// innermost transport payload, when the path ends with its transport
// layer. stream is that transport's TCP stream number (or -1).
func appProto(path []proto, fp *flowPacket, stream int, app *appStats) []proto {
	n := len(path)
	if n == 0 || fp.nL4 == 0 || (path[n-1] != protoTCP && path[n-1] != protoUDP) {
		return path
	}
	r := &fp.l4[fp.nL4-1]
	if len(r.payload) == 0 {
		return path
	}
	if p := app.classify(r, stream); p != protoNone {
		path = append(path, p)
	}
	return path
}
