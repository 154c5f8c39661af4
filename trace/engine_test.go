package trace

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sonde/packet"
)

// fakeNet is a chain of routers in memory: a probe with TTL t < len(routers)+1
// is answered by router t (time exceeded), else by the destination (port
// unreachable), after delay(t). Routers can be silent, and each has a token
// bucket like the kernel's ICMP rate limit.
type fakeNet struct {
	routers []netip.Addr
	dst     netip.Addr
	silent  map[int]bool
	delay   func(ttl int) time.Duration
	burst   int           // 0: no rate limit
	refill  time.Duration // one token per refill
	// lag, when set, is how long reply n (from 0) waits, once arrived,
	// before it is sent to out: a reader goroutine slow to pass it on.
	lag func(n int) time.Duration

	mu      sync.Mutex
	out     chan<- received
	tokens  map[int]float64
	last    map[int]time.Time
	stopped bool
	wg      sync.WaitGroup
	// arrivals holds when each reply not yet sent to out is due.
	arrivals map[int]time.Time
	nextID   int
}

func newFakeNet(n int) *fakeNet {
	f := &fakeNet{dst: dst4, silent: map[int]bool{}, tokens: map[int]float64{}, last: map[int]time.Time{},
		delay: func(ttl int) time.Duration { return time.Duration(ttl) * 100 * time.Microsecond }}
	for i := 1; i <= n; i++ {
		f.routers = append(f.routers, netip.AddrFrom4([4]byte{198, 18, byte(i - 1), 2}))
	}
	return f
}

func (f *fakeNet) allow(hop int) bool {
	if f.burst == 0 {
		return true
	}
	now := time.Now()
	t, ok := f.tokens[hop]
	if !ok {
		t = float64(f.burst)
	} else {
		t = min(float64(f.burst), t+float64(now.Sub(f.last[hop]))/float64(f.refill))
	}
	f.last[hop] = now
	if t < 1 {
		f.tokens[hop] = t
		return false
	}
	f.tokens[hop] = t - 1
	return true
}

func (f *fakeNet) send(pkt []byte, dst netip.Addr) error {
	ttl := int(pkt[8])
	probe := append([]byte(nil), pkt...)
	f.mu.Lock()
	defer f.mu.Unlock()
	hop := min(ttl, len(f.routers)+1)
	if f.silent[hop] || !f.allow(hop) {
		return nil
	}
	from, typ, code := f.dst, byte(3), byte(3)
	if ttl <= len(f.routers) {
		from, typ, code = f.routers[ttl-1], 11, 0
		probe[8] = 1
	} else {
		probe[8] = byte(ttl - len(f.routers))
	}
	binary.BigEndian.PutUint16(probe[10:], 0)
	binary.BigEndian.PutUint16(probe[10:], ^packet.Fold(packet.Sum(0, probe[:20])))
	msg := icmpError(from, src4, typ, code, probe[:28], nil)
	f.wg.Add(1)
	if f.arrivals == nil {
		f.arrivals = map[int]time.Time{}
	}
	id := f.nextID
	f.nextID++
	arrival := time.Now().Add(f.delay(ttl))
	f.arrivals[id] = arrival
	var lag time.Duration
	if f.lag != nil {
		lag = f.lag(id)
	}
	time.AfterFunc(f.delay(ttl)+lag, func() {
		defer f.wg.Done()
		var rc received
		if !parseV4(msg, &rc.r) {
			panic("fake reply does not parse")
		}
		rc.at = arrival
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.arrivals, id)
		if !f.stopped {
			f.out <- rc
		}
	})
	return nil
}

func (f *fakeNet) start(out chan<- received) { f.out = out }

// caughtUp: no reply that has arrived by now is still to be sent to out.
func (f *fakeNet) caughtUp() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, at := range f.arrivals {
		if !at.After(now) {
			return false
		}
	}
	return true
}

func (f *fakeNet) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
}
func (f *fakeNet) close() error { f.wg.Wait(); return nil }

func runFake(t *testing.T, f *fakeNet, c Config) (*Result, []Hop) {
	t.Helper()
	c = c.withDefaults()
	var hops []Hop
	e := newEngine(f, src4, f.dst, &c, func(h Hop) { hops = append(hops, h) })
	res, err := e.run(context.Background())
	f.close()
	if err != nil {
		t.Fatal(err)
	}
	return res, hops
}

func hopStrings(hops []Hop) []string {
	var out []string
	for _, h := range hops {
		s := fmt.Sprint(h.TTL)
		for _, p := range h.Probes {
			if p.Answered() {
				s += " " + p.Addr.String()
			} else {
				s += " *"
			}
		}
		out = append(out, s)
	}
	return out
}

