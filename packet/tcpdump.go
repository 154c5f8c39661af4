package packet

import (
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket/layers"
)

func appendIP(b []byte, ip []byte) []byte {
	switch len(ip) {
	case 4:
		return netip.AddrFrom4([4]byte(ip)).AppendTo(b)
	case 16:
		return netip.AddrFrom16([16]byte(ip)).Unmap().AppendTo(b)
	}
	return append(b, '?')
}

func appendMAC(b []byte, m []byte) []byte {
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

func appendUint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }

func appendHex(b []byte, n uint64, width int) []byte {
	b = append(b, '0', 'x')
	for i := width - 1; i >= 0; i-- {
		b = append(b, hexDigits[n>>(4*i)&15])
	}
	return b
}

// AppendTCPDump appends to b a one-line rendering of the last decoded frame
// in the style of `tcpdump -nn -S` (without timestamp or newline) and
// returns the extended buffer, without allocating. Sequence numbers are
// absolute, as with -S, unless d.Seqs is set: then they are relative as
// tcpdump prints them by default.
func (d *Decoder) AppendTCPDump(b []byte) []byte {
	switch {
	case d.Has(layers.LayerTypeARP):
		return d.appendARP(b)
	case d.Has(layers.LayerTypeIPv4):
		ip := &d.IPv4
		b = append(b, "IP "...)
		return d.appendTransport(b, ip.SrcIP, ip.DstIP, int(ip.Length)-int(ip.IHL)*4, ip.Protocol, ip.FragOffset != 0)
	case d.Has(layers.LayerTypeIPv6):
		ip := &d.IPv6
		b = append(b, "IP6 "...)
		return d.appendTransport(b, ip.SrcIP, ip.DstIP, int(ip.Length), ip.NextHeader, false)
	case d.Has(layers.LayerTypeEthernet):
		e := &d.Ethernet
		if e.EthernetType == layers.EthernetTypeARP {
			return append(b, " [|arp]"...)
		}
		b = appendMAC(b, e.SrcMAC)
		b = append(b, " > "...)
		b = appendMAC(b, e.DstMAC)
		b = append(b, ", ethertype "...)
		switch e.EthernetType {
		case layers.EthernetTypeIPv4:
			b = append(b, "IPv4 ("...)
		case layers.EthernetTypeIPv6:
			b = append(b, "IPv6 ("...)
		default:
			b = append(b, "Unknown ("...)
		}
		b = appendHex(b, uint64(e.EthernetType), 4)
		b = append(b, "), length "...)
		b = appendUint(b, uint64(d.wireLen()))
		return append(b, ": "...)
	}
	if d.Truncated || len(d.Layers) == 0 {
		return append(b, "[|unknown]"...)
	}
	return append(b, "unknown"...)
}

