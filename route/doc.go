// Package route tells a sender how to reach a destination: the outgoing
// interface, the source address the kernel prefers, the gateway, the path
// MTU and, on Ethernet, the two link-layer addresses a hand-built frame
// needs — what `ip route get` and `ip neigh` say, in one [Route].
//
// [Lookup] asks the kernel by netlink (RTM_GETROUTE, as `ip route get`
// does, so policy rules and multipath are honoured) and reads the
// interface and the neighbour table. When the next hop's link-layer
// address is not confirmed there (no entry, or one that is STALE, DELAY,
// PROBE, INCOMPLETE or FAILED), route resolves it itself: an ARP request
// (RFC 826) for IPv4, a neighbour solicitation to the solicited-node
// multicast address with our link-layer address option (RFC 4861 section
// 7.2.2) for IPv6, sent from the route's source address on an AF_PACKET
// socket of package rawsock, waiting [Config].Timeout for the answer and
// retrying [Config].Retries times. It does not add what it learns to the
// kernel's neighbour table: route never changes the host's state (the
// neighbour, answering, usually learns ours). A [Resolver] keeps routes
// and resolved addresses for [Config].TTL, so a scanner resolves each next
// hop once and not once per target; IPv4 routes it keeps by the prefix of
// the kernel's matching entry (RTM_F_FIB_MATCH) where that gives exactly
// the kernel's answer — default policy rules, no multipath, more specific
// and local-table routes excluded — so a sweep asks the kernel once per
// route. [Resolver.Stats] counts kernel lookups, hits and requests sent.
//
// Multicast and broadcast next hops map to their link-layer addresses
// without resolution. Loopback, point-to-point, tunnel and NOARP links
// have none: SrcMAC and DstMAC are nil, and senders use a cooked socket or
// an IP socket there. A destination that is an address of this host has
// Local set and the loopback interface.
//
// Errors name the destination: "route: no route to 192.0.2.1" (wrapping
// [ErrNoRoute]) when the kernel has no route, "route: 198.18.0.77: no
// answer to ARP on eth0" (wrapping [ErrNoAnswer]) when the next hop is
// silent. Other operating systems compile the package, and [Lookup] there
// returns an error saying it is not supported.
//
// # Privileges
//
// Route and neighbour lookups need no privilege. Resolving a next hop the
// kernel has not confirmed needs CAP_NET_RAW (for the packet sockets);
// without it a [Resolver] still opens and answers every lookup that needs
// no resolution, and the others fail with an error that satisfies
// errors.Is(err, os.ErrPermission). Nothing needs CAP_NET_ADMIN.
//
// # Concurrency
//
// [Lookup] and [NewResolver] work in the network namespace of the calling
// thread: call them synchronously on the goroutine that is in the
// namespace (inside lab.Node.Do, for instance). A Resolver's netlink and
// packet sockets stay in that namespace, so once open it may be used from
// any goroutine, concurrently. It runs one goroutine per packet socket to
// read the answers, and Close waits for them. Resolutions of different
// next hops proceed at once (a silent neighbour delays no one else);
// lookups of a next hop being resolved wait for that resolution instead of
// asking again.
package route
