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
// SYN, ACK, FIN, NULL, Xmas and UDP scans build their frames (IPv4 or
// IPv6; a target list may mix them, if both families leave by one
// interface) and send them in batches on AF_PACKET sockets with qdisc
// bypass (package rawsock; four sending threads, one send-only socket
// each, which the kernel hands no frame and the netpoller does not watch), and
// read the replies from a TPACKET_V3 ring (package capture) with a fixed
// kernel BPF filter — or, where the ring cannot be set up, from a packet
// socket with the same filter and a large receive buffer. The send rate
// adapts to the measured answer ratio, counted by the kernel: random loss
// keeps it steady, a falling ratio (a full queue) or replies dropped by
// our own ring slow it. Between retry passes it tells a rate limit at the
// target (answers per second that hold whatever the send rate) from loss
// and filtering, and sends at the target's delivery rate once it has
// found one. [Config].FixedRate turns all this off.
//
// A TCP probe's cookie rides in its sequence number (the acknowledgment
// number for ACK scans); ICMP and ICMPv6 errors quote it back. A UDP
// probe has no sequence number: its source port is a keyed function of
// the probe and its attempt, the cookie rides in the IPv4 identification
// or the IPv6 flow label (which ICMP errors quote), and in the fields
// DNS, NetBIOS and NTP echo. Linux sends a destination at most one ICMP
// error a second after a burst of six (net.ipv4.icmp_ratelimit; ten a
// second over IPv6), so UDP probes left silent by the first pass are
// retried in rounds of a second, paced per target to the ICMP errors it
// has been answering with: every closed port ends closed, not
// open|filtered. Where raw sockets cannot be used (no CAP_NET_RAW, no
// Ethernet route), UDP scans fall back to the kernel's sockets.
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
