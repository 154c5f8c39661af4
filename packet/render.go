package packet

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// portNames are the service names Scapy prints for common ports.
var portNames = map[uint16]string{
	20: "ftp_data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 67: "bootps",
	68: "bootpc", 69: "tftp", 80: "http", 110: "pop3", 123: "ntp", 143: "imap2", 161: "snmp",
	179: "bgp", 389: "ldap", 443: "https", 445: "microsoft_ds", 514: "shell", 587: "submission",
	993: "imaps", 995: "pop3s", 3306: "mysql", 5432: "postgresql", 8080: "http_alt",
}

func appendPort(b []byte, p uint16) []byte {
	if s, ok := portNames[p]; ok {
		return append(b, s...)
	}
	return appendUint(b, uint64(p))
}

// layerName returns Scapy's name for a decoded layer.
func layerName(t gopacket.LayerType) string {
	switch t {
	case layers.LayerTypeEthernet:
		return "Ether"
	case layers.LayerTypeIPv4:
		return "IP"
	case layers.LayerTypeICMPv4:
		return "ICMP"
	case layers.LayerTypeLinuxSLL:
		return "CookedLinux"
	case layers.LayerTypeLinuxSLL2:
		return "CookedLinuxV2"
	case layers.LayerTypeLoopback:
		return "Loopback"
	case layers.LayerTypeDot1Q:
		return "Dot1Q"
	case gopacket.LayerTypePayload:
		return "Raw"
	}
	return t.String()
}

// AppendSummary appends a one-line summary of the last decoded frame in the
// style of Scapy's summary(), such as
//
//	IP / TCP 198.18.0.1:ftp_data > 198.18.0.2:http S
//
// The innermost layer that has details gives them; the others are named.
func (d *Decoder) AppendSummary(b []byte) []byte {
	detail := -1
	for i, t := range d.Layers {
		switch t {
		case layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeICMPv4, layers.LayerTypeICMPv6,
			layers.LayerTypeARP, layers.LayerTypeDNS, layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			detail = i
		}
	}
	src, dst, _, _ := d.network()
	for i, t := range d.Layers {
		if t == layers.LayerTypeICMPv6Echo {
			continue
		}
		if i > 0 {
			b = append(b, " / "...)
		}
		if i != detail {
			if t == layers.LayerTypeICMPv6 {
				b = append(b, d.icmpv6Name()...)
			} else {
				b = append(b, layerName(t)...)
			}
			continue
		}
		switch t {
		case layers.LayerTypeIPv4:
			b = append(b, "IP "...)
			b = src.AppendTo(b)
			b = append(b, " > "...)
			b = dst.AppendTo(b)
			b = append(b, ' ')
			b = appendProto(b, d.IPv4.Protocol)
		case layers.LayerTypeIPv6:
			b = append(b, "IPv6 "...)
			b = src.AppendTo(b)
			b = append(b, " > "...)
			b = dst.AppendTo(b)
			b = append(b, " ("...)
			b = appendUint(b, uint64(d.IPv6.NextHeader))
			b = append(b, ')')
		case layers.LayerTypeTCP:
			b = append(b, "TCP "...)
			b = appendAddrPort(b, src, uint16(d.TCP.SrcPort))
			b = append(b, " > "...)
			b = appendAddrPort(b, dst, uint16(d.TCP.DstPort))
			b = append(b, ' ')
			b = appendScapyFlags(b, tcpFlags(&d.TCP))
		case layers.LayerTypeUDP:
			b = append(b, "UDP "...)
			b = appendAddrPort(b, src, uint16(d.UDP.SrcPort))
			b = append(b, " > "...)
			b = appendAddrPort(b, dst, uint16(d.UDP.DstPort))
		case layers.LayerTypeICMPv4:
			b = append(b, "ICMP "...)
			b = src.AppendTo(b)
			b = append(b, " > "...)
			b = dst.AppendTo(b)
			b = append(b, ' ')
			b = appendEnum(b, icmpTypes, uint64(d.ICMPv4.TypeCode.Type()))
			b = append(b, ' ')
			b = appendUint(b, uint64(d.ICMPv4.TypeCode.Code()))
		case layers.LayerTypeICMPv6:
			b = append(b, d.icmpv6Name()...)
			if typ := d.ICMPv6.TypeCode.Type(); (typ == 128 || typ == 129) && len(d.ICMPv6.Payload) >= 4 {
				b = append(b, " (id: "...)
				b = appendHexShort(b, uint64(be16(d.ICMPv6.Payload)))
				b = append(b, " seq: "...)
				b = appendHexShort(b, uint64(be16(d.ICMPv6.Payload[2:])))
				b = append(b, ')')
			}
		case layers.LayerTypeARP:
			a := &d.ARP
			switch a.Operation {
			case 1:
				b = append(b, "ARP who has "...)
				b = appendIP(b, a.DstProtAddress)
			case 2:
				b = append(b, "ARP is at "...)
				b = appendMAC(b, a.SourceHwAddress)
			default:
				b = append(b, "ARP op "...)
				b = appendUint(b, uint64(a.Operation))
			}
			b = append(b, " says "...)
			b = appendIP(b, a.SourceProtAddress)
		case layers.LayerTypeDNS:
			m := &d.DNS
			if !m.QR {
				b = append(b, "DNS Qry "...)
				if len(m.Questions) > 0 {
					b = strconv.AppendQuote(b, string(appendDNSName(nil, m.Questions[0].Name)))
				}
			} else {
				b = append(b, "DNS Ans "...)
				if len(m.Answers) > 0 {
					b = strconv.AppendQuote(b, string(appendRR(nil, &m.Answers[0])[1:]))
				}
			}
		}
	}
	return b
}

