package route

import (
	"errors"
	"net/netip"
)

// Path returns the route to dst as the kernel has it — interface, source
// address, gateway, the interface's own link-layer address — without
// resolving the next hop's link-layer address: DstMAC is nil unless dst is
// a broadcast address. Senders of ARP requests, which go to the broadcast
// address anyway, need no more. Like Lookup, it answers from the routes it
// remembers by prefix: host discovery over a subnet asks the kernel once.
func (r *Resolver) Path(dst netip.Addr) (Route, error) {
	dst = dst.Unmap()
	if !dst.IsValid() {
		return Route{}, errors.New("route: lookup of an invalid address")
	}
	rt, _, err := r.path(dst)
	return rt, err
}
