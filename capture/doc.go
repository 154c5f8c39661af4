// Package capture captures live packets on Linux from AF_PACKET TPACKET_V3
// memory-mapped rings, with a classic BPF filter run in the kernel, so that
// only the packets wanted cross into user space.
//
// Open binds a socket to one interface (or to all, Interface ""), attaches
// the filter before the socket is bound (no unfiltered packet slips in),
// optionally makes the interface promiscuous, and maps a ring of
// Config.RingBlocks blocks. ZeroCopyReadPacketData returns packets in place
// in the ring; ReadPacketData copies them. Stats reports the kernel's
// counters of packets and drops.
//
// On loopback interfaces every packet is seen twice by the kernel (leaving
// and arriving); like libpcap, a Handle drops the outgoing copy. With
// Interface "" packets of every link type arrive; CaptureInfo.LinkType says
// which, and a filter sees each packet's own link-layer header.
//
// On other systems Open returns ErrNotSupported.
//
// # Privileges
//
// AF_PACKET sockets need CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous
// mode); without it Open returns an error that satisfies
// errors.Is(err, os.ErrPermission). The socket lives in the network
// namespace of the thread that calls Open, whatever goroutine reads it later.
//
// # Concurrency
//
// A Handle is read by one goroutine at a time. Stats may be called from any
// goroutine. Cancelling the context given to Open makes a blocked read return
// promptly with the context's error; Close must not run concurrently with a
// read.
package capture