func (d *Decoder) icmpv6Name() string {
	switch d.ICMPv6.TypeCode.Type() {
	case 128:
		return "ICMPv6 Echo Request"
	case 129:
		return "ICMPv6 Echo Reply"
	case 1:
		return "ICMPv6 Destination Unreachable"
	case 2:
		return "ICMPv6 Packet Too Big"
	case 3:
		return "ICMPv6 Time Exceeded"
	case 4:
		return "ICMPv6 Parameter Problem"
	case 133:
		return "ICMPv6 Neighbor Discovery - Router Solicitation"
	case 134:
		return "ICMPv6 Neighbor Discovery - Router Advertisement"
	case 135:
		return "ICMPv6 Neighbor Discovery - Neighbor Solicitation"
	case 136:
		return "ICMPv6 Neighbor Discovery - Neighbor Advertisement"
	}
	return "ICMPv6"
}

func appendAddrPort(b []byte, a interface{ AppendTo([]byte) []byte }, port uint16) []byte {
	b = a.AppendTo(b)
	b = append(b, ':')
	return appendPort(b, port)
}

func appendHexShort(b []byte, n uint64) []byte {
	b = append(b, "0x"...)
	return strconv.AppendUint(b, n, 16)
}

func appendScapyFlags(b []byte, f uint16) []byte {
	for i := 0; i < len(tcpFlagLetters); i++ {
		if f&(1<<i) != 0 {
			b = append(b, tcpFlagLetters[i])
		}
	}
	return b
}

func appendEnum(b []byte, names map[string]uint64, v uint64) []byte {
	if s := nameOf(names, v); s != "" {
		return append(b, s...)
	}
	return appendUint(b, v)
}

func appendProto(b []byte, p layers.IPProtocol) []byte {
	switch p {
	case 6:
		return append(b, "tcp"...)
	case 17:
		return append(b, "udp"...)
	case 1:
		return append(b, "icmp"...)
	case 58:
		return append(b, "ipv6_icmp"...)
	}
	return appendUint(b, uint64(p))
}