func wantChain(f *fakeNet, probes int) []string {
	var out []string
	for i := 1; i <= len(f.routers)+1; i++ {
		a := f.dst.String()
		if i <= len(f.routers) {
			a = f.routers[i-1].String()
		}
		s := fmt.Sprint(i)
		for range probes {
			if f.silent[i] {
				s += " *"
			} else {
				s += " " + a
			}
		}
		out = append(out, s)
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// TestEngineOutOfOrder: replies arriving in reverse order of TTL (later hops
// faster) still land on their hops, emitted in order, the trace stopping at
// the destination.
func TestEngineOutOfOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := newFakeNet(8)
	f.delay = func(ttl int) time.Duration { return time.Duration(40-ttl) * 200 * time.Microsecond }
	res, hops := runFake(t, f, Config{})
	if got, want := hopStrings(hops), wantChain(f, 3); !equal(got, want) {
		t.Errorf("hops\n%q\nwant\n%q", got, want)
	}
	if !res.Reached || len(res.Hops) != 9 || !res.Hops[8].Final {
		t.Errorf("result: reached %v, %d hops", res.Reached, len(res.Hops))
	}
}

// TestEngineSilentRouterNoFullWait: a silent router costs no full wait (5s):
// the hops after it answered, so its probes are given up after Near times
// their RTT, and retried once, at once.
func TestEngineSilentRouterNoFullWait(t *testing.T) {
	f := newFakeNet(6)
	f.silent[3] = true
	start := time.Now()
	res, hops := runFake(t, f, Config{})
	if got, want := hopStrings(hops), wantChain(f, 3); !equal(got, want) {
		t.Errorf("hops\n%q\nwant\n%q", got, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v with a silent router", d)
	}
	if res.Stats.Retried != 3 {
		t.Errorf("retried %d, want the silent hop's 3", res.Stats.Retried)
	}
}

// TestEngineRateLimitNoFalseStars: routers with a token bucket (burst 2,
// one token per 30ms) drop one of three probes; the retries, paced, get
// every probe answered, with no star.
func TestEngineRateLimitNoFalseStars(t *testing.T) {
	f := newFakeNet(5)
	f.burst, f.refill = 2, 30*time.Millisecond
	res, hops := runFake(t, f, Config{RetryPause: 30 * time.Millisecond, Wait: 200 * time.Millisecond})
	if got, want := hopStrings(hops), wantChain(f, 3); !equal(got, want) {
		t.Errorf("hops\n%q\nwant\n%q", got, want)
	}
	if res.Stats.Retried == 0 {
		t.Error("nothing retried: the bucket should have dropped some")
	}
	// Without retries, the same network shows stars: the test can fail.
	f2 := newFakeNet(5)
	f2.burst, f2.refill = 2, 30*time.Millisecond
	_, hops = runFake(t, f2, Config{NoRetry: true, Wait: 200 * time.Millisecond})
	if equal(hopStrings(hops), wantChain(f2, 3)) {
		t.Error("no stars without retries: the fake rate limit does nothing")
	}
}

// TestEngineDestinationSpentOnDistance: the destination, its bucket
// nearly spent by an earlier trace, answers the distance probe with its
// last token and none of its own hop's probes. That is a sign of rate
// limiting as much as a hop answering some probes: the retries are paced,
// and every probe is answered.
func TestEngineDestinationSpentOnDistance(t *testing.T) {
	trace := func(c Config) (*Result, []Hop, *fakeNet) {
		f := newFakeNet(3)
		// A slow refill: the destination's hop is probed well before a
		// token is back, however loaded the machine.
		f.burst, f.refill = 6, 300*time.Millisecond
		f.tokens[4], f.last[4] = 1, time.Now()
		// Three in flight: the distance is known before the
		// destination's hop is probed, as on a real network.
		c.Probes, c.InFlight, c.Wait = 3, 3, 200*time.Millisecond
		res, hops := runFake(t, f, c)
		return res, hops, f
	}
	res, hops, f := trace(Config{RetryPause: 300 * time.Millisecond})
	if got, want := hopStrings(hops), wantChain(f, 3); !equal(got, want) {
		t.Errorf("hops\n%q\nwant\n%q", got, want)
	}
	if res.Stats.Retried != 3 {
		t.Errorf("retried %d, want the destination's 3", res.Stats.Retried)
	}
	// Without retries, the same network shows stars: the test can fail.
	_, hops, f = trace(Config{NoRetry: true})
	if equal(hopStrings(hops), wantChain(f, 3)) {
		t.Error("no stars without retries: the fake rate limit does nothing")
	}
}

// TestEngineSlowReaderNoFalseStars: replies that arrived in time but were
// passed on late by a busy reader (here one in three, 20ms late, while the
// early timeouts after the others are a few milliseconds) still count: the
// engine waits for the readers to catch up before it gives a probe up.
func TestEngineSlowReaderNoFalseStars(t *testing.T) {
	f := newFakeNet(4)
	f.lag = func(n int) time.Duration {
		if n%3 == 2 {
			return 20 * time.Millisecond
		}
		return 0
	}
	// No retries: the trace ends when its last probes are given up, and
	// a reply passed on after that would be lost.
	_, hops := runFake(t, f, Config{Probes: 3, Wait: time.Second, NoRetry: true})
	if got, want := hopStrings(hops), wantChain(f, 3); !equal(got, want) {
		t.Errorf("hops\n%q\nwant\n%q", got, want)
	}
}

// TestEngineUnreachedStopsAtMax: a destination that never answers leaves
// stars up to MaxTTL, each hop waited for at most Wait.
func TestEngineUnreachedStopsAtMax(t *testing.T) {
	f := newFakeNet(3)
	f.silent[4] = true
	start := time.Now()
	res, hops := runFake(t, f, Config{MaxTTL: 8, Wait: 50 * time.Millisecond})
	if res.Reached || len(hops) != 8 {
		t.Errorf("reached %v, %d hops: %q", res.Reached, len(hops), hopStrings(hops))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []Config{{MaxTTL: 256}, {FirstTTL: 5, MaxTTL: 4}, {Probes: 11}, {InFlight: -1}, {Wait: -1}, {Method: 9}} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (*Config)(nil).Check(); err != nil {
		t.Errorf("nil config: %v", err)
	}
}
