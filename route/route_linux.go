//go:build linux

package route

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"sonde/rawsock"
)

// Resolver looks up routes and resolves next hops for many destinations,
// remembering what it learned for Config.TTL: a scanner resolves each next
// hop once, not once per target, and asks the kernel once per IPv4 route
// (the prefix of the kernel's matching entry, where that is exact: see
// prefix_linux.go), not once per address. Other routes are remembered per
// destination.
//
// The link-layer addresses in the Routes it returns are shared with its
// memory: callers must not modify them.
type Resolver struct {
	cfg Config
	nl  *netlink.Handle

	// arp and nd receive ARP replies and neighbour advertisements; nil
	// when they could not be opened (without CAP_NET_RAW), with sockErr
	// saying why. Lookups that need no resolution still work.
	arp, nd *rawsock.PacketConn
	sockErr error

	mu          sync.Mutex
	routes      map[netip.Addr]cached[Route]
	prefixes    []prefixEntry // longest first; see prefix_linux.go
	snap        []tableRoute
	snapOK      bool
	snapExpires time.Time
	neigh       map[hopKey]cached[net.HardwareAddr]
	stats       Stats

	pending map[hopKey]*waiter // resolutions in progress, under mu
	readers sync.WaitGroup     // readReplies of arp and nd
}

type cached[T any] struct {
	v       T
	expires time.Time
}

type hopKey struct {
	ifindex int
	addr    netip.Addr
}

// NewResolver opens a resolver in the network namespace of the calling
// thread, configured by cfg (nil means defaults). Close it when done.
func NewResolver(cfg *Config) (*Resolver, error) {
	r := &Resolver{routes: map[netip.Addr]cached[Route]{}, neigh: map[hopKey]cached[net.HardwareAddr]{}, pending: map[hopKey]*waiter{}}
	if cfg != nil {
		r.cfg = *cfg
	}
	var err error
	if r.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
		return nil, fmt.Errorf("route: netlink: %w", err)
	}
	r.arp, err = rawsock.Listen(0, &rawsock.Config{Protocol: rawsock.ProtoARP, Filter: arpReplyFilter, RecvBuffer: 1 << 16})
	if err == nil {
		r.nd, err = rawsock.Listen(0, &rawsock.Config{Protocol: rawsock.ProtoIPv6, Filter: advertFilter, RecvBuffer: 1 << 16})
		if err != nil {
			r.arp.Close()
			r.arp = nil
		}
	}
	if err != nil {
		r.sockErr = fmt.Errorf("route: resolving link-layer addresses: %w", err)
		return r, nil
	}
	// The sockets stay in this namespace; their readers may run anywhere.
	r.readers.Add(2)
	go r.readReplies(r.arp)
	go r.readReplies(r.nd)
	return r, nil
}

// Close releases the resolver's sockets and waits for its readers.
func (r *Resolver) Close() error {
	var err error
	if r.arp != nil {
		// Closing a packet socket waits for an RCU grace period (tens of
		// milliseconds on a small machine): the two wait together.
		ndErr := make(chan error, 1)
		go func() { ndErr <- r.nd.Close() }()
		err = errors.Join(r.arp.Close(), <-ndErr)
		r.readers.Wait()
	}
	r.nl.Close()
	return err
}

// Lookup returns the route to dst in the namespace the package-level
// function is called in. It opens a Resolver for the one lookup; callers
// with many destinations keep a Resolver.
func Lookup(ctx context.Context, dst netip.Addr) (Route, error) {
	r, err := NewResolver(nil)
	if err != nil {
		return Route{}, err
	}
	defer r.Close()
	return r.Lookup(ctx, dst)
}

// Lookup returns the route to dst, with the next hop's link-layer address
// taken from the kernel's neighbour table when it is confirmed there
// (REACHABLE, PERMANENT or NOARP), or else resolved by ARP (IPv4) or
// neighbour solicitation (IPv6) from the route's source, bounded by the
// Config's timeout and retries and by ctx.
func (r *Resolver) Lookup(ctx context.Context, dst netip.Addr) (Route, error) {
	dst = dst.Unmap()
	if !dst.IsValid() {
		return Route{}, errors.New("route: lookup of an invalid address")
	}
	r.mu.Lock()
	c, ok := r.routes[dst]
	if ok && time.Now().Before(c.expires) {
		r.stats.CacheHits++
		r.mu.Unlock()
		return c.v, nil
	}
	r.mu.Unlock()
	rt, byPrefix, err := r.path(dst)
	if err != nil {
		return Route{}, err
	}
	// Remember the route by destination unless the prefix does: memory
	// stays bounded by routes and next hops, not by targets.
	byDst := !byPrefix
	if err := r.fillMAC(ctx, &rt); err != nil {
		return Route{}, err
	}
	if ttl := r.cfg.ttl(); ttl > 0 && byDst {
		r.mu.Lock()
		r.routes[dst] = cached[Route]{rt, time.Now().Add(ttl)}
		r.mu.Unlock()
	}
	return rt, nil
}

