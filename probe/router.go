package probe

import (
	"context"
	"fmt"
	"net/netip"

	"sonde/route"
)

// router finds, once per destination, what a packet to it needs: the
// source address, the interface and the link-layer addresses.
type router struct {
	ctx   context.Context
	res   *route.Resolver
	err   error
	cache map[netip.Addr]hop
}

// newRouter opens a route.Resolver on the calling goroutine (so in its
// network namespace). An error to open it is reported by the first lookup.
func newRouter(ctx context.Context) *router {
	r := &router{ctx: ctx, cache: map[netip.Addr]hop{}}
	r.res, r.err = route.NewResolver(nil)
	return r
}

func (r *router) close() {
	if r.res != nil {
		r.res.Close()
	}
}

// lookup returns the hop to dst; with needMAC the next hop's link-layer
// address is resolved (by ARP or neighbour discovery when the kernel does
// not know it yet).
func (r *router) lookup(dst netip.Addr, needMAC bool) (hop, error) {
	if r.err != nil {
		return hop{}, fmt.Errorf("probe: %w", r.err)
	}
	if !dst.IsValid() {
		return hop{}, fmt.Errorf("%w: a packet has no destination address", ErrBadTemplate)
	}
	if h, ok := r.cache[dst]; ok && (h.dstMAC != nil || !needMAC) {
		return h, nil
	}
	var rt route.Route
	var err error
	if needMAC {
		rt, err = r.res.Lookup(r.ctx, dst)
	} else {
		rt, err = r.res.Path(dst)
	}
	if err != nil {
		return hop{}, fmt.Errorf("probe: %w", err)
	}
	h := hop{src: rt.Src, ifindex: rt.Ifindex, srcMAC: rt.SrcMAC, dstMAC: rt.DstMAC}
	r.cache[dst] = h
	return h, nil
}
