// Package trace finds the route to a host, as traceroute and mtr do: it
// sends probes with a rising TTL (IPv6 hop limit), and each router on the
// way that decrements it to zero answers with an ICMP time exceeded
// (RFC 792, RFC 4443) quoting the probe's header; the destination answers
// the probe itself (a port unreachable for UDP, an echo reply for ICMP, a
// SYN-ACK or RST for TCP). [Run] returns the hops in order, each probe's
// answering address and round-trip time.
//
// Probes are UDP datagrams to port 33434 (the default, as Linux
// traceroute), ICMP echo requests ([ICMP], traceroute -I) or TCP SYNs
// ([TCP], traceroute -T, port 80). By default the flow is Paris
// traceroute's: what routers hash to balance load (addresses, protocol,
// ports; for ICMP the type, code, checksum and identifier) is the same for
// every probe, so all follow one path; probes are told apart by a token
// carried where routers do not look and ICMP errors quote: the UDP
// checksum (set through the first payload word), the ICMP sequence number
// (the payload compensating, so the checksum stays constant), the upper
// half of the TCP sequence number, and the IPv4 ID. [Config].Classic varies
// the flow per probe as classic traceroute does. [ECMP] enumerates the
// paths through load balancers by tracing several flows.
//
// All hops are probed at once, [Config].InFlight probes at a time, and a
// probe is given up early once a later hop (Near times its round-trip
// time) or its own hop (Here times) has answered, as Linux traceroute does.
// A first probe sent with TTL MaxTTL tells, by the TTL left in the
// destination's answer, how far the destination is, and no probe goes
// beyond it. Each silent probe is sent once more after the others: at once
// if the silence looks like a silent router, paced from the router's last
// probe by [Config].RetryPause if routers show rate limiting — the
// kernel's ICMP rate limit (a burst of 6 then one a second per source, by
// default) is why traceroute and mtr show stars and loss that are not
// there.
//
// Replies are matched by the quoted header (RFC 792, 4443; RFC 4884
// extensions are read, and MPLS label stacks of RFC 4950 reported in
// [Probe].MPLS) or by the destination's answer. An [Enricher] adds what is
// known of each address (reverse name, ASN, location).
//
// # Privileges
//
// Run opens raw sockets and needs CAP_NET_RAW (root); without it the error
// satisfies errors.Is(err, os.ErrPermission).
//
// # Concurrency
//
// Run is synchronous: it returns when the trace is done or ctx is
// cancelled. Its sockets are opened on the calling goroutine, so a caller
// inside a network namespace (lab.Node.Do) traces from there; one reader
// goroutine per socket feeds one engine goroutine (the caller's), and both
// are waited for before Run returns. emit is called on the caller's
// goroutine. Independent Runs may proceed at once: each uses its own
// source port (ICMP identifier), by default derived from the process id,
// so give concurrent traces in one process distinct [Config].SrcPort.
package trace
