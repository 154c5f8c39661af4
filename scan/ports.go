package scan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Proto is a transport protocol of a port.
type Proto uint8

// The protocols a scan probes.
const (
	TCP Proto = 6
	UDP Proto = 17
)

// String returns "tcp" or "udp".
func (p Proto) String() string {
	if p == UDP {
		return "udp"
	}
	return "tcp"
}

// Ports is a parsed port specification: the TCP and UDP ports to probe,
// and those given without a protocol, which go to whichever protocols the
// scan types probe. Each list is sorted and without duplicates.
type Ports struct {
	TCP, UDP, Any []uint16
}

// For returns the ports to probe with protocol p: those of p and those
// without a protocol.
func (p Ports) For(proto Proto) []uint16 {
	l := p.TCP
	if proto == UDP {
		l = p.UDP
	}
	return sortedUnique(append(slices.Clone(l), p.Any...))
}

func sortedUnique(l []uint16) []uint16 {
	slices.Sort(l)
	return slices.Compact(l)
}

// ParsePorts parses nmap's port syntax: a comma-separated list of ports,
// ranges (1000-2000; -1024 starts at 1, 60000- ends at 65535, - is
// 1-65535) and service names, each list switched to one protocol by T: or
// U: (U:53,111,T:21-25). Port 0 is probed only when named.
func ParsePorts(s string) (Ports, error) {
	bad := func(col int, msg string, args ...any) (Ports, error) {
		return Ports{}, &SpecError{Kind: "ports", Spec: s, Col: col, Msg: fmt.Sprintf(msg, args...)}
	}
	if s == "" {
		return bad(1, "empty")
	}
	var p Ports
	cur := &p.Any
	col := 1
	for _, item := range strings.Split(s, ",") {
		start := col
		col += len(item) + 1
		if len(item) >= 2 && item[1] == ':' {
			switch item[0] {
			case 'T', 't':
				cur = &p.TCP
			case 'U', 'u':
				cur = &p.UDP
			default:
				return bad(start, "protocol: want T: or U:")
			}
			item = item[2:]
			start += 2
		}
		if item == "" {
			return bad(start, "empty port")
		}
		loS, hiS, isRange := strings.Cut(item, "-")
		num := func(x string, def uint16, at int) (uint16, error) {
			if x == "" {
				return def, nil
			}
			if x[0] < '0' || x[0] > '9' {
				if port, ok := portByName(x, cur == &p.UDP); ok && !isRange {
					return port, nil
				}
				return 0, &SpecError{Kind: "ports", Spec: s, Col: at, Msg: fmt.Sprintf("unknown port or service %q", x)}
			}
			v, err := strconv.ParseUint(x, 10, 32)
			if err != nil || v > 65535 {
				return 0, &SpecError{Kind: "ports", Spec: s, Col: at, Msg: "port: want 0 to 65535"}
			}
			return uint16(v), nil
		}
		lo, err := num(loS, 1, start)
		if err != nil {
			return Ports{}, err
		}
		hi := lo
		if isRange {
			if hi, err = num(hiS, 65535, start+len(loS)+1); err != nil {
				return Ports{}, err
			}
			if hi < lo {
				return bad(start, "range runs backwards")
			}
		}
		for v := int(lo); v <= int(hi); v++ {
			*cur = append(*cur, uint16(v))
		}
	}
	p.TCP, p.UDP, p.Any = sortedUnique(p.TCP), sortedUnique(p.UDP), sortedUnique(p.Any)
	return p, nil
}

// TopPorts returns the n most frequently open ports of proto, most frequent
// first (see topTCP): beyond the ranked list, the ports IANA names, then
// the rest in ascending order.
func TopPorts(proto Proto, n int) []uint16 {
	ranked := topTCP
	if proto == UDP {
		ranked = topUDP
	}
	n = min(max(n, 0), 65535)
	out := make([]uint16, 0, n)
	seen := make([]bool, 65536)
	push := func(p uint16) {
		if len(out) < n && p != 0 && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range ranked {
		push(p)
	}
	for _, p := range namedPorts(proto) {
		push(p)
	}
	for p := 1; p <= 65535 && len(out) < n; p++ {
		push(uint16(p))
	}
	return out
}
