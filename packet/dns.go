package packet

import (
	"github.com/gopacket/gopacket/layers"
)

var dnsTypeNames = func() map[layers.DNSType]string {
	// tcpdump's names for types the expression language does not name.
	m := map[layers.DNSType]string{3: "MD", 4: "MF", 7: "MB", 8: "MG", 9: "MR", 10: "NULL", 11: "WKS",
		14: "MINFO", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 24: "SIG", 25: "KEY",
		26: "PX", 27: "GPOS", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 34: "ATMA", 36: "KX",
		37: "CERT", 38: "A6", 39: "DNAME", 40: "SINK", 42: "APL", 44: "SSHFP", 45: "IPSECKEY",
		49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 55: "HIP", 99: "SPF", 249: "TKEY", 250: "TSIG",
		253: "MAILB", 254: "MAILA", 256: "URI"}
	for k, v := range dnsTypes {
		m[layers.DNSType(v)] = k
	}
	return m
}()

var rcodeNames = [...]string{"", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain", " YXRRSet", " NXRRSet", " NotAuth", " NotZone"}

func appendDNSName(b []byte, name []byte) []byte {
	if len(name) == 0 {
		return append(b, '.')
	}
	b = append(b, name...)
	if name[len(name)-1] != '.' {
		b = append(b, '.')
	}
	return b
}

func appendDNSType(b []byte, t layers.DNSType) []byte {
	if s, ok := dnsTypeNames[t]; ok {
		return append(b, s...)
	}
	b = append(b, "Type"...)
	return appendUint(b, uint64(t))
}

// appendDNS renders the DNS message as tcpdump does without -v; n is the
// message length.
func (d *Decoder) appendDNS(b []byte, n int) []byte {
	m := &d.DNS
	b = appendUint(b, uint64(m.ID))
	switch m.OpCode {
	case 0:
	case 1:
		b = append(b, " inv_q"...)
	case 2:
		b = append(b, " stat"...)
	case 4:
		b = append(b, " notify"...)
	case 5:
		b = append(b, " update"...)
	default:
		b = append(b, " op"...)
		b = appendUint(b, uint64(m.OpCode))
	}
	qd, an, ns, ar := len(m.Questions), len(m.Answers), len(m.Authorities), len(m.Additionals)
	if m.QR {
		if int(m.ResponseCode) < len(rcodeNames) {
			b = append(b, rcodeNames[m.ResponseCode]...)
		} else {
			b = append(b, " Resp"...)
			b = appendUint(b, uint64(m.ResponseCode))
		}
		if m.AA {
			b = append(b, '*')
		}
		if !m.RA {
			b = append(b, '-')
		}
		if m.TC {
			b = append(b, '|')
		}
		if m.Z&2 != 0 {
			b = append(b, '$')
		}
		if qd != 1 {
			b = append(b, " ["...)
			b = appendUint(b, uint64(qd))
			b = append(b, "q]"...)
		}
		b = append(b, ' ')
		b = appendUint(b, uint64(an))
		b = append(b, '/')
		b = appendUint(b, uint64(ns))
		b = append(b, '/')
		b = appendUint(b, uint64(ar))
		for i := range m.Answers {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRR(b, &m.Answers[i])
		}
	} else {
		if m.RD {
			b = append(b, '+')
		}
		if m.Z&1 != 0 {
			b = append(b, '%')
		}
		if qd != 1 {
			b = append(b, " ["...)
			b = appendUint(b, uint64(qd))
			b = append(b, "q]"...)
		}
		if an != 0 {
			b = append(b, " ["...)
			b = appendUint(b, uint64(an))
			b = append(b, "a]"...)
		}
		if ns != 0 {
			b = append(b, " ["...)
			b = appendUint(b, uint64(ns))
			b = append(b, "n]"...)
		}
		if ar != 0 {
			b = append(b, " ["...)
			b = appendUint(b, uint64(ar))
			b = append(b, "au]"...)
		}
		for i := range m.Questions {
			q := &m.Questions[i]
			b = append(b, ' ')
			b = appendDNSType(b, q.Type)
			if q.Class != layers.DNSClassIN {
				b = append(b, " (Class "...)
				b = appendUint(b, uint64(q.Class))
				b = append(b, ')')
			}
			b = append(b, "? "...)
			b = appendDNSName(b, q.Name)
		}
	}
	b = append(b, " ("...)
	b = appendUint(b, uint64(n))
	return append(b, ')')
}

func appendRR(b []byte, rr *layers.DNSResourceRecord) []byte {
	b = append(b, ' ')
	b = appendDNSType(b, rr.Type)
	switch rr.Type {
	case layers.DNSTypeA, layers.DNSTypeAAAA:
		b = append(b, ' ')
		b = appendIP(b, rr.IP)
	case layers.DNSTypeCNAME:
		b = append(b, ' ')
		b = appendDNSName(b, rr.CNAME)
	case layers.DNSTypeNS:
		b = append(b, ' ')
		b = appendDNSName(b, rr.NS)
	case layers.DNSTypePTR:
		b = append(b, ' ')
		b = appendDNSName(b, rr.PTR)
	case layers.DNSTypeMX:
		b = append(b, ' ')
		b = appendDNSName(b, rr.MX.Name)
		b = append(b, ' ')
		b = appendUint(b, uint64(rr.MX.Preference))
	case layers.DNSTypeTXT:
		for _, t := range rr.TXTs {
			b = append(b, ' ', '"')
			b = append(b, t...)
			b = append(b, '"')
		}
	case layers.DNSTypeSRV:
		b = append(b, ' ')
		b = appendDNSName(b, rr.SRV.Name)
		b = append(b, ':')
		b = appendUint(b, uint64(rr.SRV.Port))
		b = append(b, ' ')
		b = appendUint(b, uint64(rr.SRV.Priority))
		b = append(b, ' ')
		b = appendUint(b, uint64(rr.SRV.Weight))
	}
	return b
}
