package rawsock

import (
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/bpf"
)

// Ethernet protocol numbers (EtherTypes) a PacketConn is commonly bound to.
const (
	ProtoAll  uint16 = 0x0003 // ETH_P_ALL: every protocol
	ProtoIPv4 uint16 = 0x0800 // ETH_P_IP
	ProtoARP  uint16 = 0x0806 // ETH_P_ARP
	ProtoIPv6 uint16 = 0x86dd // ETH_P_IPV6
)

// DefaultRecvBuffer is the receive buffer a connection asks for when its
// Config leaves RecvBuffer zero: 8 MiB, room for a burst of replies to a
// fast scan.
const DefaultRecvBuffer = 8 << 20

// Config tunes a PacketConn. A nil *Config means the zero Config, whose
// fields all mean the documented default.
type Config struct {
	// Protocol is the EtherType the connection receives, in host byte
	// order (0 means ProtoAll: every frame).
	Protocol uint16
	// Cooked opens a SOCK_DGRAM ("cooked") socket: reads return the
	// packet without its link-layer header (an IP packet for IP), writes
	// take one and the kernel adds the header. It works on every link
	// type, loopback included. False opens SOCK_RAW: whole frames.
	Cooked bool
	// Filter is a classic BPF program run by the kernel on every frame
	// before it is queued (nil: none). It is attached before the socket is
	// bound, so no frame that fails it is ever read. Its offsets count
	// from the link-layer header on a raw connection and from the network
	// header on a cooked one (libpcap's programs for DLT_LINUX_SLL need
	// their offsets shifted by 16, as libpcap does itself).
	Filter []bpf.RawInstruction
	// Promisc puts the interface in promiscuous mode for as long as the
	// connection is open (the kernel counts such requests, so it is
	// undone on Close). It needs a specific interface.
	Promisc bool
	// RecvBuffer is the socket receive buffer in bytes (0 means
	// DefaultRecvBuffer). With CAP_NET_ADMIN it is forced
	// (SO_RCVBUFFORCE); without, it is capped by net.core.rmem_max.
	RecvBuffer int
	// QdiscBypass sends frames straight to the driver, skipping the
	// interface's queueing discipline (PACKET_QDISC_BYPASS): faster, but
	// the kernel no longer queues when the driver is busy, and the
	// interface's traffic shaping (and netem faults) does not apply.
	QdiscBypass bool
	// IgnoreOutgoing asks the kernel not to deliver the frames this host
	// sends (PACKET_IGNORE_OUTGOING, Linux 4.20 and later). Without it, a
	// socket sees its own and the host's outgoing frames with
	// PktType == PktOutgoing, which callers can drop.
	IgnoreOutgoing bool
	// SendOnly opens a connection that only writes. It is bound to no
	// protocol, so the kernel hands it no frame (on a busy link every
	// frame would otherwise run its filter), and it stays out of Go's
	// netpoller: a write blocks its thread while the socket buffer is
	// full, and the kernel has no poller to wake each time the driver
	// frees a frame sent, which at a million frames a second costs more
	// than the sending. ReadFrom fails on it, and it takes no deadlines.
	SendOnly bool
}

// PktType says whom a frame read from a PacketConn was for (the
// sll_pkttype of packet(7)).
type PktType uint8

// The packet types of packet(7).
const (
	PktHost      PktType = 0 // addressed to this host
	PktBroadcast PktType = 1 // link-layer broadcast
	PktMulticast PktType = 2 // link-layer multicast
	PktOtherHost PktType = 3 // to another host, seen in promiscuous mode
	PktOutgoing  PktType = 4 // sent by this host
)

// String returns the packet type's name as tcpdump prints it.
func (t PktType) String() string {
	switch t {
	case PktHost:
		return "In"
	case PktBroadcast:
		return "B"
	case PktMulticast:
		return "M"
	case PktOtherHost:
		return "P"
	case PktOutgoing:
		return "Out"
	}
	return "?"
}

// PacketInfo describes a frame read from a PacketConn.
type PacketInfo struct {
	// Ifindex is the interface the frame was seen on.
	Ifindex int
	// PktType says whom the frame was for; PktOutgoing marks frames this
	// host sent.
	PktType PktType
	// Protocol is the frame's EtherType in host byte order.
	Protocol uint16
	// Time is when the kernel received the frame (SO_TIMESTAMPNS), or
	// the time of the read if the kernel gave none.
	Time time.Time
	// addr is the link-layer source address (sll_addr), addrLen its
	// length: kept as an array so a read does not allocate.
	addr    [8]byte
	addrLen uint8
}

// HardwareAddr returns the frame's link-layer source address (nil when the
// link has none), as a new slice.
func (i *PacketInfo) HardwareAddr() net.HardwareAddr {
	if i.addrLen == 0 {
		return nil
	}
	return append(net.HardwareAddr(nil), i.addr[:i.addrLen]...)
}

// Stats are a PacketConn's kernel counters since it was opened.
type Stats struct {
	// Packets is the number of frames that passed the filter and were
	// queued or dropped.
	Packets uint64
	// Drops is the number of those the kernel dropped because the
	// receive buffer was full.
	Drops uint64
}

// IPConfig tunes an IPConn or a ProtoConn. A nil *IPConfig means the zero
// IPConfig.
type IPConfig struct {
	// Device binds the socket to one interface by name
	// (SO_BINDTODEVICE): packets leave by it whatever the routes say, and
	// a ProtoConn receives only what arrives on it. Empty means any.
	Device string
	// Filter is a classic BPF program a ProtoConn runs on every packet
	// (which starts at the IP header for IPv4 and at the payload for
	// IPv6, as the kernel delivers them). Ignored by IPConn.
	Filter []bpf.RawInstruction
	// RecvBuffer is a ProtoConn's receive buffer in bytes (0 means
	// DefaultRecvBuffer).
	RecvBuffer int
}

// IPInfo describes a packet read from a ProtoConn.
type IPInfo struct {
	// Src is the address the packet came from.
	Src netip.Addr
	// Time is when the kernel received the packet, or the time of the read
	// if the kernel gave none.
	Time time.Time
}

// Family is an IP version: IPv4 or IPv6.
type Family int

// The two IP families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "ip4" or "ip6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ip4"
	case IPv6:
		return "ip6"
	}
	return "ip?"
}
