//go:build linux

package route_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/rawsock"
	"sonde/route"
)

// iface is what `ip -j addr show DEV` says of an interface in a node.
type iface struct {
	Index   int    `json:"ifindex"`
	Name    string `json:"ifname"`
	MTU     int    `json:"mtu"`
	Address string `json:"address"`
	Addrs   []struct {
		Family string `json:"family"`
		Local  string `json:"local"`
		Scope  string `json:"scope"`
	} `json:"addr_info"`
}

func ipShow(t *testing.T, l *labtest.Lab, node, dev string) iface {
	t.Helper()
	r := l.Command(node, "ip", "-j", "addr", "show", "dev", dev)
	var ifs []iface
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &ifs) != nil || len(ifs) != 1 {
		t.Fatalf("ip -j addr show dev %s in %s: %s%s", dev, node, r.Stdout, r.Stderr)
	}
	return ifs[0]
}

func (i iface) mac(t *testing.T) net.HardwareAddr {
	m, err := net.ParseMAC(i.Address)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// addr returns the interface's global address of the family ("inet" or
// "inet6").
func (i iface) addr(t *testing.T, family string) netip.Addr {
	for _, a := range i.Addrs {
		if a.Family == family && a.Scope == "global" {
			return netip.MustParseAddr(a.Local)
		}
	}
	t.Fatalf("%s has no global %s address", i.Name, family)
	return netip.Addr{}
}

// lookup runs route.Lookup in node.
func lookup(t *testing.T, l *labtest.Lab, node string, dst netip.Addr) (route.Route, error) {
	t.Helper()
	var rt route.Route
	var err error
	l.Do(node, func() { rt, err = route.Lookup(context.Background(), dst) })
	return rt, err
}

func TestLookupOnLink(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	c, tg := ipShow(t, l, "client", "eth0"), ipShow(t, l, "target", "eth0")
	for _, family := range []string{"inet", "inet6"} {
		dst := tg.addr(t, family)
		got, err := lookup(t, l, "client", dst)
		if err != nil {
			t.Fatal(err)
		}
		want := route.Route{Dst: dst, Src: c.addr(t, family), Ifindex: c.Index, Ifname: "eth0",
			SrcMAC: c.mac(t), DstMAC: tg.mac(t), MTU: c.MTU}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("Lookup(%s) (-want +got):\n%s", dst, diff)
		}
	}
}

func TestLookupViaGateway(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{NoServices: true, Routers: 2})
	c, r1 := ipShow(t, l, "client", "eth0"), ipShow(t, l, "r1", "eth0")
	for i, dst := range []netip.Addr{lab.FarAddrs[0].Addr(), lab.FarAddrs[1].Addr()} {
		family := []string{"inet", "inet6"}[i]
		got, err := lookup(t, l, "client", dst)
		if err != nil {
			t.Fatal(err)
		}
		want := route.Route{Dst: dst, Src: c.addr(t, family), Ifindex: c.Index, Ifname: "eth0",
			Gateway: r1.addr(t, family), SrcMAC: c.mac(t), DstMAC: r1.mac(t), MTU: c.MTU}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("Lookup(%s) (-want +got):\n%s", dst, diff)
		}
		if got.NextHop() != want.Gateway {
			t.Errorf("NextHop() = %s, want the gateway %s", got.NextHop(), want.Gateway)
		}
	}
}

func TestLookupLocal(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	lo := ipShow(t, l, "client", "lo")
	for _, dst := range []netip.Addr{l.Addr("client"), l.Addr6("client"), netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()} {
		got, err := lookup(t, l, "client", dst)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Local || got.Ifname != "lo" || got.Ifindex != lo.Index || got.SrcMAC != nil || got.DstMAC != nil || got.Gateway.IsValid() || got.Src != dst {
			t.Errorf("Lookup(%s) = %+v; want a local route on lo from %s itself, without MACs", dst, got, dst)
		}
	}
}

func TestLookupNoRoute(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	for _, dst := range []string{"192.0.2.1", "2001:db8::1"} {
		_, err := lookup(t, l, "client", netip.MustParseAddr(dst))
		if !errors.Is(err, route.ErrNoRoute) || err.Error() != "route: no route to "+dst {
			t.Errorf("Lookup(%s) error = %v; want \"route: no route to %s\" wrapping ErrNoRoute", dst, err, dst)
		}
	}
}

