package scan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"
)

// Type is a scan type, as nmap names them.
type Type uint8

// The scan types.
const (
	SYN     Type = iota // -sS: half-open; SYN-ACK open, RST closed
	Connect             // -sT: the kernel's connect(2)
	ACK                 // -sA: RST unfiltered, else filtered
	FIN                 // -sF: RST closed, silence open|filtered
	NULL                // -sN: no flags
	Xmas                // -sX: FIN, PSH and URG
	UDPScan             // -sU: protocol payloads; port-unreach closed
)

// String returns nmap's name of the scan type.
func (t Type) String() string {
	return [...]string{"syn", "connect", "ack", "fin", "null", "xmas", "udp"}[t]
}

func (t Type) raw() bool { return t == SYN || t == ACK || t == FIN || t == NULL || t == Xmas }

// tcpFlags returns the flags a raw probe of type t carries.
func (t Type) tcpFlags() uint8 {
	switch t {
	case SYN:
		return 0x02
	case ACK:
		return 0x10
	case FIN:
		return 0x01
	case Xmas:
		return 0x29
	}
	return 0
}

// State is a port's state, as nmap names them.
type State uint8

// The port states.
const (
	Open State = iota
	Closed
	Filtered
	Unfiltered
	OpenFiltered
)

// String returns nmap's name of the state.
func (s State) String() string {
	return [...]string{"open", "closed", "filtered", "unfiltered", "open|filtered"}[s]
}

// Result is what a scan learnt about one port of one host.
type Result struct {
	Addr   netip.Addr
	Port   uint16
	Proto  Proto
	State  State
	Reason string // nmap's reason: syn-ack, reset, port-unreach, no-response, conn-refused, udp-response, …
	TTL    uint8  // of the reply (0 without one)
	// Service is the service's name: IANA's for the port, or what -sV
	// found. Product, Version and Info are -sV's findings (empty without).
	Service, Product, Version, Info string
}

// Config tunes Run. A nil *Config means the zero Config.
type Config struct {
	// Type is the scan type (zero: SYN).
	Type Type
	// Seed keys the permutation and the probes' cookies (zero: a seed
	// from the clock). The same seed gives the same order.
	Seed uint64
	// Shard is the part of the space this run covers (zero: all).
	Shard Shard
	// Start is the position of the permuted order the first pass starts
	// at (zero: the beginning), to resume an interrupted scan.
	Start uint64
	// Answered, to resume an interrupted raw scan, is its record of the
	// probes answered (Stats.Answers): the resumed run sends its first
	// pass from Start, then retries every probe not in the record from
	// the first position, as the interrupted run would have, and reports
	// those that stay silent. Without it, retries start at Start too.
	Answered []uint64
	// Rate is the initial send rate in probes per second (zero: 100,000).
	Rate int
	// MaxRate caps the adaptive rate (zero: 1,000,000).
	MaxRate int
	// Retries is how many more times an unanswered probe is sent (zero:
	// 6; negative: none). Retrying stops early once a pass brings no new
	// answer. Behind a rate limit the scan has measured, a pass that most
	// of its probes answered does not count, up to twice as many passes.
	Retries int
	// Timeout bounds the wait for replies after each pass (zero: 1 s).
	// The wait ends as soon as every probe is answered, or once replies
	// have stopped arriving for a quiet period of four round trips (at
	// least 10 ms).
	Timeout time.Duration
	// FixedRate keeps the send rate at Rate: no adaptation to the answer
	// ratio nor to a rate limit measured between passes (for
	// experiments; scans under a rate limit then lose answers).
	FixedRate bool
	// Senders is the number of sending threads of raw scans (zero: 4).
	Senders int
	// Parallel bounds the connections of a connect scan in flight (zero:
	// 512).
	Parallel int
	// All emits every result, closed ports and unanswered probes
	// included; without it those are only counted in Stats.
	All bool
	// Progress, when set, is called about every ProgressEvery (zero:
	// 250 ms) with the counters so far; it may run concurrently with emit.
	Progress      func(Stats)
	ProgressEvery time.Duration
}

func (c *Config) rate() int     { return def(c.Rate, 100_000) }
func (c *Config) maxRate() int  { return max(def(c.MaxRate, 1_000_000), c.rate()) }
func (c *Config) senders() int  { return min(def(c.Senders, 4), 8) }
func (c *Config) parallel() int { return def(c.Parallel, 512) }
func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return time.Second
	}
	return c.Timeout
}
func (c *Config) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return 6
	}
	return c.Retries
}
func (c *Config) progressEvery() time.Duration {
	if c.ProgressEvery <= 0 {
		return 250 * time.Millisecond
	}
	return c.ProgressEvery
}

