// Package lab builds sonde's virtual practice network: Linux network
// namespaces joined by veth pairs and bridges, with routes, faults (random
// loss, silent routers, filtered and rejected ports, ICMP rate limits) and
// services run by sonde itself. It is the legal target the lesson asks for,
// and every integration test and benchmark of sonde runs against it.
//
// A [Topology] is a plain value: nodes, the segments (links and LANs) that
// join them, the addresses on each, the faults and the services. The
// built-in topologies ([Pair], [Chain], [Sweep], [LAN], [ECMP], [Demo]) are
// constructors of such values; callers may change them before [Up] builds
// them. [Up] computes every node's routes itself (shortest paths, with all
// equal-cost next hops as a multipath route), so a lab has no default route
// and no link to the host: a tool run inside it cannot reach any other
// network.
//
// Addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range) and
// 2001:2::/48 (RFC 5180's).
//
// # Privileges
//
// Building a lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN: run as root, or
// inside a user namespace where the process is root (the CLI re-executes
// itself with CLONE_NEWUSER|CLONE_NEWNET when it is not root and the kernel
// allows it). As real root the namespaces are published in /run/netns as
// sonde-ID-NODE, visible to `ip netns` and reachable by `sonde lab exec`
// from other processes; in a user namespace they live only as long as the
// process. Faults other than ICMP rate limits need the nft command.
//
// # Concurrency
//
// A [Lab] is safe for concurrent use. [Node.Do] runs a function on a locked
// OS thread inside the node's namespace: sockets it opens stay in that
// namespace, but goroutines it starts do not run there. Code that must run
// wholly inside a node, with its own goroutines, runs as a process started
// by [Node.Start].
package lab
