package trace

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"
)

// Method is the kind of probe a trace sends.
type Method uint8

// The methods of Linux traceroute.
const (
	UDP  Method = iota // UDP datagrams to a high port (the default)
	ICMP               // ICMP or ICMPv6 echo requests (traceroute -I)
	TCP                // TCP SYN segments (traceroute -T)
)

// String returns "udp", "icmp" or "tcp".
func (m Method) String() string {
	switch m {
	case UDP:
		return "udp"
	case ICMP:
		return "icmp"
	case TCP:
		return "tcp"
	}
	return fmt.Sprintf("method(%d)", uint8(m))
}

// Config tunes a trace. A nil *Config means the zero Config, and each zero
// field means the default given (Linux traceroute's).
type Config struct {
	// Method is the probe kind; the zero value is UDP.
	Method Method
	// Port is the destination port: for UDP the first (33434), for TCP
	// the only one (80). Ignored for ICMP.
	Port uint16
	// SrcPort is the UDP/TCP source port or ICMP identifier of the flow
	// (0: one derived from the process id). [ECMP] counts up from it.
	SrcPort uint16
	// FirstTTL is the first hop probed (1); MaxTTL the last (30).
	FirstTTL, MaxTTL int
	// Probes is the number of probes per hop (3).
	Probes int
	// InFlight bounds the probes sent and not yet answered or given up
	// (16).
	InFlight int
	// Wait is the longest a probe is waited for (5s). A probe whose
	// later hops have answered is given up after Near times their
	// round-trip time, and one whose own hop answered after Here times
	// that hop's round-trip time, as Linux traceroute does.
	Wait time.Duration
	// Here and Near scale the early timeouts (3 and 10); negative turns
	// the rule off.
	Here, Near float64
	// SendGap is the pause between two probes sent (0).
	SendGap time.Duration
	// Classic varies the flow identifier between probes, as traceroute
	// does (UDP destination port, TCP source port, ICMP checksum); the
	// default is Paris traceroute's constant flow.
	Classic bool
	// NoRetry turns off the second chance given to each silent probe.
	NoRetry bool
	// RetryPause is how long a router that is rate limiting its ICMP
	// errors is left alone before a silent probe is sent again, and the
	// gap between two retries to it (1s: the kernel's icmp_ratelimit).
	RetryPause time.Duration
	// NoHint turns off the distance probe: one probe sent first with
	// TTL MaxTTL, whose answer from the destination says how far it is,
	// so no probe is sent beyond it (each would spend the destination's
	// ICMP rate-limit budget).
	NoHint bool
	// Interface, if not empty, is the interface probes leave by.
	Interface string
}

func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.Port == 0 {
		d.Port = 33434
		if d.Method == TCP {
			d.Port = 80
		}
	}
	if d.SrcPort == 0 {
		d.SrcPort = uint16(0x8000 | os.Getpid()&0x3fff)
	}
	if d.FirstTTL == 0 {
		d.FirstTTL = 1
	}
	if d.MaxTTL == 0 {
		d.MaxTTL = 30
	}
	if d.Probes == 0 {
		d.Probes = 3
	}
	if d.InFlight == 0 {
		d.InFlight = 16
	}
	if d.Wait == 0 {
		d.Wait = 5 * time.Second
	}
	if d.Here == 0 {
		d.Here = 3
	}
	if d.Near == 0 {
		d.Near = 10
	}
	if d.RetryPause == 0 {
		d.RetryPause = time.Second
	}
	return d
}

// ErrConfig is wrapped by the errors of Run for a Config out of range.
var ErrConfig = errors.New("trace: bad configuration")

// Check reports whether c is in range: an error wrapping ErrConfig if not.
func (c *Config) Check() error {
	d := c.withDefaults()
	switch {
	case d.Method > TCP:
		return fmt.Errorf("%w: unknown method %d", ErrConfig, d.Method)
	case d.FirstTTL < 1 || d.FirstTTL > 255:
		return fmt.Errorf("%w: first TTL %d: want 1 to 255", ErrConfig, d.FirstTTL)
	case d.MaxTTL < 1 || d.MaxTTL > 255:
		return fmt.Errorf("%w: max TTL %d: want 1 to 255", ErrConfig, d.MaxTTL)
	case d.FirstTTL > d.MaxTTL:
		return fmt.Errorf("%w: first TTL %d is beyond max TTL %d", ErrConfig, d.FirstTTL, d.MaxTTL)
	case d.Probes < 1 || d.Probes > 10:
		return fmt.Errorf("%w: %d probes per hop: want 1 to 10", ErrConfig, d.Probes)
	case d.InFlight < 1 || d.InFlight > 1024:
		return fmt.Errorf("%w: %d probes in flight: want 1 to 1024", ErrConfig, d.InFlight)
	case d.Wait < 0 || d.SendGap < 0 || d.RetryPause < 0:
		return fmt.Errorf("%w: negative duration", ErrConfig)
	case d.Method == UDP && d.Classic && int(d.Port)+d.Probes*(d.MaxTTL+1)*2 > 65535:
		return fmt.Errorf("%w: UDP port %d: too high for classic mode", ErrConfig, d.Port)
	}
	return nil
}