// TestLookupResolves empties the client's neighbour table, so the lookup
// must ask the target itself, by ARP and by neighbour solicitation.
func TestLookupResolves(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	tg := ipShow(t, l, "target", "eth0")
	for _, family := range []string{"inet", "inet6"} {
		dst := tg.addr(t, family)
		ping := l.Command("client", "ping", "-n", "-c", "1", "-W", "2", dst.String())
		if ping.Code != 0 {
			t.Fatalf("ping %s: %s%s", dst, ping.Stdout, ping.Stderr)
		}
		if r := l.Command("client", "ip", "neigh", "flush", "dev", "eth0"); r.Code != 0 {
			t.Fatalf("ip neigh flush: %s", r.Stderr)
		}
		if r := l.Command("client", "ip", "neigh", "show", "dev", "eth0"); strings.Contains(r.Stdout, "REACHABLE") {
			t.Fatalf("neighbour table not empty after the flush:\n%s", r.Stdout)
		}
		got, err := lookup(t, l, "client", dst)
		if err != nil {
			t.Fatal(err)
		}
		if !slicesEqual(got.DstMAC, tg.mac(t)) {
			t.Errorf("Lookup(%s).DstMAC = %v, want the target's %v", dst, got.DstMAC, tg.mac(t))
		}
		// The kernel did not learn it: the answer came to our socket.
		if r := l.Command("client", "ip", "neigh", "show", dst.String(), "dev", "eth0"); strings.Contains(r.Stdout, "REACHABLE") {
			t.Errorf("the kernel resolved %s itself: %s", dst, r.Stdout)
		}
	}
}

func slicesEqual(a, b []byte) bool { return string(a) == string(b) }

func TestLookupNoAnswer(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{NoServices: true, Hosts: 2})
	for _, tc := range []struct{ dst, want string }{
		{"198.18.0.77", "route: 198.18.0.77: no answer to ARP on eth0"},
		{"2001:2::77", "route: 2001:2::77: no answer to neighbour solicitation on eth0"},
	} {
		var err error
		start := time.Now()
		l.Do("client", func() {
			r, rerr := route.NewResolver(&route.Config{Timeout: 100 * time.Millisecond, Retries: 1})
			if rerr != nil {
				err = rerr
				return
			}
			defer r.Close()
			_, err = r.Lookup(context.Background(), netip.MustParseAddr(tc.dst))
		})
		took := time.Since(start)
		if !errors.Is(err, route.ErrNoAnswer) || err.Error() != tc.want {
			t.Errorf("Lookup(%s) error = %v; want %q wrapping ErrNoAnswer", tc.dst, err, tc.want)
		}
		if took < 200*time.Millisecond || took > time.Second {
			t.Errorf("two attempts of 100ms took %v", took)
		}
	}

	// ctx bounds a lookup too.
	var err error
	start := time.Now()
	l.Do("client", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		r, rerr := route.NewResolver(&route.Config{Timeout: 10 * time.Second})
		if rerr != nil {
			err = rerr
			return
		}
		defer r.Close()
		_, err = r.Lookup(ctx, netip.MustParseAddr("198.18.0.78"))
	})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("Lookup with a 100ms context: %v after %v", err, time.Since(start))
	}
}

