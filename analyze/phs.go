package analyze

// proto is a protocol of the hierarchy, named as tshark names it.
type proto uint8

const (
	protoNone proto = iota
	protoEth
	protoSLL
	protoNull
	protoRaw
	protoVLAN
	protoQinQ
	protoARP
	protoIP
	protoIPv6
	protoICMP
	protoICMPv6
	protoTCP
	protoUDP
	protoDNS
	protoHTTP
	protoTLS
	protoData
)

var protoNames = [...]string{
	protoNone: "", protoEth: "eth", protoSLL: "sll", protoNull: "null", protoRaw: "raw",
	protoVLAN: "vlan", protoQinQ: "ieee8021ad", protoARP: "arp", protoIP: "ip", protoIPv6: "ipv6",
	protoICMP: "icmp", protoICMPv6: "icmpv6", protoTCP: "tcp", protoUDP: "udp",
	protoDNS: "dns", protoHTTP: "http", protoTLS: "tls", protoData: "data",
}

// ProtocolNode is a node of the protocol hierarchy (tshark -z io,phs): the
// frames and bytes whose dissection contains this protocol below its
// parent's.
type ProtocolNode struct {
	Name     string
	Frames   uint64
	Bytes    uint64
	Children []*ProtocolNode
}

type phsNode struct {
	p        proto
	frames   uint64
	bytes    uint64
	children []*phsNode
}

type hierarchy struct{ root phsNode }

func newHierarchy() *hierarchy { return &hierarchy{} }

func (h *hierarchy) add(path []proto, length uint64) {
	n := &h.root
	for _, p := range path {
		var c *phsNode
		for _, x := range n.children {
			if x.p == p {
				c = x
				break
			}
		}
		if c == nil {
			c = &phsNode{p: p}
			n.children = append(n.children, c)
		}
		c.frames++
		c.bytes += length
		n = c
	}
}

// Hierarchy returns the top-level protocols of the hierarchy (tshark lists
// them under "frame", which it omits), children in order of appearance; nil
// when the Config did not ask for it.
func (a *Analyzer) Hierarchy() []*ProtocolNode {
	if a.phs == nil {
		return nil
	}
	return export(a.phs.root.children)
}

func export(ns []*phsNode) []*ProtocolNode {
	if len(ns) == 0 {
		return nil
	}
	out := make([]*ProtocolNode, len(ns))
	for i, n := range ns {
		out[i] = &ProtocolNode{Name: protoNames[n.p], Frames: n.frames, Bytes: n.bytes, Children: export(n.children)}
	}
	return out
}
