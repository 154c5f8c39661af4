// Package scan finds which ports of which hosts are open: nmap's scan
// types, states and reasons, at the speed of the stateless scanners
// masscan and zmap, and aware of loss.
//
// A scan starts from [Targets] (nmap's target syntax, parsed by
// [ParseTargets]) and [Ports] ([ParsePorts], [TopPorts]). [Run] walks the
// target×port space in a keyed random permutation ([Permutation]) with
// no state per probe: each probe carries a keyed hash of its destination,
// port and source port (in the TCP sequence number), so replies validate
// without a table, as masscan and zmap do; a one-bit-per-probe record of
// what was answered lets unanswered probes be retried and results be
// reported once. [Config].Shard splits the space exactly, so n machines
// with the same seed cover it once between them.
//
// SYN, ACK, FIN, NULL and Xmas scans build their frames and send them in
// batches on AF_PACKET sockets with qdisc bypass (package rawsock; four
// sending threads, one socket each), and read the replies from a
// TPACKET_V3 ring (package capture) with a fixed kernel BPF filter — or,
// where the ring cannot be set up, from a packet socket with the same
// filter and a large receive buffer. The send rate adapts to the measured
// answer ratio, counted by the kernel: random loss keeps it steady, a
// falling ratio (a rate limit, a full queue) or replies dropped by our own
// ring slow it.
//
// Connect scans use the kernel's sockets, a bounded number at a time.
//
// # Privileges
//
// Raw scans need CAP_NET_RAW (the error then satisfies
// errors.Is(err, os.ErrPermission)); connect scans need nothing.
//
// # Concurrency
//
// [Run] opens its sockets in the network namespace of the calling thread,
// synchronously, before it starts its goroutines, and waits for them all
// before it returns. It calls emit from one goroutine at a time. Targets,
// Ports and Permutation values are immutable and safe for concurrent use.
package scan
