package capture

import (
	"errors"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// ErrNotSupported is returned by Open on systems without AF_PACKET.
var ErrNotSupported = errors.New("capture: live capture is supported on Linux only")

// Config describes a capture. The zero value of each field is documented
// next to it.
type Config struct {
	// Interface is the name of the interface to capture on (zero: all
	// interfaces).
	Interface string
	// Snaplen is the most bytes kept of each packet (zero: 262144).
	Snaplen int
	// Promisc puts the interface in promiscuous mode for the life of the
	// handle (zero: off). Ignored when capturing on all interfaces.
	Promisc bool
	// Filter is a classic BPF program run by the kernel on each packet, e.g.
	// compiled from a pcap-filter expression (zero: every packet). Its return
	// values are capped at Snaplen.
	Filter []bpf.RawInstruction
	// RingSize is the size in bytes of the ring shared with the kernel
	// (zero: 8 MiB). It is rounded to a whole number of blocks.
	RingSize int
	// RingBlocks is the number of blocks of the ring (zero: 8). A block is
	// handed to user space when full or after BlockTimeout.
	RingBlocks int
	// BlockTimeout is how long the kernel waits before handing over a block
	// that is not full (zero: 10ms).
	BlockTimeout time.Duration
}

// CaptureInfo is the metadata of one captured packet.
type CaptureInfo struct {
	Timestamp      time.Time       // when the kernel received the packet
	CaptureLength  int             // bytes captured
	Length         int             // bytes on the wire
	InterfaceIndex int             // interface the packet was seen on
	LinkType       layers.LinkType // link-layer header the data starts with
	Outgoing       bool            // the packet was sent by this host
}

// Stats are the kernel's counters for a handle since it was opened.
type Stats struct {
	Packets uint64 // packets that passed the filter, including dropped ones
	Drops   uint64 // packets dropped because the ring was full
	// QueueFreezes counts the times the ring was full (TPACKET_V3).
	QueueFreezes uint64
}

// defaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.Snaplen <= 0 {
		c.Snaplen = 262144
	}
	if c.RingSize <= 0 {
		c.RingSize = 8 << 20
	}
	if c.RingBlocks <= 0 {
		c.RingBlocks = 8
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = 10 * time.Millisecond
	}
	return c
}

// snapFilter returns the filter with its constant return values capped at
// snaplen, or a filter accepting snaplen bytes of every packet, so that the
// kernel copies no more than is kept.
func snapFilter(filter []bpf.RawInstruction, snaplen int) []bpf.RawInstruction {
	const retK = 0x06 // BPF_RET | BPF_K
	if len(filter) == 0 {
		return []bpf.RawInstruction{{Op: retK, K: uint32(snaplen)}}
	}
	out := make([]bpf.RawInstruction, len(filter))
	copy(out, filter)
	for i, ins := range out {
		if ins.Op == retK && ins.K > uint32(snaplen) {
			out[i].K = uint32(snaplen)
		}
	}
	return out
}
