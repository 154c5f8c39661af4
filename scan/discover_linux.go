package scan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"sonde/route"
)

// splitOnLink asks ARP (or neighbour discovery) for the targets on a
// directly connected link, and returns those with the reason they are up
// ("arp-response", or "" when silent), and the targets behind a router.
func splitOnLink(ctx context.Context, targets *Targets) (map[netip.Addr]string, []netip.Addr, error) {
	res, err := route.NewResolver(&route.Config{Retries: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("scan: %w", err)
	}
	defer res.Close()
	onLink := map[netip.Addr]string{}
	var offLink []netip.Addr
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range targets.Len() {
		a := targets.At(i)
		rt, err := res.Path(a)
		if errors.Is(err, route.ErrNoRoute) {
			onLink[a] = "" // unreachable: down
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("scan: %w", err)
		}
		if rt.Local {
			onLink[a] = "localhost-response"
			continue
		}
		if rt.Gateway.IsValid() || len(rt.SrcMAC) == 0 {
			offLink = append(offLink, a)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := res.Lookup(ctx, a)
			reason := "arp-response"
			if a.Is6() {
				reason = "nd-response"
			}
			if err != nil {
				reason = ""
			}
			mu.Lock()
			onLink[a] = reason
			mu.Unlock()
		}()
	}
	wg.Wait()
	return onLink, offLink, ctx.Err()
}
