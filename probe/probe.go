package probe

import (
	"errors"
	"fmt"
	"time"

	"sonde/packet"
)

// Config tunes a send-and-receive. A nil *Config means the defaults.
type Config struct {
	// Timeout is how long to wait for answers after the last packet of a
	// round is sent. Zero means 2 s.
	Timeout time.Duration
	// Inter is the gap between two sends. Zero sends back to back.
	Inter time.Duration
	// Retry resends the still-unanswered packets this many more times,
	// each round followed by Timeout. Zero sends each packet once.
	Retry int
	// Multi keeps every answer to a request (a broadcast ping, say),
	// instead of the first, and waits the whole Timeout.
	Multi bool
	// Interface sends and receives on this interface. Empty means the
	// interface of the route to each destination.
	Interface string
	// MaxPackets bounds the packets of one call. Zero means 1<<20.
	MaxPackets uint64
	// OnAnswer, when set, is called from the reader goroutine as each
	// answer is matched; it must be quick.
	OnAnswer func(Pair)
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 2 * time.Second
}

func (c *Config) maxPackets() uint64 {
	if c.MaxPackets > 0 {
		return c.MaxPackets
	}
	return 1 << 20
}

// Sent is a request as it went on the wire.
type Sent struct {
	// Index is the packet's index in its template.
	Index uint64
	// Data is the packet as sent: from the IP header for SR, from the
	// Ethernet header for SRP.
	Data []byte
	// Link tells how Data starts.
	Link packet.LinkType
	// Time is when it was (last) sent.
	Time time.Time
}

// Received is a reply as it came off the wire.
type Received struct {
	Data []byte
	Link packet.LinkType
	// Time is the kernel's receive timestamp when there is one.
	Time time.Time
}

// Pair is a request and one answer to it.
type Pair struct {
	Sent     Sent
	Received Received
}

// RTT returns the time from the send to the answer.
func (p Pair) RTT() time.Duration { return p.Received.Time.Sub(p.Sent.Time) }

// Stats counts what a call did.
type Stats struct {
	Sent       uint64 // packets put on the wire, retries included
	Answered   uint64 // requests with at least one answer
	Unanswered uint64 // requests with none
	Retried    uint64 // resends of unanswered requests
	Duplicates uint64 // answers beyond the first (kept only with Multi)
	Received   uint64 // frames read and decoded
	Drops      uint64 // frames the kernel dropped before we could read them
	Elapsed    time.Duration
}

// Result is the outcome of a call: the answered pairs in the order of
// their requests, and the unanswered requests.
type Result struct {
	Answered   []Pair
	Unanswered []Sent
	Stats      Stats
}

// ErrTooMany is wrapped when a template expands to more packets than
// Config.MaxPackets.
var ErrTooMany = errors.New("probe: too many packets")

func tooMany(n, max uint64) error {
	return fmt.Errorf("%w: the expression makes %d packets, more than %d at once", ErrTooMany, n, max)
}
