package scan

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Host is whether a target answered host discovery, and how.
type Host struct {
	Addr   netip.Addr
	Up     bool
	Reason string // arp-response, syn-ack, reset, port-unreach, …, or no-response
}

// Discover finds which targets are up, as nmap's default host discovery
// does with privileges: targets on the local segment are asked by ARP
// (arp-response, or neighbour discovery for IPv6), the others are sent an
// ICMP echo request and an ICMP timestamp request (echo-reply,
// timestamp-reply), then those still silent a TCP SYN to port 443 and a
// TCP ACK to port 80, and any valid answer (SYN-ACK, RST, ICMP
// unreachable) says the host is there. cfg's Seed, Rate, Retries and
// Timeout apply; its Type is ignored. Hosts are returned in address order.
func Discover(ctx context.Context, targets *Targets, cfg *Config) ([]Host, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	onLink, offLink, err := splitOnLink(ctx, targets)
	if err != nil {
		return nil, err
	}
	up := map[netip.Addr]string{}
	var mu sync.Mutex
	mark := func(a netip.Addr, reason string) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := up[a]; !ok {
			up[a] = reason
		}
	}
	for a, r := range onLink {
		if r != "" {
			mark(a, r)
		}
	}
	if len(offLink) > 0 {
		seed := cfg.Seed
		if seed == 0 {
			seed = uint64(time.Now().UnixNano())
		}
		pinged, err := pingHosts(ctx, offLink, sipKey{mix64(seed ^ 0x1c4d), mix64(seed ^ 0xec40)}, 1, cfg.timeout())
		if err != nil {
			return nil, err
		}
		var rest []netip.Addr
		for _, a := range offLink {
			if r, ok := pinged[a]; ok {
				mark(a, r)
			} else {
				rest = append(rest, a)
			}
		}
		offLink = rest
	}
	if len(offLink) > 0 {
		t := &Targets{}
		for _, a := range offLink {
			if a.Is4() {
				v := addrU32(a)
				t.v4 = append(t.v4, span{v, v})
			} else {
				t.v6 = append(t.v6, a)
			}
		}
		t.v4 = normalize(t.v4)
		t.cum = make([]uint64, len(t.v4))
		for i, s := range t.v4 {
			t.cum[i] = t.n4
			t.n4 += uint64(s.hi-s.lo) + 1
		}
		for _, p := range []struct {
			typ  Type
			port uint16
		}{{SYN, 443}, {ACK, 80}} {
			c := *cfg
			c.Type, c.All, c.Progress = p.typ, true, nil
			_, err := Run(ctx, t, []uint16{p.port}, &c, func(r Result) {
				if r.Reason != "no-response" {
					mark(r.Addr, r.Reason)
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	hosts := make([]Host, 0, targets.Len())
	for i := range targets.Len() {
		a := targets.At(i)
		r, ok := up[a]
		if !ok {
			r = "no-response"
		}
		hosts = append(hosts, Host{Addr: a, Up: ok, Reason: r})
	}
	slices.SortFunc(hosts, func(a, b Host) int { return a.Addr.Compare(b.Addr) })
	return hosts, nil
}