func def(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Stats count a scan's work.
type Stats struct {
	Probes   uint64 // target×port pairs of this shard
	Sent     uint64 // probes sent, retries included
	Retried  uint64 // of Sent, the retries
	Answered uint64 // probes with a valid answer
	// Recovered are the answers that came only to a retry: the measure
	// of loss.
	Recovered uint64
	Found     uint64 // results in an interesting state (open, …)
	ByState   map[string]uint64
	Rate      float64 // the last send rate, probes per second
	Next      uint64  // the first position of the first pass not yet sent
	Elapsed   time.Duration
	// Answers, when a raw scan was interrupted, records the probes that
	// were answered, a bit per probe (for Config.Answered).
	Answers []uint64
}

// Loss estimates the round-trip loss: the share of answers that needed a
// retry.
func (s Stats) Loss() float64 {
	if s.Answered == 0 {
		return 0
	}
	return float64(s.Recovered) / float64(s.Answered)
}

// Coverage is the share of probes that got a definite answer.
func (s Stats) Coverage() float64 {
	if s.Probes == 0 {
		return 1
	}
	return float64(s.Answered) / float64(s.Probes)
}

// ErrNeedEthernet is returned by raw scans to a destination without an
// Ethernet next hop (the host itself, loopback, tunnels): use Connect.
var ErrNeedEthernet = errors.New("scan: raw scans need an Ethernet route to the target; use a connect scan")

// Run scans ports of targets with cfg and calls emit with each result as
// it arrives. It returns the counters, and ctx's error when cancelled
// (the results so far have been emitted; Stats.Next says where to
// resume).
func Run(ctx context.Context, targets *Targets, ports []uint16, cfg *Config, emit func(Result)) (Stats, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if targets == nil || targets.Len() == 0 || len(ports) == 0 {
		return Stats{}, errors.New("scan: nothing to scan")
	}
	if cfg.Shard.N > 0 && cfg.Shard.I >= cfg.Shard.N {
		return Stats{}, fmt.Errorf("scan: shard %d/%d: want an index below %d", cfg.Shard.I, cfg.Shard.N, cfg.Shard.N)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	sp := newSpace(targets, ports, seed)
	switch {
	case cfg.Type.raw():
		return runRaw(ctx, sp, cfg, emit)
	case cfg.Type == Connect:
		return runConnect(ctx, sp, cfg, emit)
	case cfg.Type == UDPScan:
		st, err := runRaw(ctx, sp, cfg, emit)
		if errors.Is(err, ErrNeedEthernet) || errors.Is(err, os.ErrPermission) {
			// Without raw sockets or an Ethernet route, the kernel's
			// UDP sockets do (slowly, a probe per socket).
			return runUDPKernel(ctx, sp, cfg, emit)
		}
		return st, err
	}
	return Stats{}, fmt.Errorf("scan: scan type %d unknown", cfg.Type)
}

// space is the target×port space of one scan.
type space struct {
	targets *Targets
	ports   []uint16
	n       uint64
	seed    uint64
	perm    Permutation
	key     sipKey
	portIdx []int32 // port → its index in ports, or -1
}

// probe returns the target and port of permuted index idx.
func (s *space) probe(idx uint64) (netip.Addr, uint16) {
	np := uint64(len(s.ports))
	return s.targets.At(idx / np), s.ports[idx%np]
}

// index returns the permuted index of (a, port), or false.
func (s *space) index(a netip.Addr, port uint16) (uint64, bool) {
	t, ok := s.targets.Index(a)
	if !ok {
		return 0, false
	}
	i := s.portIdx[port]
	if i < 0 {
		return 0, false
	}
	return t*uint64(len(s.ports)) + uint64(i), true
}

func newSpace(targets *Targets, ports []uint16, seed uint64) *space {
	sp := &space{targets: targets, ports: ports, n: targets.Len() * uint64(len(ports)), seed: seed}
	sp.perm = NewPermutation(sp.n, seed)
	sp.key = sipKey{mix64(seed ^ 0x5eed), mix64(seed ^ 0xc00c1e)}
	sp.portIdx = make([]int32, 65536)
	for i := range sp.portIdx {
		sp.portIdx[i] = -1
	}
	for i, p := range ports {
		if sp.portIdx[p] < 0 {
			sp.portIdx[p] = int32(i)
		}
	}
	return sp
}