// Stats returns what the resolver did so far.
func (r *Resolver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// path returns the route to dst, DstMAC unset (but for a broadcast
// address), from the routes remembered by prefix or else from the kernel,
// learning its prefix; byPrefix says the prefix holds it.
func (r *Resolver) path(dst netip.Addr) (rt Route, byPrefix bool, err error) {
	r.mu.Lock()
	rt, ok := r.prefixRoute(dst, time.Now())
	if ok {
		r.stats.CacheHits++
	} else {
		r.stats.KernelLookups++
	}
	r.mu.Unlock()
	if ok {
		return rt, true, nil
	}
	if rt, err = r.kernelRoute(dst); err != nil {
		return Route{}, false, err
	}
	return rt, r.learnPrefix(dst, rt), nil
}

// kernelRoute asks the kernel for the route to dst and the interface.
func (r *Resolver) kernelRoute(dst netip.Addr) (Route, error) {
	rs, err := r.nl.RouteGet(dst.AsSlice())
	if err != nil {
		if errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTUNREACH) {
			return Route{}, fmt.Errorf("route: %w to %s", ErrNoRoute, dst)
		}
		return Route{}, fmt.Errorf("route: %s: %w", dst, err)
	}
	if len(rs) == 0 {
		return Route{}, fmt.Errorf("route: %w to %s", ErrNoRoute, dst)
	}
	kr := rs[0]
	switch kr.Type {
	case unix.RTN_UNREACHABLE, unix.RTN_BLACKHOLE, unix.RTN_PROHIBIT, unix.RTN_THROW:
		return Route{}, fmt.Errorf("route: %w to %s", ErrNoRoute, dst)
	}
	rt := Route{Dst: dst, Ifindex: kr.LinkIndex, Local: kr.Type == unix.RTN_LOCAL}
	if a, ok := netip.AddrFromSlice(kr.Src); ok {
		rt.Src = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(kr.Gw); ok && !rt.Local {
		rt.Gateway = a.Unmap()
	}
	link, err := r.nl.LinkByIndex(kr.LinkIndex)
	if err != nil {
		return Route{}, fmt.Errorf("route: %s: interface %d: %w", dst, kr.LinkIndex, err)
	}
	la := link.Attrs()
	rt.Ifname, rt.MTU = la.Name, la.MTU
	if kr.MTU > 0 && kr.MTU < rt.MTU {
		rt.MTU = kr.MTU
	}
	if kr.Type == unix.RTN_BROADCAST {
		// The limited or a subnet broadcast address: no resolution.
		rt.SrcMAC = la.HardwareAddr
		rt.DstMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		return rt, nil
	}
	if resolves(la) && !rt.Local {
		rt.SrcMAC = la.HardwareAddr
	}
	return rt, nil
}

// resolves says whether the link has link-layer addresses to resolve.
func resolves(la *netlink.LinkAttrs) bool {
	return la.EncapType == "ether" && la.RawFlags&(unix.IFF_NOARP|unix.IFF_LOOPBACK|unix.IFF_POINTOPOINT) == 0 && len(la.HardwareAddr) == 6
}

// fillMAC sets rt.DstMAC when the link needs one.
func (r *Resolver) fillMAC(ctx context.Context, rt *Route) error {
	if rt.SrcMAC == nil || rt.DstMAC != nil {
		return nil
	}
	hop := rt.NextHop()
	if mac, ok := multicastMAC(hop); ok {
		rt.DstMAC = mac
		return nil
	}
	key := hopKey{rt.Ifindex, hop}
	r.mu.Lock()
	c, ok := r.neigh[key]
	r.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		rt.DstMAC = c.v
		return nil
	}
	mac, err := r.kernelNeigh(rt.Ifindex, hop)
	if err != nil {
		return err
	}
	if mac == nil {
		if mac, err = r.resolve(ctx, rt, hop); err != nil {
			return err
		}
	}
	if ttl := r.cfg.ttl(); ttl > 0 {
		r.mu.Lock()
		r.neigh[key] = cached[net.HardwareAddr]{mac, time.Now().Add(ttl)}
		r.mu.Unlock()
	}
	rt.DstMAC = mac
	return nil
}

// kernelNeigh returns hop's address from the kernel's neighbour table if
// the kernel has it confirmed, or nil.
func (r *Resolver) kernelNeigh(ifindex int, hop netip.Addr) (net.HardwareAddr, error) {
	family := netlink.FAMILY_V4
	if hop.Is6() {
		family = netlink.FAMILY_V6
	}
	ns, err := r.nl.NeighList(ifindex, family)
	if err != nil {
		return nil, fmt.Errorf("route: neighbours of interface %d: %w", ifindex, err)
	}
	for _, n := range ns {
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok || a.Unmap() != hop || len(n.HardwareAddr) != 6 {
			continue
		}
		if n.State&(netlink.NUD_REACHABLE|netlink.NUD_PERMANENT|netlink.NUD_NOARP) != 0 {
			return n.HardwareAddr, nil
		}
	}
	return nil, nil
}
