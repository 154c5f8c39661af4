// Package rawsock is sonde's edge to the Linux kernel's raw sockets: the
// sockets that send packets sonde built itself and read the replies, for
// package probe and, above it, trace and scan.
//
// [PacketConn] is an AF_PACKET socket (packet(7)) on one interface or on
// all of them. Raw, it reads and writes whole Ethernet frames; cooked
// ([Config].Cooked), it reads and writes packets without a link-layer
// header, on any link type, loopback included. A classic BPF filter
// ([Config].Filter, from golang.org/x/net/bpf or package filter) is
// attached before the socket is bound, so no frame it rejects is ever
// read. [PacketConn.WriteBatch] hands up to [BatchSize] frames to the
// kernel per sendmmsg(2) call, for scanners; [PacketConn.Stats] returns
// the kernel's counters of queued and dropped frames.
//
// [IPConn] sends whole IPv4 and IPv6 packets through the kernel's routing
// (raw(7) sockets of IPPROTO_RAW: IP_HDRINCL for IPv4; for IPv6 Linux takes
// the whole header too, checked on Linux 6.18). [ProtoConn] receives a
// copy of every packet of one IP protocol the host receives (ICMP, TCP,
// UDP, ICMPv6).
//
// Reads and writes allocate nothing (each socket keeps its own
// preallocated msghdr, iovec, address and control buffer; the tests prove
// it with testing.AllocsPerRun), and they go through Go's netpoller: they
// honour deadlines (the error then satisfies errors.Is(err,
// os.ErrDeadlineExceeded)) and Close (net.ErrClosed), and a deadline in the
// past unblocks a pending read at once. Reads report the kernel's receive
// time (SO_TIMESTAMPNS), so round-trip times do not include the scheduler;
// while such a socket is open the kernel timestamps every packet the host
// receives, as it does for tcpdump.
//
// A few kernel behaviours callers should know:
//
//   - A packet socket never reads the frames it sent itself. Other sockets
//     of every protocol ([ProtoAll]) see the host's outgoing frames, with
//     PktType [PktOutgoing], unless [Config].IgnoreOutgoing; sockets bound
//     to one protocol see incoming frames only.
//   - A frame written before the interface's carrier is seen up (for a new
//     veth, for up to a second) is dropped silently by the kernel, and the
//     write reports success.
//   - Where the driver strips 802.1Q tags (VLAN offload), frames are read
//     without them: PACKET_AUXDATA, which carries them, is not read.
//   - [PacketInfo].Time and [IPInfo].Time come from the kernel; an IPv6
//     ProtoConn reads the payload after the IPv6 header, an IPv4 one the
//     whole packet.
//
// Other operating systems compile the package, and every constructor
// returns an error saying it is not supported.
//
// # Privileges
//
// Opening a PacketConn, an IPConn or a ProtoConn needs CAP_NET_RAW in the
// user namespace that owns the network namespace (root has it). Without it
// the error satisfies errors.Is(err, os.ErrPermission). Nothing else needs a
// capability, except that [Config].RecvBuffer is forced past
// net.core.rmem_max only with CAP_NET_ADMIN (without it the kernel's cap
// applies silently) and [IPConfig].Device binding to an interface needs
// CAP_NET_RAW, which the socket already required.
//
// # Concurrency
//
// A socket belongs to the network namespace of the thread that opens it:
// open it synchronously on the goroutine that is in the namespace (inside
// lab.Node.Do, for instance), never from a goroutine started there. Once
// open it may be used from any goroutine. A connection may be read by one
// goroutine while others write and set deadlines; concurrent reads, and
// concurrent writes, are serialised. Close may be called at any time and
// unblocks pending reads and writes.
package rawsock
