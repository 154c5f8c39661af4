package lab

import (
	"fmt"
	"net/netip"
	"slices"
)

// Iface is one interface of a node: its name inside the node's namespace,
// the segment it attaches to and its addresses there.
type Iface struct {
	Name    string
	Segment int
	Addrs   []netip.Addr
}

// Route is a route a node gets: every equal-cost next hop towards Dst.
type Route struct {
	Dst netip.Prefix
	Via []Hop
}

// Hop is one next hop of a route.
type Hop struct {
	Gateway netip.Addr
	Iface   string
}

// Interfaces returns the interfaces of node, named eth0, eth1, … in segment
// order. A switch gets one port per member of its segments (pN) and br0.
func (t *Topology) Interfaces(node string) []Iface {
	var out []Iface
	for i, s := range t.Segments {
		for _, m := range s.Members {
			if m.Node == node {
				out = append(out, Iface{Name: fmt.Sprintf("eth%d", len(out)), Segment: i, Addrs: m.Addrs})
			}
		}
	}
	return out
}

// neighbour is a node across a segment, with its addresses there.
type neighbour struct {
	node  string
	iface string // the local interface towards it
	addrs []netip.Addr
}

func (t *Topology) neighbours(node string) []neighbour {
	var out []neighbour
	for _, ifc := range t.Interfaces(node) {
		for _, m := range t.Segments[ifc.Segment].Members {
			if m.Node != node {
				out = append(out, neighbour{m.Node, ifc.Name, m.Addrs})
			}
		}
	}
	return out
}

// destination is a prefix somebody accepts: a segment's subnet, accepted
// by its routers for forwarding, or a node's own loopback or local prefix.
type destination struct {
	prefix    netip.Prefix
	acceptors []string // dist 0
	attached  []string // need no route (members of the segment, the owner)
}

func (t *Topology) destinations() []destination {
	var out []destination
	for _, s := range t.Segments {
		for _, p := range s.Prefixes {
			d := destination{prefix: p}
			for _, m := range s.Members {
				d.attached = append(d.attached, m.Node)
				if t.Node(m.Node).Router {
					d.acceptors = append(d.acceptors, m.Node)
				}
			}
			out = append(out, d)
		}
	}
	for _, n := range t.Nodes {
		for _, p := range slices.Concat(n.Loopback, n.Local) {
			out = append(out, destination{prefix: p.Masked(), acceptors: []string{n.Name}, attached: []string{n.Name}})
		}
	}
	return out
}

// Routes computes the routes of node: for every destination it is not
// attached to, all the shortest-path next hops through routers. A node gets
// no default route, so the lab cannot reach any other network.
func (t *Topology) Routes(node string) []Route {
	var out []Route
	for _, d := range t.destinations() {
		if slices.Contains(d.attached, node) {
			continue
		}
		dist := t.distances(d)
		my, ok := dist[node]
		if !ok {
			continue
		}
		var r Route
		r.Dst = d.prefix
		for _, nb := range t.neighbours(node) {
			nd, ok := dist[nb.node]
			if !ok || nd != my-1 {
				continue
			}
			for _, a := range nb.addrs {
				if a.Is4() == d.prefix.Addr().Is4() {
					r.Via = append(r.Via, Hop{Gateway: a, Iface: nb.iface})
				}
			}
		}
		if len(r.Via) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// distances is a breadth-first search out from d's acceptors: a node's
// distance is the number of hops to an acceptor, passing only through
// routers.
func (t *Topology) distances(d destination) map[string]int {
	dist := map[string]int{}
	queue := slices.Clone(d.acceptors)
	for _, a := range queue {
		dist[a] = 0
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if dist[x] > 0 && !t.Node(x).Router {
			continue // a host does not forward
		}
		for _, nb := range t.neighbours(x) {
			if _, seen := dist[nb.node]; !seen {
				dist[nb.node] = dist[x] + 1
				queue = append(queue, nb.node)
			}
		}
	}
	return dist
}
