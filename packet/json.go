package packet

import (
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

type jsonW struct {
	b     []byte
	first bool
}

func (w *jsonW) obj(name string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.b = strconv.AppendQuote(w.b, name)
	w.b = append(w.b, ":{"...)
	w.first = true
}

func (w *jsonW) end() {
	w.b = append(w.b, '}')
	w.first = false
}

func (w *jsonW) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, `":"`...)
}

func (w *jsonW) u(k string, v uint64) {
	w.key(k)
	w.b = appendUint(w.b, v)
	w.b = append(w.b, '"')
}

func (w *jsonW) x(k string, v uint64, width int) {
	w.key(k)
	w.b = appendHex(w.b, v, width)
	w.b = append(w.b, '"')
}

func (w *jsonW) ip(k string, p []byte) {
	w.key(k)
	w.b = appendIP(w.b, p)
	w.b = append(w.b, '"')
}

func (w *jsonW) mac(k string, p []byte) {
	w.key(k)
	w.b = appendMAC(w.b, p)
	w.b = append(w.b, '"')
}

func (w *jsonW) str(k string, s []byte) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, `":`...)
	w.b = appendJSONString(w.b, s)
}

func appendJSONString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// AppendJSON appends the last decoded frame as one JSON object, with a
// member per layer named as tshark names its protocols (eth, vlan, sll, arp,
// ip, ipv6, icmp, icmpv6, tcp, udp, dns, data) and inside it tshark's field
// names and value formats (what `tshark -T fields -e ip.src` prints), all
// as strings. tcp.seq and tcp.ack are the raw numbers, as tshark prints them
// with -o tcp.relative_sequence_numbers:FALSE. The object is
// followed by no newline.
func (d *Decoder) AppendJSON(b []byte) []byte {
	w := jsonW{b: append(b, '{'), first: true}
	for _, t := range d.Layers {
		switch t {
		case layers.LayerTypeEthernet:
			e := &d.Ethernet
			w.obj("eth")
			w.mac("eth.dst", e.DstMAC)
			w.mac("eth.src", e.SrcMAC)
			w.x("eth.type", uint64(e.EthernetType), 4)
			w.end()
		case layers.LayerTypeDot1Q:
			v := &d.Dot1Q
			w.obj("vlan")
			w.u("vlan.priority", uint64(v.Priority))
			w.u("vlan.id", uint64(v.VLANIdentifier))
			w.x("vlan.etype", uint64(v.Type), 4)
			w.end()
		case layers.LayerTypeLinuxSLL:
			s := &d.SLL
			w.obj("sll")
			w.u("sll.pkttype", uint64(s.PacketType))
			w.u("sll.hatype", uint64(s.AddrType))
			w.mac("sll.src.eth", s.Addr)
			w.x("sll.etype", uint64(s.EthernetType), 4)
			w.end()
		case layers.LayerTypeARP:
			a := &d.ARP
			w.obj("arp")
			w.u("arp.hw.type", uint64(a.AddrType))
			w.x("arp.proto.type", uint64(a.Protocol), 4)
			w.u("arp.hw.size", uint64(a.HwAddressSize))
			w.u("arp.proto.size", uint64(a.ProtAddressSize))
			w.u("arp.opcode", uint64(a.Operation))
			w.mac("arp.src.hw_mac", a.SourceHwAddress)
			w.ip("arp.src.proto_ipv4", a.SourceProtAddress)
			w.mac("arp.dst.hw_mac", a.DstHwAddress)
			w.ip("arp.dst.proto_ipv4", a.DstProtAddress)
			w.end()
		case layers.LayerTypeIPv4:
			p := &d.IPv4
			w.obj("ip")
			w.u("ip.version", uint64(p.Version))
			w.u("ip.hdr_len", uint64(p.IHL)*4)
			w.x("ip.dsfield", uint64(p.TOS), 2)
			w.u("ip.len", uint64(p.Length))
			w.x("ip.id", uint64(p.Id), 4)
			w.x("ip.flags", uint64(p.Flags), 2)
			w.u("ip.frag_offset", uint64(p.FragOffset)*8)
			w.u("ip.ttl", uint64(p.TTL))
			w.u("ip.proto", uint64(p.Protocol))
			w.x("ip.checksum", uint64(p.Checksum), 4)
			w.ip("ip.src", p.SrcIP)
			w.ip("ip.dst", p.DstIP)
			w.end()
		case layers.LayerTypeIPv6:
			p := &d.IPv6
			w.obj("ipv6")
			w.u("ipv6.version", uint64(p.Version))
			w.x("ipv6.tclass", uint64(p.TrafficClass), 8)
			w.x("ipv6.flow", uint64(p.FlowLabel), 6)
			w.u("ipv6.plen", uint64(p.Length))
			w.u("ipv6.nxt", uint64(p.NextHeader))
			w.u("ipv6.hlim", uint64(p.HopLimit))
			w.ip("ipv6.src", p.SrcIP)
			w.ip("ipv6.dst", p.DstIP)
			w.end()
		case layers.LayerTypeTCP:
			p := &d.TCP
			w.obj("tcp")
			w.u("tcp.srcport", uint64(p.SrcPort))
			w.u("tcp.dstport", uint64(p.DstPort))
			w.u("tcp.len", uint64(len(p.Payload)))
			w.u("tcp.seq", uint64(p.Seq))
			w.u("tcp.seq_raw", uint64(p.Seq))
			w.u("tcp.ack", uint64(p.Ack))
			w.u("tcp.ack_raw", uint64(p.Ack))
			w.u("tcp.hdr_len", uint64(p.DataOffset)*4)
			w.x("tcp.flags", uint64(tcpFlags(p)), 4)
			w.u("tcp.window_size_value", uint64(p.Window))
			w.x("tcp.checksum", uint64(p.Checksum), 4)
			w.u("tcp.urgent_pointer", uint64(p.Urgent))
			w.end()
		case layers.LayerTypeUDP:
			p := &d.UDP
			w.obj("udp")
			w.u("udp.srcport", uint64(p.SrcPort))
			w.u("udp.dstport", uint64(p.DstPort))
			w.u("udp.length", uint64(p.Length))
			w.x("udp.checksum", uint64(p.Checksum), 4)
			w.end()
		case layers.LayerTypeICMPv4:
			p := &d.ICMPv4
			w.obj("icmp")
			w.u("icmp.type", uint64(p.TypeCode.Type()))
			w.u("icmp.code", uint64(p.TypeCode.Code()))
			w.x("icmp.checksum", uint64(p.Checksum), 4)
			if typ := p.TypeCode.Type(); typ == 0 || typ == 8 {
				w.u("icmp.ident", uint64(p.Id))
				w.u("icmp.seq", uint64(p.Seq))
			}
			d.appendQuoteJSON(&w, false)
			w.end()
		case layers.LayerTypeICMPv6:
			p := &d.ICMPv6
			w.obj("icmpv6")
			w.u("icmpv6.type", uint64(p.TypeCode.Type()))
			w.u("icmpv6.code", uint64(p.TypeCode.Code()))
			w.x("icmpv6.checksum", uint64(p.Checksum), 4)
			if typ := p.TypeCode.Type(); (typ == 128 || typ == 129) && len(p.Payload) >= 4 {
				w.x("icmpv6.echo.identifier", uint64(be16(p.Payload)), 4)
				w.u("icmpv6.echo.sequence_number", uint64(be16(p.Payload[2:])))
			}
			d.appendQuoteJSON(&w, true)
			w.end()
		case layers.LayerTypeDNS:
			m := &d.DNS
			w.obj("dns")
			w.x("dns.id", uint64(m.ID), 4)
			w.x("dns.flags", dnsFlags(m), 4)
			w.u("dns.count.queries", uint64(len(m.Questions)))
			w.u("dns.count.answers", uint64(len(m.Answers)))
			w.u("dns.count.auth_rr", uint64(len(m.Authorities)))
			w.u("dns.count.add_rr", uint64(len(m.Additionals)))
			if len(m.Questions) > 0 {
				q := &m.Questions[0]
				w.str("dns.qry.name", q.Name)
				w.u("dns.qry.type", uint64(q.Type))
				w.x("dns.qry.class", uint64(q.Class), 4)
			}
			for _, typ := range []layers.DNSType{layers.DNSTypeA, layers.DNSTypeAAAA} {
				n := 0
				for i := range m.Answers {
					rr := &m.Answers[i]
					if rr.Type != typ {
						continue
					}
					if n == 0 {
						w.key(map[layers.DNSType]string{layers.DNSTypeA: "dns.a", layers.DNSTypeAAAA: "dns.aaaa"}[typ])
						w.b = w.b[:len(w.b)-1]
						w.b = append(w.b, '[')
					} else {
						w.b = append(w.b, ',')
					}
					w.b = append(w.b, '"')
					w.b = appendIP(w.b, rr.IP)
					w.b = append(w.b, '"')
					n++
				}
				if n > 0 {
					w.b = append(w.b, ']')
				}
			}
			w.end()
		case gopacket.LayerTypePayload:
			w.obj("data")
			w.u("data.len", uint64(len(d.Payload)))
			w.end()
		}
	}
	return append(w.b, '}')
}

