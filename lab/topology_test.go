package lab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChainRoutes(t *testing.T) {
	topo, err := Chain(Options{Routers: 3, NoServices: true})
	if err != nil {
		t.Fatal(err)
	}
	// client reaches the far host's loopback through r1 only.
	got := routeTo(topo.Routes("client"), "198.18.200.1/32")
	want := []Hop{{netip.MustParseAddr("198.18.0.2"), "eth0"}}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("client → far (-want +got):\n%s", diff)
	}
	// r2 reaches the client's subnet leftwards through r1.
	got = routeTo(topo.Routes("r2"), "198.18.0.0/24")
	want = []Hop{{netip.MustParseAddr("198.18.1.1"), "eth0"}}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("r2 → client subnet (-want +got):\n%s", diff)
	}
	// Nobody has a default route.
	for _, n := range topo.NodeNames() {
		for _, r := range topo.Routes(n) {
			if r.Dst.Bits() == 0 {
				t.Errorf("%s has a default route", n)
			}
		}
	}
	// IPv6 too.
	if got := routeTo(topo.Routes("client"), "2001:2:0:c8::1/128"); len(got) != 1 || got[0].Gateway != netip.MustParseAddr("2001:2::2") {
		t.Errorf("client → far over IPv6: %v", got)
	}
}

func TestECMPRoutesAreMultipath(t *testing.T) {
	topo, err := ECMP(Options{NoServices: true})
	if err != nil {
		t.Fatal(err)
	}
	got := routeTo(topo.Routes("r1"), "198.18.200.1/32")
	want := []Hop{{netip.MustParseAddr("198.18.1.2"), "eth1"}, {netip.MustParseAddr("198.18.2.2"), "eth2"}}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("r1 → far (-want +got):\n%s", diff)
	}
	if got := routeTo(topo.Routes("r2"), "198.18.0.0/24"); len(got) != 2 {
		t.Errorf("r2 → client: want two next hops, got %v", got)
	}
	if got := routeTo(topo.Routes("client"), "198.18.200.1/32"); len(got) != 1 {
		t.Errorf("client → far: want one next hop (r1), got %v", got)
	}
}

func TestHostsDoNotForward(t *testing.T) {
	// In demo, h1 shares the LAN with r1; the target's loopback is reached
	// through r1, never through another host.
	topo, err := Demo(Options{NoServices: true})
	if err != nil {
		t.Fatal(err)
	}
	got := routeTo(topo.Routes("h1"), "198.18.200.1/32")
	want := []Hop{{netip.MustParseAddr("198.18.0.254"), "eth0"}}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("h1 → target (-want +got):\n%s", diff)
	}
	// The target reaches the LAN back through the chain.
	if got := routeTo(topo.Routes("target"), "198.18.0.0/24"); len(got) != 1 || got[0].Gateway != netip.MustParseAddr("198.18.3.1") {
		t.Errorf("target → LAN: %v", got)
	}
}

func TestSweepRoute(t *testing.T) {
	topo, err := Sweep(Options{NoServices: true})
	if err != nil {
		t.Fatal(err)
	}
	got := routeTo(topo.Routes("client"), "198.19.0.0/16")
	if len(got) != 1 || got[0].Gateway != netip.MustParseAddr("198.18.0.2") {
		t.Errorf("client → sweep prefix: %v", got)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		topo string
		o    Options
		want string
	}{
		{"nosuch", Options{}, `unknown topology "nosuch"`},
		{"pair", Options{Loss: 101}, "loss 101% is outside 0–100"},
		{"pair", Options{Loss: -1}, "loss -1% is outside 0–100"},
		{"chain", Options{Routers: 51}, "51 routers: want 1 to 50"},
		{"chain", Options{Silent: []string{"r9"}}, "--silent r9: no router"},
		{"lan", Options{Hosts: -2}, "-2 hosts"},
		{"pair", Options{Drop: []uint16{0}}, "port 0"},
	} {
		_, err := Build(tc.topo, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%q, %+v) = %v, want an error containing %q", tc.topo, tc.o, err, tc.want)
		}
	}
}

func TestBuiltinsValidate(t *testing.T) {
	for _, b := range Topologies {
		topo, err := b.Build(Options{})
		if err != nil {
			t.Errorf("%s: %v", b.Name, err)
			continue
		}
		if topo.Name != b.Name {
			t.Errorf("%s builds a topology named %q", b.Name, topo.Name)
		}
		if _, ok := topo.Addr(topo.Target, false); !ok {
			t.Errorf("%s: target %s has no IPv4 address", b.Name, topo.Target)
		}
		// Every node can reach the target's preferred address.
		dst, _ := topo.Addr(topo.Target, false)
		for _, n := range topo.NodeNames() {
			if n == topo.Target || reachableDirect(&topo, n, dst) {
				continue
			}
			found := false
			for _, r := range topo.Routes(n) {
				if r.Dst.Contains(dst) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %s has no route to %s", b.Name, n, dst)
			}
		}
	}
}

func reachableDirect(t *Topology, node string, dst netip.Addr) bool {
	for _, ifc := range t.Interfaces(node) {
		for _, p := range t.Segments[ifc.Segment].Prefixes {
			if p.Contains(dst) {
				return true
			}
		}
	}
	return false
}

func routeTo(rs []Route, dst string) []Hop {
	p := netip.MustParsePrefix(dst)
	for _, r := range rs {
		if r.Dst == p {
			return r.Via
		}
	}
	return nil
}

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
