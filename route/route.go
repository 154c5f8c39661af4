package route

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// Route is what a sender needs to reach a destination: the interface, the
// source address, and, on Ethernet, both link-layer addresses of the frame.
type Route struct {
	// Dst is the destination looked up.
	Dst netip.Addr
	// Src is the source address the kernel prefers for Dst.
	Src netip.Addr
	// Ifindex and Ifname name the outgoing interface (the loopback
	// interface for a local destination).
	Ifindex int
	Ifname  string
	// Gateway is the next-hop router; the zero Addr when Dst is on-link.
	Gateway netip.Addr
	// SrcMAC is the interface's hardware address, and DstMAC the next
	// hop's (Gateway's, or Dst's when on-link). Both are nil on links
	// without link-layer addresses or resolution: loopback,
	// point-to-point, tunnels, NOARP interfaces.
	SrcMAC, DstMAC net.HardwareAddr
	// MTU is the path's MTU as the kernel knows it: the route's, or else
	// the interface's.
	MTU int
	// Local says Dst is an address of this host.
	Local bool
}

// NextHop returns the address whose link-layer address a frame to r.Dst
// carries: the gateway, or the destination itself when on-link.
func (r Route) NextHop() netip.Addr {
	if r.Gateway.IsValid() {
		return r.Gateway
	}
	return r.Dst
}

// ErrNoRoute is wrapped by the error of a lookup for which the kernel has
// no route ("route: no route to 192.0.2.1").
var ErrNoRoute = errors.New("no route")

// ErrNoAnswer is wrapped by the error of a lookup whose next hop did not
// answer ARP or neighbour solicitation ("route: 198.18.0.77: no answer to
// ARP on eth0").
var ErrNoAnswer = errors.New("no answer")

// Config tunes a Resolver. A nil *Config means the zero Config, whose
// fields all mean the documented default.
type Config struct {
	// Timeout is how long one ARP request or neighbour solicitation
	// waits for its answer (0 means 300ms).
	Timeout time.Duration
	// Retries is how many more requests are sent when one is not
	// answered (0 means 2; negative means none).
	Retries int
	// TTL is how long a Resolver remembers a route and a resolved
	// link-layer address (0 means 30s; negative means it does not
	// remember).
	TTL time.Duration
}

func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 300 * time.Millisecond
	}
	return c.Timeout
}

func (c *Config) attempts() int {
	switch {
	case c.Retries < 0:
		return 1
	case c.Retries == 0:
		return 3
	}
	return c.Retries + 1
}

func (c *Config) ttl() time.Duration {
	if c.TTL == 0 {
		return 30 * time.Second
	}
	return c.TTL
}

// Stats count what a Resolver did.
type Stats struct {
	// KernelLookups is the number of lookups asked of the kernel, and
	// CacheHits the number answered from the resolver's memory (by
	// destination, or by the prefix of a route already looked up).
	KernelLookups, CacheHits uint64
	// Requests is the number of ARP requests and neighbour solicitations
	// sent, and Unanswered the number of resolutions that got no answer.
	Requests, Unanswered uint64
}
