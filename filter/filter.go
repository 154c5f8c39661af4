package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// LinkType is a pcap link-layer header type (LINKTYPE_* in pcap files; the
// numbers tcpdump's -y names map to).
type LinkType uint32

// Link types the compiler knows.
const (
	LinkTypeEthernet  LinkType = 1   // LINKTYPE_ETHERNET, DLT_EN10MB
	LinkTypeRaw       LinkType = 101 // LINKTYPE_RAW: IPv4 or IPv6, no link header
	LinkTypeLinuxSLL  LinkType = 113 // LINKTYPE_LINUX_SLL, Linux cooked capture v1
	LinkTypeIPv4      LinkType = 228 // LINKTYPE_IPV4: IPv4 only, no link header
	LinkTypeIPv6      LinkType = 229 // LINKTYPE_IPV6: IPv6 only, no link header
	LinkTypeLinuxSLL2 LinkType = 276 // LINKTYPE_LINUX_SLL2, Linux cooked capture v2

	// linkTypeDLTRaw is DLT_RAW as Linux numbers it (12); accepted as Raw.
	linkTypeDLTRaw LinkType = 12
)

// String returns the name tcpdump's -y uses for lt.
func (lt LinkType) String() string {
	switch lt {
	case LinkTypeEthernet:
		return "EN10MB"
	case LinkTypeRaw, linkTypeDLTRaw:
		return "RAW"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	}
	return fmt.Sprintf("LinkType(%d)", uint32(lt))
}

// DefaultSnaplen is the value a program returns for an accepted packet
// when Compile is given a snaplen of 0; it is libpcap's.
const DefaultSnaplen = 262144

// Program is a compiled filter: a classic BPF program and an in-process
// matcher for it. A Program is immutable and safe for concurrent use.
type Program struct {
	expr string
	lt   LinkType
	raw  []bpf.RawInstruction
}

// Compile compiles a pcap-filter(7) expression for packets that start with
// a link-layer header of type lt. The program returns snaplen (0 means
// DefaultSnaplen) for packets that match and 0 for the others. An empty
// expression matches every packet. Errors in the expression are
// *SyntaxError values that point at the offending token.
func Compile(expr string, lt LinkType, snaplen uint32) (*Program, error) {
	if snaplen == 0 {
		snaplen = DefaultSnaplen
	}
	p := &parser{expr: expr, lt: lt}
	switch lt {
	case LinkTypeEthernet:
		p.offLinkType, p.offLinkPL, p.vlanOK = 12, 14, true
	case LinkTypeLinuxSLL:
		p.offLinkType, p.offLinkPL = 14, 16
	case LinkTypeLinuxSLL2:
		p.offLinkType, p.offLinkPL = 0, 20
	case LinkTypeRaw, linkTypeDLTRaw:
		p.lt = LinkTypeRaw
		p.offLinkType, p.offLinkPL = -1, 0
	case LinkTypeIPv4, LinkTypeIPv6:
		p.offLinkType, p.offLinkPL = -1, 0
	default:
		return nil, fmt.Errorf("filter: link type %v is not supported", lt)
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p.toks = toks
	c, err := p.parse()
	if err != nil {
		return nil, err
	}
	raw, err := assemble(c, snaplen)
	if err != nil {
		return nil, err
	}
	return &Program{expr: expr, lt: p.lt, raw: raw}, nil
}

// String returns the expression the program was compiled from.
func (p *Program) String() string { return p.expr }

// LinkType returns the link type the program was compiled for.
func (p *Program) LinkType() LinkType { return p.lt }

// RawInstructions returns the program as raw classic BPF, as the kernel's
// SO_ATTACH_FILTER takes it. The error is always nil; it is there to match
// bpf.Assemble.
func (p *Program) RawInstructions() ([]bpf.RawInstruction, error) {
	return append([]bpf.RawInstruction(nil), p.raw...), nil
}

// Instructions returns the program as x/net/bpf instructions.
func (p *Program) Instructions() []bpf.Instruction {
	out := make([]bpf.Instruction, len(p.raw))
	for i, r := range p.raw {
		out[i] = r.Disassemble()
	}
	return out
}

// Match reports whether the packet pkt (the captured bytes, starting with
// the link-layer header) is accepted by the program. wirelen is the length
// the packet had on the wire, which "len", "less" and "greater" test; if it
// is smaller than len(pkt), len(pkt) is used. Match does not allocate.
func (p *Program) Match(pkt []byte, wirelen int) bool {
	return run(p.raw, pkt, wirelen) != 0
}
