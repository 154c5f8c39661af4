package trace

import (
	"context"
	"net/netip"
	"slices"
)

// Path is one route the probes of some flows took, as the addresses of its
// hops (an invalid address for a hop that never answered).
type Path struct {
	Hops []netip.Addr
	// Flows are the source ports (ICMP identifiers) of the flows that
	// took it.
	Flows []uint16
	// Trace is the trace of its first flow.
	Trace *Result
}

// ECMP enumerates the paths to dst across load balancers, as Paris
// traceroute's MDA does in its simplest form: it traces flows flows, each
// a Paris trace with its own flow identifier (the source port, or the ICMP
// identifier: cfg.SrcPort upward) and one probe per hop, and groups them
// by the hops they saw. With flows flows the chance of missing one of two
// equal next hops is 2^(1-flows) (8 flows: under 1%).
func ECMP(ctx context.Context, dst netip.Addr, cfg *Config, flows int) ([]Path, error) {
	c := cfg.withDefaults()
	c.Classic = false
	base := c.SrcPort
	var paths []Path
	for i := range flows {
		c.SrcPort = base + uint16(i)
		res, err := Run(ctx, dst, &c, nil)
		if err != nil {
			return paths, err
		}
		hops := pathOf(res)
		k := slices.IndexFunc(paths, func(p Path) bool { return slices.Equal(p.Hops, hops) })
		if k < 0 {
			paths = append(paths, Path{Hops: hops, Trace: res})
			k = len(paths) - 1
		}
		paths[k].Flows = append(paths[k].Flows, c.SrcPort)
	}
	return paths, nil
}

// pathOf returns the first address that answered at each hop.
func pathOf(res *Result) []netip.Addr {
	out := make([]netip.Addr, len(res.Hops))
	for i, h := range res.Hops {
		if a := h.Addrs(); len(a) > 0 {
			out[i] = a[0]
		}
	}
	return out
}
