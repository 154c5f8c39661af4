package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"sonde/internal/labsvc"
)

// Topology describes a lab before it is built: its nodes and the segments
// that join them. It is a plain value; [Up] builds it.
type Topology struct {
	// Name names the topology ("pair", "chain", …); it is shown to users.
	Name string
	// Nodes are the hosts, routers and switches, in the order they are built.
	Nodes []NodeSpec
	// Segments are the links (two members) and LANs (more, through a bridge).
	Segments []Segment
	// Client is the node tools run from by default.
	Client string
	// Target is the node tools aim at by default.
	Target string
}

// NodeSpec is one network namespace of a topology.
type NodeSpec struct {
	// Name is short and unique in the topology ("client", "r3").
	Name string
	// Router turns on IPv4 and IPv6 forwarding.
	Router bool
	// Switch makes the node a layer-2 bridge for a LAN segment; it has no
	// addresses and no routes.
	Switch bool
	// Loopback holds extra addresses (a /32 or /128 each) on the node's lo.
	Loopback []netip.Prefix
	// Local holds prefixes the node answers for as a whole, through a
	// `local` route on lo (so a /16 holds 65,536 live hosts).
	Local []netip.Prefix
	// Services are run by sonde inside the node.
	Services []labsvc.Spec
	// Faults are injected at the node.
	Faults Faults
}

// Faults are the impairments injected at one node.
type Faults struct {
	// Loss drops this percentage (0–100) of the packets entering and,
	// separately, of those leaving each of the node's interfaces
	// (nftables numgen random). Zero drops nothing.
	Loss float64
	// Silent makes a router drop the ICMP time-exceeded messages it would
	// send, as routers that never answer traceroute do.
	Silent bool
	// Drop lists TCP and UDP ports whose packets the node drops silently
	// (nmap: filtered, no-response).
	Drop []uint16
	// Reject lists TCP and UDP ports the node answers with ICMP
	// administratively-prohibited (nmap: filtered, admin-prohibited).
	Reject []uint16
	// ICMPRateLimit sets the node's ICMP error rate limit (the kernel's
	// net.ipv4.icmp_ratelimit and net.ipv6.icmp.ratelimit: the interval of
	// the per-destination token bucket). Zero keeps the kernel's default;
	// [NoRateLimit] turns rate limiting off.
	ICMPRateLimit time.Duration
}

// NoRateLimit, as Faults.ICMPRateLimit, turns the kernel's ICMP rate limit off.
const NoRateLimit time.Duration = -1

func (f Faults) any() bool {
	return f.Loss > 0 || f.Silent || len(f.Drop) > 0 || len(f.Reject) > 0
}

// Segment joins nodes on one subnet per address family. With two members
// and no switch it is a veth link; otherwise every member is linked to the
// Switch node's bridge.
type Segment struct {
	// Prefixes are the segment's subnets (at most one IPv4, one IPv6).
	Prefixes []netip.Prefix
	// Switch names the bridge node for a LAN; empty for a point-to-point link.
	Switch string
	// Members are the nodes attached, with their addresses on the segment.
	Members []Member
}

// Member is one node's attachment to a segment.
type Member struct {
	Node  string
	Addrs []netip.Addr
}

// Node returns the named node, or nil.
func (t *Topology) Node(name string) *NodeSpec {
	for i := range t.Nodes {
		if t.Nodes[i].Name == name {
			return &t.Nodes[i]
		}
	}
	return nil
}

// Addrs returns the addresses of the named node: those on its segments, in
// segment order, then those on its loopback.
func (t *Topology) Addrs(node string) []netip.Addr {
	var out []netip.Addr
	for _, s := range t.Segments {
		for _, m := range s.Members {
			if m.Node == node {
				out = append(out, m.Addrs...)
			}
		}
	}
	if n := t.Node(node); n != nil {
		for _, p := range n.Loopback {
			out = append(out, p.Addr())
		}
	}
	return out
}