func (d *Decoder) appendARP(b []byte) []byte {
	a := &d.ARP
	b = append(b, "ARP, "...)
	n := d.wireLen()
	if d.Has(layers.LayerTypeEthernet) {
		n -= 14
	} else {
		n = len(a.Contents) + len(a.Payload)
	}
	switch a.Operation {
	case 1:
		b = append(b, "Request who-has "...)
		b = appendIP(b, a.DstProtAddress)
		if !allZero(a.DstHwAddress) {
			b = append(b, " ("...)
			b = appendMAC(b, a.DstHwAddress)
			b = append(b, ')')
		}
		b = append(b, " tell "...)
		b = appendIP(b, a.SourceProtAddress)
	case 2:
		b = append(b, "Reply "...)
		b = appendIP(b, a.SourceProtAddress)
		b = append(b, " is-at "...)
		b = appendMAC(b, a.SourceHwAddress)
	default:
		b = append(b, "Unknown ("...)
		b = appendUint(b, uint64(a.Operation))
		b = append(b, ')')
	}
	b = append(b, ", length "...)
	return appendUint(b, uint64(n))
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

// tcpFlagChars are tcpdump's flag letters, in its order.
var tcpFlagChars = [...]struct {
	bit uint16
	c   byte
}{{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, '.'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}}

func (d *Decoder) appendTransport(b []byte, src, dst []byte, iplen int, proto layers.IPProtocol, frag bool) []byte {
	hostPort := func(b []byte, ip []byte, port uint16) []byte {
		b = appendIP(b, ip)
		b = append(b, '.')
		return appendUint(b, uint64(port))
	}
	switch {
	case frag:
	case proto == layers.IPProtocolTCP && d.Has(layers.LayerTypeTCP):
		t := &d.TCP
		b = hostPort(b, src, uint16(t.SrcPort))
		b = append(b, " > "...)
		b = hostPort(b, dst, uint16(t.DstPort))
		b = append(b, ": Flags ["...)
		f := tcpFlags(t)
		if f&0xff == 0 {
			b = append(b, "none"...)
		}
		for _, fc := range tcpFlagChars {
			if f&fc.bit != 0 {
				b = append(b, fc.c)
			}
		}
		b = append(b, ']')
		n := len(t.Payload)
		seq, ack := t.Seq, t.Ack
		if d.Seqs != nil && t.ACK {
			seq, ack = d.Seqs.relative(src, dst, uint16(t.SrcPort), uint16(t.DstPort), seq, ack, t.SYN)
		}
		if n > 0 || f&0x07 != 0 {
			b = append(b, ", seq "...)
			b = appendUint(b, uint64(seq))
			if n > 0 {
				b = append(b, ':')
				b = appendUint(b, uint64(seq+uint32(n)))
			}
		}
		if t.ACK {
			b = append(b, ", ack "...)
			b = appendUint(b, uint64(ack))
		}
		b = append(b, ", win "...)
		b = appendUint(b, uint64(t.Window))
		if t.URG {
			b = append(b, ", urg "...)
			b = appendUint(b, uint64(t.Urgent))
		}
		if len(t.Options) > 0 {
			b = append(b, ", options ["...)
			b = appendTCPOptions(b, t.Options, t.Ack-ack)
			b = append(b, ']')
		}
		b = append(b, ", length "...)
		b = appendUint(b, uint64(n))
		switch {
		case n > 0 && d.Has(layers.LayerTypeDNS):
			b = append(b, ' ')
			b = d.appendDNS(b, n-2)
		case (t.SrcPort == 22 || t.DstPort == 22) && hasPrefix(t.Payload, "SSH-"):
			// tcpdump prints the SSH identification string (RFC 4253).
			b = append(b, ": SSH: "...)
			b = append(b, firstLine(t.Payload)...)
		case n > 0 && (t.SrcPort == 80 || t.DstPort == 80 || t.SrcPort == 8080 || t.DstPort == 8080):
			b = append(b, ": HTTP"...)
			if isHTTPStart(t.Payload) {
				b = append(b, ": "...)
				b = append(b, firstLine(t.Payload)...)
			}
		}
		return b
	case proto == layers.IPProtocolUDP && d.Has(layers.LayerTypeUDP):
		u := &d.UDP
		b = hostPort(b, src, uint16(u.SrcPort))
		b = append(b, " > "...)
		b = hostPort(b, dst, uint16(u.DstPort))
		b = append(b, ": "...)
		if d.Has(layers.LayerTypeDNS) {
			return d.appendDNS(b, len(u.Payload))
		}
		b = append(b, "UDP, length "...)
		return appendUint(b, uint64(int(u.Length)-8))
	case proto == layers.IPProtocolICMPv4 && d.Has(layers.LayerTypeICMPv4):
		b = appendIP(b, src)
		b = append(b, " > "...)
		b = appendIP(b, dst)
		b = append(b, ": ICMP "...)
		b = d.appendICMPv4(b)
		b = append(b, ", length "...)
		return appendUint(b, uint64(len(d.ICMPv4.Contents)+len(d.ICMPv4.Payload)))
	case proto == layers.IPProtocolICMPv6 && d.Has(layers.LayerTypeICMPv6):
		b = appendIP(b, src)
		b = append(b, " > "...)
		b = appendIP(b, dst)
		b = append(b, ": ICMP6, "...)
		b = d.appendICMPv6(b)
		b = append(b, ", length "...)
		return appendUint(b, uint64(len(d.ICMPv6.Contents)+len(d.ICMPv6.Payload)))
	}
	b = appendIP(b, src)
	b = append(b, " > "...)
	b = appendIP(b, dst)
	b = append(b, ": ip-proto-"...)
	b = appendUint(b, uint64(proto))
	b = append(b, ' ')
	if iplen < 0 {
		iplen = 0
	}
	return appendUint(b, uint64(iplen))
}

// appendTCPOptions renders a TCP header's options; sackBase is subtracted
// from SACK edges, which tcpdump prints relative as it does the ack.
func appendTCPOptions(b []byte, opts []layers.TCPOption, sackBase uint32) []byte {
	for i, o := range opts {
		if i > 0 {
			b = append(b, ',')
		}
		data := o.OptionData
		switch o.OptionType {
		case layers.TCPOptionKindEndList:
			b = append(b, "eol"...)
		case layers.TCPOptionKindNop:
			b = append(b, "nop"...)
		case layers.TCPOptionKindMSS:
			b = append(b, "mss"...)
			if len(data) == 2 {
				b = append(b, ' ')
				b = appendUint(b, uint64(data[0])<<8|uint64(data[1]))
			}
		case layers.TCPOptionKindWindowScale:
			b = append(b, "wscale"...)
			if len(data) == 1 {
				b = append(b, ' ')
				b = appendUint(b, uint64(data[0]))
			}
		case layers.TCPOptionKindSACKPermitted:
			b = append(b, "sackOK"...)
		case layers.TCPOptionKindSACK:
			b = append(b, "sack "...)
			b = appendUint(b, uint64(len(data)/8))
			for j := 0; j+8 <= len(data); j += 8 {
				b = append(b, " {"...)
				b = appendUint(b, uint64(be32(data[j:])-sackBase))
				b = append(b, ':')
				b = appendUint(b, uint64(be32(data[j+4:])-sackBase))
				b = append(b, '}')
			}
		case layers.TCPOptionKindTimestamps:
			b = append(b, "TS"...)
			if len(data) == 8 {
				b = append(b, " val "...)
				b = appendUint(b, uint64(be32(data)))
				b = append(b, " ecr "...)
				b = appendUint(b, uint64(be32(data[4:])))
			}
		case 34, 254:
			// TCP Fast Open (RFC 7413), and its experimental form.
			if o.OptionType == 254 {
				if len(data) < 2 || data[0] != 0xf9 || data[1] != 0x89 {
					b = append(b, "unknown-254"...)
					break
				}
				b = append(b, "exp-"...)
				data = data[2:]
			}
			b = append(b, "tfo"...)
			if len(data) == 0 {
				b = append(b, " cookiereq"...)
				break
			}
			b = append(b, " cookie "...)
			for _, c := range data {
				b = append(b, hexDigits[c>>4], hexDigits[c&15])
			}
		default:
			b = append(b, "unknown-"...)
			b = appendUint(b, uint64(o.OptionType))
			if len(data) > 0 {
				b = append(b, ' ')
				for _, c := range data {
					b = append(b, hexDigits[c>>4], hexDigits[c&15])
				}
			}
		}
	}
	return b
}

func be32(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}
func be16(p []byte) uint16 { return uint16(p[0])<<8 | uint16(p[1]) }

var unreachCodes = [...]string{
	0: "net %s unreachable", 1: "host %s unreachable", 2: "%s protocol %d unreachable", 3: "%s %s port %d unreachable",
	4: "%s unreachable - need to frag (mtu %d)", 5: "%s unreachable - source route failed",
	6: "%s unreachable - net unknown", 7: "%s unreachable - host unknown", 8: "%s unreachable - source host isolated",
	9: "%s unreachable - net prohibited", 10: "%s unreachable - host prohibited", 11: "%s unreachable - tos prohibited for net",
	12: "%s unreachable - tos prohibited for host", 13: "%s unreachable - admin prohibited filter",
	14: "%s unreachable - host precedence violation", 15: "%s unreachable - precedence cutoff",
}

func (d *Decoder) appendICMPv4(b []byte) []byte {
	i := &d.ICMPv4
	typ, code := i.TypeCode.Type(), i.TypeCode.Code()
	switch typ {
	case 0, 8:
		if typ == 0 {
			b = append(b, "echo reply, id "...)
		} else {
			b = append(b, "echo request, id "...)
		}
		b = appendUint(b, uint64(i.Id))
		b = append(b, ", seq "...)
		return appendUint(b, uint64(i.Seq))
	case 3:
		q, ok := quoted(i.Payload, false)
		if !ok || code > 15 {
			b = append(b, "unreachable code "...)
			return appendUint(b, uint64(code))
		}
		switch code {
		case 0:
			b = append(b, "net "...)
			b = q.Dst.AppendTo(b)
			return append(b, " unreachable"...)
		case 1:
			b = append(b, "host "...)
			b = q.Dst.AppendTo(b)
			return append(b, " unreachable"...)
		case 2:
			b = q.Dst.AppendTo(b)
			b = append(b, " protocol "...)
			b = appendUint(b, uint64(q.Proto))
			return append(b, " unreachable"...)
		case 3:
			b = q.Dst.AppendTo(b)
			switch q.Proto {
			case 6:
				b = append(b, " tcp port "...)
			case 17:
				b = append(b, " udp port "...)
			default:
				b = append(b, " protocol "...)
				b = appendUint(b, uint64(q.Proto))
				return append(b, " port unreachable"...)
			}
			b = appendUint(b, uint64(q.DstPort))
			return append(b, " unreachable"...)
		case 4:
			b = q.Dst.AppendTo(b)
			b = append(b, " unreachable - need to frag (mtu "...)
			b = appendUint(b, uint64(i.Seq))
			return append(b, ')')
		}
		b = q.Dst.AppendTo(b)
		s := unreachCodes[code]
		return append(b, s[2:]...)
	case 4:
		return append(b, "source quench"...)
	case 5:
		b = append(b, "redirect"...)
		return b
	case 11:
		if code == 1 {
			return append(b, "ip reassembly time exceeded"...)
		}
		return append(b, "time exceeded in-transit"...)
	case 12:
		b = append(b, "parameter problem - octet "...)
		return appendUint(b, uint64(i.Id>>8))
	case 13:
		return append(b, "time stamp query"...)
	case 14:
		return append(b, "time stamp reply"...)
	case 9:
		return append(b, "router advertisement"...)
	case 10:
		return append(b, "router solicitation"...)
	}
	b = append(b, "type-#"...)
	return appendUint(b, uint64(typ))
}

func (d *Decoder) appendICMPv6(b []byte) []byte {
	i := &d.ICMPv6
	typ, code := i.TypeCode.Type(), i.TypeCode.Code()
	switch typ {
	case 128, 129:
		if typ == 128 {
			b = append(b, "echo request, id "...)
		} else {
			b = append(b, "echo reply, id "...)
		}
		if len(i.Payload) >= 4 {
			b = appendUint(b, uint64(be16(i.Payload)))
			b = append(b, ", seq "...)
			b = appendUint(b, uint64(be16(i.Payload[2:])))
		}
		return b
	case 1:
		b = append(b, "destination unreachable"...)
		q, ok := quoted(i.Payload, true)
		if !ok {
			return b
		}
		switch code {
		case 3:
			b = append(b, ", unreachable address "...)
			b = q.Dst.AppendTo(b)
		case 4:
			b = append(b, ", unreachable port, "...)
			b = q.Dst.AppendTo(b)
			switch q.Proto {
			case 6:
				b = append(b, " tcp port "...)
			case 17:
				b = append(b, " udp port "...)
			default:
				b = append(b, " port "...)
			}
			b = appendUint(b, uint64(q.DstPort))
		case 0:
			b = append(b, ", unreachable route "...)
			b = q.Dst.AppendTo(b)
		case 1:
			b = append(b, ", unreachable prohibited "...)
			b = q.Dst.AppendTo(b)
		case 2:
			b = append(b, ", beyond scope "...)
			b = q.Dst.AppendTo(b)
		}
		return b
	case 2:
		b = append(b, "packet too big, mtu "...)
		if len(i.Payload) >= 4 {
			b = appendUint(b, uint64(be32(i.Payload)))
		}
		return b
	case 3:
		b = append(b, "time exceeded in-transit"...)
		if q, ok := quoted(i.Payload, true); ok && code == 0 {
			b = append(b, " for "...)
			b = q.Dst.AppendTo(b)
		}
		return b
	case 4:
		b = append(b, "parameter problem"...)
		return b
	case 133:
		return append(b, "router solicitation"...)
	case 134:
		return append(b, "router advertisement"...)
	case 135:
		b = append(b, "neighbor solicitation"...)
		if len(i.Payload) >= 20 {
			b = append(b, ", who has "...)
			b = appendIP(b, i.Payload[4:20])
		}
		return b
	case 136:
		b = append(b, "neighbor advertisement"...)
		if len(i.Payload) >= 20 {
			b = append(b, ", tgt is "...)
			b = appendIP(b, i.Payload[4:20])
		}
		return b
	case 137:
		return append(b, "redirect"...)
	case 130:
		return append(b, "multicast listener query"...)
	case 131:
		return append(b, "multicast listener report"...)
	case 132:
		return append(b, "multicast listener done"...)
	case 143:
		return append(b, "multicast listener report v2"...)
	}
	b = append(b, "type-#"...)
	return appendUint(b, uint64(typ))
}

func hasPrefix(p []byte, s string) bool { return len(p) >= len(s) && string(p[:len(s)]) == s }

func firstLine(p []byte) []byte {
	for i, c := range p {
		if c == '\r' || c == '\n' {
			return p[:i]
		}
	}
	return p
}

// isHTTPStart reports whether p starts an HTTP request or response, as
// tcpdump's txtproto_print checks before printing the first line.
func isHTTPStart(p []byte) bool {
	if hasPrefix(p, "HTTP/") {
		return true
	}
	for _, m := range [...]string{"GET ", "PUT ", "COPY ", "HEAD ", "LOCK ", "MOVE ", "POLL ", "POST ",
		"BCOPY ", "BMOVE ", "MKCOL ", "TRACE ", "LABEL ", "MERGE ", "DELETE ", "SEARCH ", "UNLOCK ",
		"REPORT ", "UPDATE ", "NOTIFY ", "BDELETE ", "CONNECT ", "OPTIONS ", "CHECKIN ", "PROPFIND ",
		"CHECKOUT ", "CCM_POST ", "SUBSCRIBE ", "PROPPATCH ", "BPROPFIND ", "BPROPPATCH ", "UNCHECKOUT ",
		"MKACTIVITY ", "MKWORKSPACE ", "UNSUBSCRIBE ", "RPC_CONNECT ", "VERSION-CONTROL ", "BASELINE-CONTROL "} {
		if hasPrefix(p, m) {
			return true
		}
	}
	return false
}

// TCPSeqs is what tcpdump remembers of each TCP connection to print its
// sequence and acknowledgement numbers relative to where the connection
// started: the numbers of the first packet with ACK set in either
// direction (and again at a SYN-ACK), which itself prints absolute.
// Memory grows with connections, not packets. Set a Decoder's Seqs to use
// it; it is not safe for concurrent use.
type TCPSeqs struct {
	m map[halfFlow]seqBase // keyed in the canonical direction
}

type seqBase struct{ seq, ack uint32 }

// NewTCPSeqs returns an empty TCPSeqs.
func NewTCPSeqs() *TCPSeqs { return &TCPSeqs{m: map[halfFlow]seqBase{}} }

// relative returns seq and ack as tcpdump prints them for a packet with
// ACK set, learning the connection's bases as tcpdump does (print-tcp.c):
// the connection is keyed in a canonical direction, and rev says the
// packet goes the other way.
func (s *TCPSeqs) relative(src, dst []byte, sport, dport uint16, seq, ack uint32, syn bool) (uint32, uint32) {
	a, _ := netip.AddrFromSlice(src)
	z, _ := netip.AddrFromSlice(dst)
	rev := a.Compare(z) > 0 || a == z && sport > dport
	k := halfFlow{a, z, sport, dport}
	if rev {
		k = halfFlow{z, a, dport, sport}
	}
	base, ok := s.m[k]
	if !ok || syn {
		if rev {
			s.m[k] = seqBase{seq: ack - 1, ack: seq}
		} else {
			s.m[k] = seqBase{seq: seq, ack: ack - 1}
		}
		return seq, ack
	}
	if rev {
		return seq - base.ack, ack - base.seq
	}
	return seq - base.seq, ack - base.ack
}
