package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"sonde/internal/labsvc"
)

// Options tune the built-in topologies. The zero value gives each its
// defaults.
type Options struct {
	// Routers is the number of routers of Chain (default 6, at most 50)
	// and of Demo (default 3).
	Routers int
	// Hosts is the number of hosts besides the client on LAN's and Demo's
	// segment (default 4 and 3, at most 200).
	Hosts int
	// Loss is the loss in percent each way at the topology's target.
	Loss float64
	// Silent names routers that drop their own ICMP time-exceeded.
	Silent []string
	// Drop and Reject list ports the target filters silently or rejects.
	Drop, Reject []uint16
	// ICMPRateLimit applies to every node; see Faults.ICMPRateLimit.
	ICMPRateLimit time.Duration
	// Services run on the target; nil means DefaultServices.
	Services []labsvc.Spec
	// NoServices runs no service at all.
	NoServices bool
}

// DefaultServices are the services a target runs unless told otherwise:
// seven TCP services with realistic greetings and three UDP responders.
func DefaultServices() []labsvc.Spec {
	s, err := labsvc.ParseSpecs("ftp:21,ssh:22,smtp:25,http:80,https:443,mysql:3306,http:8080,dns:53,ntp:123,echo:7/udp", "")
	if err != nil {
		panic("lab: default services: " + err.Error()) // a constant: cannot fail
	}
	return s
}

// Topologies lists the built-in topologies by name, for the CLI.
var Topologies = []struct {
	Name, Help string
	Build      func(Options) (Topology, error)
}{
	{"demo", "client on a LAN with hosts h1…hN and router r1, routers r1…rN in a chain, target behind them", Demo},
	{"pair", "client ↔ target over one link", Pair},
	{"chain", "client – r1 … rN – far (target on its loopback 198.18.200.1)", Chain},
	{"sweep", "client ↔ target, and the target answers for all of 198.19.0.0/16", Sweep},
	{"lan", "client and hosts h1…hN on one layer-2 segment", LAN},
	{"ecmp", "client – r1 – (ra | rb) – r2 – far: two equal-cost paths, hashed on L4", ECMP},
}

// Build returns the built-in topology called name.
func Build(name string, o Options) (Topology, error) {
	for _, t := range Topologies {
		if t.Name == name {
			return t.Build(o)
		}
	}
	names := make([]string, len(Topologies))
	for i, t := range Topologies {
		names[i] = t.Name
	}
	return Topology{}, fmt.Errorf("lab: unknown topology %q (known: %s)", name, strings.Join(names, ", "))
}

// subnet returns link k's IPv4 /24 and IPv6 /64: 198.18.k.0/24 and
// 2001:2:0:k::/64.
func subnet(k int) []netip.Prefix {
	return []netip.Prefix{
		netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(k), 0}), 24),
		netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0, 2, 0, 0, byte(k >> 8), byte(k)}), 64),
	}
}

// host returns host number h of link k in both families.
func host(k, h int) []netip.Addr {
	v6 := [16]byte{0x20, 0x01, 0, 2, 0, 0, byte(k >> 8), byte(k)}
	v6[14], v6[15] = byte(h>>8), byte(h)
	return []netip.Addr{netip.AddrFrom4([4]byte{198, 18, byte(k), byte(h)}), netip.AddrFrom16(v6)}
}

func link(k int, a string, ha int, b string, hb int) Segment {
	return Segment{Prefixes: subnet(k), Members: []Member{{a, host(k, ha)}, {b, host(k, hb)}}}
}

// FarAddrs are the loopback addresses of the far host of Chain and ECMP and
// of Demo's target: 198.18.200.1 and 2001:2:0:c8::1.
var FarAddrs = []netip.Prefix{netip.MustParsePrefix("198.18.200.1/32"), netip.MustParsePrefix("2001:2:0:c8::1/128")}

// SweepPrefix is the /16 Sweep's target answers for.
var SweepPrefix = netip.MustParsePrefix("198.19.0.0/16")

// target fills the target node's services and faults from o.
func (o Options) target(n *NodeSpec) {
	switch {
	case o.NoServices:
	case o.Services != nil:
		n.Services = o.Services
	default:
		n.Services = DefaultServices()
	}
	n.Faults.Loss = o.Loss
	n.Faults.Drop = o.Drop
	n.Faults.Reject = o.Reject
}

// finish applies the options that concern every node, and checks them.
func (o Options) finish(t Topology) (Topology, error) {
	for i := range t.Nodes {
		t.Nodes[i].Faults.ICMPRateLimit = o.ICMPRateLimit
	}
	for _, s := range o.Silent {
		n := t.Node(s)
		if n == nil || !n.Router {
			return Topology{}, fmt.Errorf("lab: --silent %s: no router of that name in %s", s, t.Name)
		}
		n.Faults.Silent = true
	}
	return t, t.Validate()
}

func count(v, def, max int, what string) (int, error) {
	if v == 0 {
		v = def
	}
	if v < 1 || v > max {
		return 0, fmt.Errorf("lab: %d %s: want 1 to %d", v, what, max)
	}
	return v, nil
}

// Pair is a client (198.18.0.1) and a target (198.18.0.2) on one link.
func Pair(o Options) (Topology, error) {
	t := Topology{Name: "pair", Client: "client", Target: "target",
		Nodes:    []NodeSpec{{Name: "client"}, {Name: "target"}},
		Segments: []Segment{link(0, "client", 1, "target", 2)}}
	o.target(&t.Nodes[1])
	return o.finish(t)
}

