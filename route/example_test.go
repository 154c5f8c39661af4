package route_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"sonde/route"
)

// Find how to send to a host: interface, source, gateway and the two
// link-layer addresses of the frame.
func ExampleLookup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rt, err := route.Lookup(ctx, netip.MustParseAddr("198.18.0.2"))
	if errors.Is(err, route.ErrNoRoute) {
		fmt.Println("unreachable:", err)
		return
	} else if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s via %s dev %s src %s: %v → %v\n", rt.Dst, rt.NextHop(), rt.Ifname, rt.Src, rt.SrcMAC, rt.DstMAC)
}

// A scanner keeps one Resolver: each next hop is resolved once.
func ExampleResolver() {
	r, err := route.NewResolver(&route.Config{Timeout: 200 * time.Millisecond, Retries: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for _, dst := range []string{"198.18.200.1", "198.18.200.2"} {
		rt, err := r.Lookup(context.Background(), netip.MustParseAddr(dst))
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(rt.Dst, "via", rt.NextHop(), rt.DstMAC)
	}
}