// appendQuoteJSON adds, inside an ICMP error's object, the header it
// quotes, nested as tshark's JSON nests it: an ip (or ipv6) object, then
// the transport's.
func (d *Decoder) appendQuoteJSON(w *jsonW, v6 bool) {
	q, ok := d.Quote()
	if !ok {
		return
	}
	if v6 {
		w.obj("ipv6")
		w.u("ipv6.nxt", uint64(q.Proto))
		w.u("ipv6.hlim", uint64(q.TTL))
		w.key("ipv6.src")
		w.b = append(q.Src.AppendTo(w.b), '"')
		w.key("ipv6.dst")
		w.b = append(q.Dst.AppendTo(w.b), '"')
	} else {
		w.obj("ip")
		w.x("ip.id", uint64(q.ID), 4)
		w.u("ip.ttl", uint64(q.TTL))
		w.u("ip.proto", uint64(q.Proto))
		w.key("ip.src")
		w.b = append(q.Src.AppendTo(w.b), '"')
		w.key("ip.dst")
		w.b = append(q.Dst.AppendTo(w.b), '"')
	}
	w.end()
	switch {
	case q.Proto == layers.IPProtocolTCP && q.L4 >= 4:
		w.obj("tcp")
		w.u("tcp.srcport", uint64(q.SrcPort))
		w.u("tcp.dstport", uint64(q.DstPort))
		if q.L4 >= 8 {
			w.u("tcp.seq", uint64(q.Seq))
		}
		w.end()
	case q.Proto == layers.IPProtocolUDP && q.L4 >= 4:
		w.obj("udp")
		w.u("udp.srcport", uint64(q.SrcPort))
		w.u("udp.dstport", uint64(q.DstPort))
		w.end()
	}
}

// dnsFlags reassembles the DNS header's flags word (RFC 1035 section 4.1.1).
func dnsFlags(m *layers.DNS) uint64 {
	f := uint64(m.OpCode&15)<<11 | uint64(m.Z&7)<<4 | uint64(m.ResponseCode&15)
	for i, bit := range [...]bool{m.RA, m.RD, m.TC, m.AA} {
		if bit {
			f |= 1 << (7 + i)
		}
	}
	if m.QR {
		f |= 1 << 15
	}
	return f
}