// Addr returns the node's preferred address of the family of want (IPv4 when
// want is false): its first loopback address of that family, else its first
// segment address.
func (t *Topology) Addr(node string, ipv6 bool) (netip.Addr, bool) {
	if n := t.Node(node); n != nil {
		for _, p := range n.Loopback {
			if p.Addr().Is6() == ipv6 {
				return p.Addr(), true
			}
		}
	}
	for _, a := range t.Addrs(node) {
		if a.Is6() == ipv6 {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// lowerAlnum reports whether s has min to max bytes, each a lower-case
// ASCII letter or a digit. (A regexp would do, compiled at start-up by
// every sonde command.)
func lowerAlnum(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := range len(s) {
		if !isLowerAlnum(s[i]) {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validNodeName reports whether s is a lower-case letter then up to 9
// lower-case letters or digits.
func validNodeName(s string) bool { return lowerAlnum(s, 1, 10) && s[0] >= 'a' && s[0] <= 'z' }

// Validate reports the first thing wrong with t, or nil. [Up] calls it
// before it creates anything.
func (t *Topology) Validate() error {
	if len(t.Nodes) == 0 {
		return errors.New("lab: topology has no nodes")
	}
	seen := map[string]bool{}
	for _, n := range t.Nodes {
		if !validNodeName(n.Name) {
			return fmt.Errorf("lab: node name %q: want a lower-case letter then up to 9 letters or digits", n.Name)
		}
		if seen[n.Name] {
			return fmt.Errorf("lab: node %q defined twice", n.Name)
		}
		seen[n.Name] = true
		if err := n.Faults.validate(n.Name); err != nil {
			return err
		}
		if n.Switch && (len(n.Loopback) > 0 || len(n.Local) > 0 || len(n.Services) > 0 || n.Router) {
			return fmt.Errorf("lab: node %q: a switch has no addresses, services or routing", n.Name)
		}
	}
	for _, name := range []string{t.Client, t.Target} {
		if name != "" && !seen[name] {
			return fmt.Errorf("lab: node %q is not in the topology", name)
		}
	}
	addrs := map[netip.Addr]string{}
	for i, s := range t.Segments {
		if len(s.Members) < 2 {
			return fmt.Errorf("lab: segment %d has fewer than two members", i)
		}
		if s.Switch == "" && len(s.Members) != 2 {
			return fmt.Errorf("lab: segment %d has %d members and no switch", i, len(s.Members))
		}
		if s.Switch != "" {
			if sw := t.Node(s.Switch); sw == nil || !sw.Switch {
				return fmt.Errorf("lab: segment %d: %q is not a switch node", i, s.Switch)
			}
		}
		for _, m := range s.Members {
			n := t.Node(m.Node)
			if n == nil {
				return fmt.Errorf("lab: segment %d: node %q is not in the topology", i, m.Node)
			}
			if n.Switch {
				return fmt.Errorf("lab: segment %d: switch %q cannot be a member", i, m.Node)
			}
			for _, a := range m.Addrs {
				if !slices.ContainsFunc(s.Prefixes, func(p netip.Prefix) bool { return p.Contains(a) }) {
					return fmt.Errorf("lab: segment %d: address %s of %s is outside the segment's prefixes", i, a, m.Node)
				}
				if other, dup := addrs[a]; dup {
					return fmt.Errorf("lab: address %s given to both %s and %s", a, other, m.Node)
				}
				addrs[a] = m.Node
			}
		}
	}
	return nil
}

func (f Faults) validate(node string) error {
	if f.Loss < 0 || f.Loss > 100 || f.Loss != f.Loss {
		return fmt.Errorf("lab: node %s: loss %g%% is outside 0–100", node, f.Loss)
	}
	if f.ICMPRateLimit < NoRateLimit {
		return fmt.Errorf("lab: node %s: negative ICMP rate limit %v", node, f.ICMPRateLimit)
	}
	for _, p := range append(slices.Clone(f.Drop), f.Reject...) {
		if p == 0 {
			return fmt.Errorf("lab: node %s: port 0 cannot be filtered", node)
		}
	}
	return nil
}