// MPLSLabel is one MPLS label stack entry a router quoted (RFC 4950).
type MPLSLabel struct {
	Label uint32
	TC    uint8
	S     bool
	TTL   uint8
}

// Probe is one probe of a hop and what became of it.
type Probe struct {
	// Addr is who answered (invalid: no answer, a star).
	Addr netip.Addr
	// RTT is the round-trip time, from the kernel's receive timestamp.
	RTT time.Duration
	// Note is traceroute's annotation of an unreachable: "!H", "!N",
	// "!P", "!X" ..., empty otherwise.
	Note string
	// MPLS is the label stack the router quoted (RFC 4884/4950).
	MPLS []MPLSLabel `json:",omitempty"`
	// Retried says the first probe was silent and this is the second.
	Retried bool `json:",omitempty"`
	// SentTTL, when not 0, is the larger TTL this answer's probe was sent
	// with: the destination's answers to this hop's own probes were lost
	// or rate limited, and the TTL its error quoted (left on arrival)
	// showed that the probe reached it after this hop's count of routers.
	SentTTL int `json:",omitempty"`
}

// Answered reports whether the probe was answered.
func (p Probe) Answered() bool { return p.Addr.IsValid() }

// Hop is one TTL of a trace.
type Hop struct {
	TTL    int
	Probes []Probe
	// Final says this hop is the destination (or an unreachable that
	// ended the trace).
	Final bool
	// Info is what an Enricher said of each address of the hop
	// (reverse name, ASN, country, city).
	Info map[netip.Addr]map[string]string `json:",omitempty"`
}

// Addrs returns the distinct addresses that answered, in order.
func (h Hop) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, p := range h.Probes {
		if p.Answered() && !contains(out, p.Addr) {
			out = append(out, p.Addr)
		}
	}
	return out
}

func contains(s []netip.Addr, a netip.Addr) bool {
	for _, x := range s {
		if x == a {
			return true
		}
	}
	return false
}

// Stats count what a trace did: probes sent (the distance probe and
// retries included), answered, sent a second time, and replies to this
// flow that matched no probe sent.
type Stats struct {
	Sent, Answered, Retried, Unmatched int
}

// Result is a whole trace.
type Result struct {
	Dst     netip.Addr
	Src     netip.Addr
	Method  Method
	SrcPort uint16
	Hops    []Hop
	// Reached says the destination (or an unreachable) answered.
	Reached bool
	Stats   Stats
	// Elapsed is the time from the first probe sent to the end.
	Elapsed time.Duration
}

// Enricher says what is known of an address: reverse DNS name, ASN,
// country, city — whatever keys it fills ("name", "asn", "as_org",
// "country", "city"). Package geo's databases and a DNS resolver are
// Enrichers; the CLI combines them.
type Enricher interface {
	Enrich(ctx context.Context, addr netip.Addr) map[string]string
}

// Run traces the route to dst and returns the hops, calling emit (if not
// nil) with each hop, in TTL order, as soon as it is complete. It opens its
// sockets on the calling goroutine. It stops at the destination, at an
// unreachable, at MaxTTL or when ctx is done (returning what it has and
// ctx's error).
func Run(ctx context.Context, dst netip.Addr, cfg *Config, emit func(Hop)) (*Result, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if !dst.IsValid() {
		return nil, fmt.Errorf("%w: no destination", ErrConfig)
	}
	c := cfg.withDefaults()
	dst = dst.Unmap()
	t, src, err := openTransport(dst, &c)
	if err != nil {
		return nil, err
	}
	defer t.close()
	e := newEngine(t, src, dst, &c, emit)
	return e.run(ctx)
}