// Sweep is Pair where the target also answers for every address of
// SweepPrefix, so a sweep of the /16 meets 65,536 live hosts.
func Sweep(o Options) (Topology, error) {
	t, err := Pair(o)
	if err != nil {
		return t, err
	}
	t.Name = "sweep"
	t.Node("target").Local = []netip.Prefix{SweepPrefix}
	return t, t.Validate()
}

// Chain is client – r1 – … – rN – far. Link k joins node k and k+1 on
// 198.18.k.0/24 (left .1, right .2); the far host, the target, also holds
// FarAddrs on its loopback.
func Chain(o Options) (Topology, error) {
	n, err := count(o.Routers, 6, 50, "routers")
	if err != nil {
		return Topology{}, err
	}
	t := Topology{Name: "chain", Client: "client", Target: "far"}
	names := []string{"client"}
	t.Nodes = append(t.Nodes, NodeSpec{Name: "client"})
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
		t.Nodes = append(t.Nodes, NodeSpec{Name: names[i], Router: true})
	}
	names = append(names, "far")
	t.Nodes = append(t.Nodes, NodeSpec{Name: "far", Loopback: FarAddrs})
	for k := 0; k <= n; k++ {
		t.Segments = append(t.Segments, link(k, names[k], 1, names[k+1], 2))
	}
	o.target(t.Node("far"))
	return o.finish(t)
}

// LAN is the client (198.18.0.1) and hosts h1…hN (198.18.0.11 upward) on one
// bridged segment; h1 is the target.
func LAN(o Options) (Topology, error) {
	n, err := count(o.Hosts, 4, 200, "hosts")
	if err != nil {
		return Topology{}, err
	}
	t := Topology{Name: "lan", Client: "client", Target: "h1",
		Nodes: []NodeSpec{{Name: "sw", Switch: true}, {Name: "client"}}}
	seg := Segment{Prefixes: subnet(0), Switch: "sw", Members: []Member{{"client", host(0, 1)}}}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("h%d", i)
		t.Nodes = append(t.Nodes, NodeSpec{Name: name})
		seg.Members = append(seg.Members, Member{name, host(0, 10+i)})
	}
	t.Segments = []Segment{seg}
	o.target(t.Node("h1"))
	return o.finish(t)
}

// ECMP is client – r1 – (ra | rb) – r2 – far: r1 and r2 reach each other
// over two equal-cost paths and hash flows on their L4 ports.
func ECMP(o Options) (Topology, error) {
	t := Topology{Name: "ecmp", Client: "client", Target: "far",
		Nodes: []NodeSpec{{Name: "client"}, {Name: "r1", Router: true}, {Name: "ra", Router: true},
			{Name: "rb", Router: true}, {Name: "r2", Router: true}, {Name: "far", Loopback: FarAddrs}},
		Segments: []Segment{
			link(0, "client", 1, "r1", 2),
			link(1, "r1", 1, "ra", 2), link(2, "r1", 1, "rb", 2),
			link(3, "ra", 1, "r2", 2), link(4, "rb", 1, "r2", 2),
			link(5, "r2", 1, "far", 2),
		}}
	o.target(t.Node("far"))
	return o.finish(t)
}

// Demo is the lab `sonde lab demo` and `sonde lab up` use by default: the
// client shares a LAN (198.18.0.0/24) with hosts h1…hN and router r1; routers
// r1…rN form a chain to the target, which runs the services and holds
// FarAddrs on its loopback.
func Demo(o Options) (Topology, error) {
	nr, err := count(o.Routers, 3, 50, "routers")
	if err != nil {
		return Topology{}, err
	}
	nh, err := count(o.Hosts, 3, 200, "hosts")
	if err != nil {
		return Topology{}, err
	}
	t := Topology{Name: "demo", Client: "client", Target: "target",
		Nodes: []NodeSpec{{Name: "sw", Switch: true}, {Name: "client"}}}
	lan := Segment{Prefixes: subnet(0), Switch: "sw", Members: []Member{{"client", host(0, 1)}}}
	for i := 1; i <= nh; i++ {
		name := fmt.Sprintf("h%d", i)
		t.Nodes = append(t.Nodes, NodeSpec{Name: name})
		lan.Members = append(lan.Members, Member{name, host(0, 10+i)})
	}
	prev := ""
	for i := 1; i <= nr; i++ {
		name := fmt.Sprintf("r%d", i)
		t.Nodes = append(t.Nodes, NodeSpec{Name: name, Router: true})
		if i == 1 {
			lan.Members = append(lan.Members, Member{name, host(0, 254)})
		} else {
			t.Segments = append(t.Segments, link(i-1, prev, 1, name, 2))
		}
		prev = name
	}
	t.Segments = append([]Segment{lan}, t.Segments...)
	t.Nodes = append(t.Nodes, NodeSpec{Name: "target", Loopback: FarAddrs})
	t.Segments = append(t.Segments, link(nr, prev, 1, "target", 2))
	o.target(t.Node("target"))
	return o.finish(t)
}

// NodeNames returns the names of t's nodes that are not switches.
func (t *Topology) NodeNames() []string {
	var out []string
	for _, n := range t.Nodes {
		if !n.Switch {
			out = append(out, n.Name)
		}
	}
	return slices.Clip(out)
}
