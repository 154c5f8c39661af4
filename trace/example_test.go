package trace_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"sonde/trace"
)

// Trace the lab's far host with ICMP echo requests, printing each hop as it
// completes (run inside the lab's client, as root).
func ExampleRun() {
	dst := netip.MustParseAddr("198.18.200.1")
	res, err := trace.Run(context.Background(), dst, &trace.Config{Method: trace.ICMP}, func(h trace.Hop) {
		fmt.Println(h.TTL, h.Addrs())
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("reached:", res.Reached)
}

func ExampleConfig_Check() {
	for _, c := range []*trace.Config{nil, {MaxTTL: 300}, {FirstTTL: 9, MaxTTL: 5}} {
		err := c.Check()
		fmt.Println(errors.Is(err, trace.ErrConfig), err)
	}
	// Output:
	// false <nil>
	// true trace: bad configuration: max TTL 300: want 1 to 255
	// true trace: bad configuration: first TTL 9 is beyond max TTL 5
}

func ExampleHop_Addrs() {
	a, b := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.18.2.2")
	h := trace.Hop{TTL: 2, Probes: []trace.Probe{{Addr: a}, {}, {Addr: b}, {Addr: a}}}
	fmt.Println(h.Addrs())
	// Output: [198.18.1.2 198.18.2.2]
}