// TestResolverOnePerNextHop checks that a Resolver resolves a gateway once
// for all the destinations behind it, counting the ARP requests r1 sees.
func TestResolverOnePerNextHop(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{NoServices: true, Routers: 2})
	if r := l.Command("client", "ip", "neigh", "flush", "dev", "eth0"); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	var (
		watch *rawsock.PacketConn
		err   error
	)
	l.Do("r1", func() {
		ifi, ierr := net.InterfaceByName("eth0")
		if ierr != nil {
			err = ierr
			return
		}
		watch, err = rawsock.Listen(ifi.Index, &rawsock.Config{Protocol: rawsock.ProtoARP})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	dsts := []netip.Addr{lab.FarAddrs[0].Addr(), netip.MustParseAddr("198.18.2.2"), netip.MustParseAddr("198.18.1.2")}
	// The resolver is opened in the client; the lookups run concurrently
	// from goroutines that are not (its sockets stay in the client).
	var r *route.Resolver
	l.Do("client", func() { r, err = route.NewResolver(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	routes := make([]route.Route, 2*len(dsts))
	errs := make([]error, len(routes))
	var wg sync.WaitGroup
	for i := range routes {
		wg.Go(func() { routes[i], errs[i] = r.Lookup(context.Background(), dsts[i%len(dsts)]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes[1:] {
		if rt.Gateway != routes[0].Gateway || !slicesEqual(rt.DstMAC, routes[0].DstMAC) {
			t.Errorf("Lookup(%s) via %s %v, want the same next hop as %s: %s %v", rt.Dst, rt.Gateway, rt.DstMAC, routes[0].Dst, routes[0].Gateway, routes[0].DstMAC)
		}
	}
	requests := 0
	buf := make([]byte, 1500)
	watch.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		n, _, err := watch.ReadFrom(buf)
		if err != nil {
			break
		}
		if n >= 42 && buf[21] == 1 { // ARP request
			requests++
		}
	}
	if requests != 1 {
		t.Errorf("r1 saw %d ARP requests for %d lookups, want 1", requests, len(routes))
	}
}

// BenchmarkLookup measures a lookup through a gateway: asking the kernel
// each time (TTL < 0) and with the Resolver's memory.
func BenchmarkLookup(b *testing.B) {
	labtest.RequirePrivileges(b)
	l := labtest.New(b, "chain", lab.Options{Routers: 2, NoServices: true})
	dst := lab.FarAddrs[0].Addr()
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"kernel", -1}, {"cached", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var r *route.Resolver
			var err error
			l.Do("client", func() { r, err = route.NewResolver(&route.Config{TTL: tc.ttl}) })
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Lookup(context.Background(), dst); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Lookup(context.Background(), dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestResolverPrefixCache checks that a Resolver answers from memory for
// the destinations a route already looked up covers, and agrees with a
// fresh kernel lookup everywhere: more specific routes (a blackhole /25
// inside a /24) and the local table's addresses and broadcasts are not
// answered from the covering prefix.
func TestResolverPrefixCache(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{NoServices: true, Routers: 2})
	if r := l.Command("client", "ip", "route", "add", "blackhole", "198.18.1.128/25"); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	var r *route.Resolver
	var err error
	l.Do("client", func() { r, err = route.NewResolver(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	first, err := r.Lookup(context.Background(), netip.MustParseAddr("198.18.1.2"))
	if err != nil {
		t.Fatal(err)
	}
	before := r.Stats()
	second, err := r.Lookup(context.Background(), netip.MustParseAddr("198.18.1.77"))
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.KernelLookups != before.KernelLookups || st.CacheHits != before.CacheHits+1 {
		t.Errorf("second lookup in 198.18.1.0/24: stats %+v after %+v, want one more cache hit", st, before)
	}
	if second.Dst != netip.MustParseAddr("198.18.1.77") || second.Gateway != first.Gateway || !slicesEqual(second.DstMAC, first.DstMAC) {
		t.Errorf("from the prefix: %+v, want the route of %+v to .77", second, first)
	}

	// Every answer, from memory or not, is the kernel's.
	addrs := []string{"198.18.1.2", "198.18.1.77", "198.18.1.200", "198.18.1.128", "198.18.1.127",
		"198.18.0.2", "198.18.0.1", "198.18.0.255", "198.18.200.1", "198.18.2.1", "127.0.0.1", "127.0.0.2", "192.0.2.1"}
	for pass := range 2 {
		for _, a := range addrs {
			dst := netip.MustParseAddr(a)
			var got, want route.Route
			var gotErr, wantErr error
			l.Do("client", func() { want, wantErr = route.Lookup(context.Background(), dst) })
			got, gotErr = r.Lookup(context.Background(), dst)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("pass %d: Lookup(%s) error %v, a fresh lookup says %v", pass, dst, gotErr, wantErr)
				continue
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("pass %d: Lookup(%s) differs from a fresh lookup (-fresh +resolver):\n%s", pass, dst, diff)
			}
		}
	}
	if st := r.Stats(); st.CacheHits < uint64(len(addrs)) {
		t.Errorf("stats %+v: the second pass was not answered from memory", st)
	}

	// Path answers from the same memory, and agrees with the kernel but
	// for the next hop's link-layer address, which it leaves unresolved.
	for _, a := range addrs {
		dst := netip.MustParseAddr(a)
		var want route.Route
		var wantErr error
		l.Do("client", func() { want, wantErr = route.Lookup(context.Background(), dst) })
		got, gotErr := r.Path(dst)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("Path(%s) error %v, a fresh lookup says %v", dst, gotErr, wantErr)
			continue
		}
		if !slicesEqual(want.DstMAC, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
			want.DstMAC = nil
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("Path(%s) differs from a fresh lookup (-fresh +path):\n%s", dst, diff)
		}
	}
	before = r.Stats()
	for i := 3; i < 100; i++ {
		if _, err := r.Path(netip.AddrFrom4([4]byte{198, 18, 1, byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if st := r.Stats(); st.KernelLookups != before.KernelLookups || st.CacheHits != before.CacheHits+97 {
		t.Errorf("Path over 198.18.1.3-99: %d kernel lookups and %d cache hits, want none and 97",
			st.KernelLookups-before.KernelLookups, st.CacheHits-before.CacheHits)
	}
}

// TestResolverConcurrent resolves a silent address and a live host at
// once: the live one is answered without waiting for the silent one, and
// concurrent lookups of the silent one share its requests.
func TestResolverConcurrent(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{NoServices: true, Hosts: 2})
	if r := l.Command("client", "ip", "neigh", "flush", "dev", "eth0"); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	var r *route.Resolver
	var err error
	l.Do("client", func() { r, err = route.NewResolver(&route.Config{Timeout: 300 * time.Millisecond, Retries: -1}) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	silent, live := netip.MustParseAddr("198.18.0.77"), l.Addr("h2")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 2 {
		wg.Go(func() { _, errs[i] = r.Lookup(context.Background(), silent) })
	}
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	rt, err := r.Lookup(context.Background(), live)
	took := time.Since(start)
	wg.Wait()
	if err != nil || rt.DstMAC == nil {
		t.Fatalf("Lookup(%s) = %+v, %v", live, rt, err)
	}
	if took > 200*time.Millisecond {
		t.Errorf("the live host took %v: it waited for the silent one", took)
	}
	for i := range 2 {
		if !errors.Is(errs[i], route.ErrNoAnswer) {
			t.Errorf("lookup %d of the silent address: %v", i, errs[i])
		}
	}
	if st := r.Stats(); st.Requests != 2 || st.Unanswered != 1 {
		t.Errorf("stats %+v: want 2 requests (one each), 1 unanswered", st)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
