//go:build linux

package route

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A Resolver remembers IPv4 routes by the prefix of the kernel's routing
// entry that matched (RTM_F_FIB_MATCH, Linux 4.13), so a sweep of a subnet
// asks the kernel once and not once per address. It does so only where
// that is exact:
//
//   - the policy rules are the kernel's three defaults (local, main,
//     default tables, no selectors), so the route depends on the
//     destination alone;
//   - the entry is a plain unicast route, not multipath (whose next hop
//     depends on a hash of each flow);
//   - every route of the tables that could take precedence over the entry
//     for part of its prefix (more specific ones in its table, any in a
//     table consulted before it: the local table's addresses and
//     broadcasts, for instance) is remembered as an exclusion, and a
//     destination inside one is asked of the kernel;
//   - IPv4 only: IPv6 source address selection (RFC 6724) depends on
//     each destination.
//
// The routing tables are read once per Config.TTL; a host with more than
// maxSnapshot routes (a full BGP table) is not cached by prefix. Route MTU
// exceptions that the kernel learned for single destinations (path MTU
// discovery) are not seen on a hit: the MTU is the one of the first lookup.
const maxSnapshot = 4096

type prefixEntry struct {
	prefix  netip.Prefix
	tmpl    Route // Dst and DstMAC unset
	exclude []netip.Prefix
	expires time.Time
}

type tableRoute struct {
	prefix netip.Prefix
	table  int
}

// tableOrder is the order in which the default rules consult the tables.
var tableOrder = []int{unix.RT_TABLE_LOCAL, unix.RT_TABLE_MAIN, unix.RT_TABLE_DEFAULT}

// prefixRoute returns the remembered route to dst, with Dst set and
// DstMAC still to fill. The caller holds r.mu.
func (r *Resolver) prefixRoute(dst netip.Addr, now time.Time) (Route, bool) {
	for _, e := range r.prefixes {
		if !e.prefix.Contains(dst) || !now.Before(e.expires) {
			continue
		}
		for _, x := range e.exclude {
			if x.Contains(dst) {
				return Route{}, false
			}
		}
		rt := e.tmpl
		rt.Dst = dst
		return rt, true
	}
	return Route{}, false
}

// learnPrefix remembers rt, just looked up for dst, for the whole prefix
// of the kernel's matching entry, if that is exact (see above), and says
// whether it did.
func (r *Resolver) learnPrefix(dst netip.Addr, rt Route) bool {
	ttl := r.cfg.ttl()
	if !dst.Is4() || ttl <= 0 || rt.Local {
		return false
	}
	now := time.Now()
	r.mu.Lock()
	if now.After(r.snapExpires) {
		r.snap, r.snapOK = r.snapshot()
		r.snapExpires = now.Add(ttl)
	}
	snap, ok := r.snap, r.snapOK
	r.mu.Unlock()
	if !ok {
		return false
	}
	fm, err := r.nl.RouteGetWithOptions(dst.AsSlice(), &netlink.RouteGetOptions{FIBMatch: true})
	if err != nil || len(fm) != 1 || len(fm[0].MultiPath) > 0 || fm[0].Type != unix.RTN_UNICAST || fm[0].LinkIndex != rt.Ifindex {
		return false
	}
	if gw, _ := netip.AddrFromSlice(fm[0].Gw); gw.Unmap() != rt.Gateway {
		return false
	}
	p := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if fm[0].Dst != nil {
		a, _ := netip.AddrFromSlice(fm[0].Dst.IP)
		bits, _ := fm[0].Dst.Mask.Size()
		p = netip.PrefixFrom(a.Unmap(), bits).Masked()
	}
	rank := slices.Index(tableOrder, fm[0].Table)
	if rank < 0 || !p.Contains(dst) {
		return false
	}
	e := prefixEntry{prefix: p, tmpl: rt, expires: now.Add(ttl)}
	e.tmpl.Dst, e.tmpl.DstMAC = netip.Addr{}, nil
	for _, t := range snap {
		if !t.prefix.Overlaps(p) {
			continue
		}
		tr := slices.Index(tableOrder, t.table)
		if tr >= 0 && tr < rank || t.table == fm[0].Table && t.prefix.Bits() > p.Bits() {
			e.exclude = append(e.exclude, t.prefix)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prefixes = slices.DeleteFunc(r.prefixes, func(o prefixEntry) bool { return o.prefix == p || !now.Before(o.expires) })
	r.prefixes = append(r.prefixes, e)
	// Longest prefix first.
	slices.SortStableFunc(r.prefixes, func(a, b prefixEntry) int { return b.prefix.Bits() - a.prefix.Bits() })
	return true
}

// snapshot reads the IPv4 routing tables and says whether prefix caching
// is exact on this host.
func (r *Resolver) snapshot() ([]tableRoute, bool) {
	rules, err := r.nl.RuleList(netlink.FAMILY_V4)
	if err != nil || len(rules) != len(tableOrder) {
		return nil, false
	}
	for _, ru := range rules {
		plain := ru.Src == nil && ru.Dst == nil && ru.Mark == 0 && ru.IifName == "" && ru.OifName == "" &&
			ru.Tos == 0 && !ru.Invert && ru.Dport == nil && ru.Sport == nil && ru.IPProto == 0 && ru.UIDRange == nil
		if !plain || !slices.Contains(tableOrder, ru.Table) {
			return nil, false
		}
	}
	routes, err := r.nl.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil || len(routes) > maxSnapshot {
		return nil, false
	}
	snap := make([]tableRoute, 0, len(routes))
	for _, rt := range routes {
		p := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if rt.Dst != nil {
			a, ok := netip.AddrFromSlice(rt.Dst.IP)
			if !ok {
				continue
			}
			bits, _ := rt.Dst.Mask.Size()
			p = netip.PrefixFrom(a.Unmap(), bits).Masked()
		}
		snap = append(snap, tableRoute{p, rt.Table})
	}
	return snap, true
}