// AppendShow appends every layer of the last decoded frame with every
// field and its value, in the layout of Scapy's show().
func (d *Decoder) AppendShow(b []byte) []byte {
	indent := ""
	hdr := func(name string) {
		b = fmt.Appendf(b, "%s###[ %s ]### \n", indent, name)
	}
	f := func(name string, v any) {
		b = fmt.Appendf(b, "%s  %-10s= %v\n", indent, name, v)
	}
	ip := func(p []byte) string { return string(appendIP(nil, p)) }
	mac := func(p []byte) string { return string(appendMAC(nil, p)) }
	port := func(p uint16) string { return string(appendPort(nil, p)) }
	hex := func(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
	for _, t := range d.Layers {
		switch t {
		case layers.LayerTypeEthernet:
			e := &d.Ethernet
			hdr("Ethernet")
			f("dst", mac(e.DstMAC))
			f("src", mac(e.SrcMAC))
			f("type", string(appendEnum(nil, etherTypes, uint64(e.EthernetType))))
		case layers.LayerTypeDot1Q:
			v := &d.Dot1Q
			hdr("802.1Q")
			f("prio", v.Priority)
			f("dei", b2i(v.DropEligible))
			f("vlan", v.VLANIdentifier)
			f("type", hex(uint64(v.Type)))
		case layers.LayerTypeLinuxSLL:
			s := &d.SLL
			hdr("cooked linux")
			f("pkttype", uint16(s.PacketType))
			f("lladdrtype", hex(uint64(s.AddrType)))
			f("lladdrlen", s.AddrLen)
			f("src", mac(s.Addr))
			f("proto", string(appendEnum(nil, etherTypes, uint64(s.EthernetType))))
		case layers.LayerTypeARP:
			a := &d.ARP
			hdr("ARP")
			f("hwtype", hex(uint64(a.AddrType)))
			f("ptype", string(appendEnum(nil, etherTypes, uint64(a.Protocol))))
			f("hwlen", a.HwAddressSize)
			f("plen", a.ProtAddressSize)
			f("op", string(appendEnum(nil, arpOps, uint64(a.Operation))))
			f("hwsrc", mac(a.SourceHwAddress))
			f("psrc", ip(a.SourceProtAddress))
			f("hwdst", mac(a.DstHwAddress))
			f("pdst", ip(a.DstProtAddress))
		case layers.LayerTypeIPv4:
			p := &d.IPv4
			hdr("IP")
			f("version", p.Version)
			f("ihl", p.IHL)
			f("tos", hex(uint64(p.TOS)))
			f("len", p.Length)
			f("id", p.Id)
			f("flags", ipFlagsString(uint8(p.Flags)))
			f("frag", p.FragOffset)
			f("ttl", p.TTL)
			f("proto", string(appendProto(nil, p.Protocol)))
			f("chksum", hex(uint64(p.Checksum)))
			f("src", ip(p.SrcIP))
			f("dst", ip(p.DstIP))
			b = fmt.Appendf(b, "%s  \\options   \\\n", indent)
		case layers.LayerTypeIPv6:
			p := &d.IPv6
			hdr("IPv6")
			f("version", p.Version)
			f("tc", p.TrafficClass)
			f("fl", p.FlowLabel)
			f("plen", p.Length)
			f("nh", string(appendProto(nil, p.NextHeader)))
			f("hlim", p.HopLimit)
			f("src", ip(p.SrcIP))
			f("dst", ip(p.DstIP))
		case layers.LayerTypeTCP:
			p := &d.TCP
			hdr("TCP")
			f("sport", port(uint16(p.SrcPort)))
			f("dport", port(uint16(p.DstPort)))
			f("seq", p.Seq)
			f("ack", p.Ack)
			f("dataofs", p.DataOffset)
			f("reserved", 0)
			f("flags", string(appendScapyFlags(nil, tcpFlags(p))))
			f("window", p.Window)
			f("chksum", hex(uint64(p.Checksum)))
			f("urgptr", p.Urgent)
			f("options", "["+string(appendTCPOptions(nil, p.Options))+"]")
		case layers.LayerTypeUDP:
			p := &d.UDP
			hdr("UDP")
			f("sport", port(uint16(p.SrcPort)))
			f("dport", port(uint16(p.DstPort)))
			f("len", p.Length)
			f("chksum", hex(uint64(p.Checksum)))
		case layers.LayerTypeICMPv4:
			p := &d.ICMPv4
			hdr("ICMP")
			f("type", string(appendEnum(nil, icmpTypes, uint64(p.TypeCode.Type()))))
			f("code", p.TypeCode.Code())
			f("chksum", hex(uint64(p.Checksum)))
			f("id", hex(uint64(p.Id)))
			f("seq", hex(uint64(p.Seq)))
		case layers.LayerTypeICMPv6:
			p := &d.ICMPv6
			hdr(d.icmpv6Name())
			f("type", string(appendEnum(nil, icmpv6Types, uint64(p.TypeCode.Type()))))
			f("code", p.TypeCode.Code())
			f("cksum", hex(uint64(p.Checksum)))
			if len(p.Payload) >= 4 {
				f("id", hex(uint64(be16(p.Payload))))
				f("seq", hex(uint64(be16(p.Payload[2:]))))
			}
		case layers.LayerTypeDNS:
			m := &d.DNS
			hdr("DNS")
			f("id", m.ID)
			f("qr", b2i(m.QR))
			f("opcode", uint8(m.OpCode))
			f("aa", b2i(m.AA))
			f("tc", b2i(m.TC))
			f("rd", b2i(m.RD))
			f("ra", b2i(m.RA))
			f("z", m.Z>>2)
			f("ad", m.Z>>1&1)
			f("cd", m.Z&1)
			f("rcode", uint8(m.ResponseCode))
			f("qdcount", len(m.Questions))
			f("ancount", len(m.Answers))
			f("nscount", len(m.Authorities))
			f("arcount", len(m.Additionals))
			for _, q := range m.Questions {
				b = fmt.Appendf(b, "%s  \\qd        \\\n", indent)
				b = fmt.Appendf(b, "%s   |###[ DNS Question Record ]### \n", indent)
				b = fmt.Appendf(b, "%s   |  qname     = %s\n", indent, strconv.Quote(string(appendDNSName(nil, q.Name))))
				b = fmt.Appendf(b, "%s   |  qtype     = %s\n", indent, appendDNSType(nil, q.Type))
				b = fmt.Appendf(b, "%s   |  qclass    = %s\n", indent, appendEnum(nil, dnsClasses, uint64(q.Class)))
			}
			for _, rr := range m.Answers {
				b = fmt.Appendf(b, "%s  \\an        \\\n", indent)
				b = fmt.Appendf(b, "%s   |###[ DNS Resource Record ]### \n", indent)
				b = fmt.Appendf(b, "%s   |  rrname    = %s\n", indent, strconv.Quote(string(appendDNSName(nil, rr.Name))))
				b = fmt.Appendf(b, "%s   |  type      = %s\n", indent, appendDNSType(nil, rr.Type))
				b = fmt.Appendf(b, "%s   |  ttl       = %d\n", indent, rr.TTL)
				b = fmt.Appendf(b, "%s   |  rdata     = %s\n", indent, strings.TrimSpace(string(appendRR(nil, &rr)[len(appendDNSType(nil, rr.Type))+1:])))
			}
		case gopacket.LayerTypePayload:
			hdr("Raw")
			f("load", pyBytes(d.Payload))
		default:
			hdr(layerName(t))
		}
		indent += "   "
	}
	return b
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

func ipFlagsString(f uint8) string {
	var parts []string
	for i, n := range []string{"MF", "DF", "evil"} {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "+")
}

// pyBytes renders p as a Python bytes literal, as Scapy shows loads.
func pyBytes(p []byte) string {
	var b strings.Builder
	b.WriteString("b'")
	for _, c := range p {
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// AppendHexdump appends data as Scapy's hexdump() shows it: lines of 16
// bytes with a 4-digit hex offset, the bytes in hex and as ASCII.
func AppendHexdump(b []byte, data []byte) []byte {
	const upper = "0123456789ABCDEF"
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		if off > 0xffff {
			b = strconv.AppendUint(b, uint64(off), 16)
		} else {
			b = append(b, hexDigits[off>>12&15], hexDigits[off>>8&15], hexDigits[off>>4&15], hexDigits[off&15])
		}
		b = append(b, ' ', ' ')
		for i := 0; i < 16; i++ {
			if i < len(line) {
				b = append(b, upper[line[i]>>4], upper[line[i]&15], ' ')
			} else {
				b = append(b, ' ', ' ', ' ')
			}
		}
		b = append(b, ' ')
		for _, c := range line {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			b = append(b, c)
		}
		b = append(b, '\n')
	}
	return b
}
