package trace

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// received is one parsed reply and when the kernel got it.
type received struct {
	r  reply
	at time.Time
}

// transport sends probes and delivers parsed replies. start runs the
// readers, which send to out until stop; stop returns when they are done.
type transport interface {
	send(pkt []byte, dst netip.Addr) error
	start(out chan<- received)
	// caughtUp reports whether every reply that reached the host before
	// the call has been sent to out (or discarded).
	caughtUp() bool
	stop()
	close() error
}

// minWait is the shortest early timeout: a router's ICMP is not quite as
// fast as forwarding.
const minWait = time.Millisecond

// slot is one probe of one hop.
type slot struct {
	ttl, idx int
	// distance marks the probe sent at MaxTTL first: the TTL left in the
	// destination's answer says how far it is.
	distance bool
	probe    Probe
	answered bool
	// attempts: 0 not sent, 1 sent once, 2 retried.
	attempts int
	// live is the attempt waited for (nil when none is).
	live *attempt
	// dead: given up for good (no answer to the last attempt).
	dead bool
}

type attempt struct {
	s     *slot
	token uint16
	n     int // 1 for the first attempt, 2 for the retry
	sent  time.Time
}

type engine struct {
	t      transport
	c      *Config
	flow   flowKey
	emit   func(Hop)
	hops   [][]*slot // by ttl-FirstTTL
	next   int       // next slot to send in phase 1 (index in order)
	order  []*slot
	tokens map[uint16]*attempt
	tok    uint16
	flying []*attempt
	dest   int // the TTL of the destination, 0 while unknown
	// hint is the destination's distance as the distance probe found it
	// (0 while unknown): probes beyond it wait until every probe up to it
	// is done, so the destination's ICMP budget is not spent on them.
	hint int
	// highest is the highest TTL that has answered; gapOff lifts the rule
	// that probes go at most a window of hops beyond it (see loop).
	highest int
	gapOff  bool
	// router is the highest TTL a router answered (time exceeded).
	router int
	// sentAt is when each hop's last probe was sent.
	sentAt []time.Time
	// rtt of the fastest answer of each hop (0: none).
	hopRTT  []time.Duration
	emitted int
	buf     []byte
	stats   Stats
	start   time.Time
}

func newEngine(t transport, src, dst netip.Addr, c *Config, emit func(Hop)) *engine {
	e := &engine{t: t, c: c, emit: emit, tokens: map[uint16]*attempt{}, buf: make([]byte, 128)}
	e.flow = flowKey{src: src, dst: dst, method: c.Method, sport: c.SrcPort, dport: c.Port, classic: c.Classic,
		tcpNonce: uint16(c.SrcPort*31 + 7), icmpSumFix: 0xbeef ^ c.SrcPort}
	if c.Method == ICMP {
		e.flow.dport = 0
	}
	n := c.MaxTTL - c.FirstTTL + 1
	e.hops = make([][]*slot, n)
	e.hopRTT = make([]time.Duration, n)
	e.sentAt = make([]time.Time, n)
	for i := range e.hops {
		for j := 0; j < c.Probes; j++ {
			s := &slot{ttl: c.FirstTTL + i, idx: j}
			e.hops[i] = append(e.hops[i], s)
			e.order = append(e.order, s)
		}
	}
	return e
}

func (e *engine) run(ctx context.Context) (*Result, error) {
	e.start = time.Now()
	in := make(chan received, 256)
	e.t.start(in)
	err := e.loop(ctx, in)
	e.t.stop()
	res := e.result()
	return res, err
}

// loop is phase 1 (every probe once, InFlight at a time) then phase 2
// (each silent probe once more, paced), reading replies all along.
func (e *engine) loop(ctx context.Context, in <-chan received) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var retries []retry
	phase2 := false
	gap := max(1, e.c.InFlight/e.c.Probes)
	lastSend := time.Time{}
	if e.c.MaxTTL-e.c.FirstTTL >= 2 && !e.c.NoHint {
		d := &slot{ttl: e.c.MaxTTL, distance: true}
		if err := e.send(d, time.Now()); err != nil {
			return err
		}
	}
	for {
		now := time.Now()
		e.expire(now, in)
		// Send what may be sent.
		if !phase2 {
			blocked := false
			for e.next < len(e.order) && len(e.flying) < e.c.InFlight {
				s := e.order[e.next]
				limit := e.highest + gap
				if e.hint != 0 {
					limit = e.hint
				}
				if e.dest == 0 && !e.gapOff && s.ttl > limit {
					// Past where the distance probe put the destination,
					// or a window of silent hops past the last answer:
					// the destination may be silent for now, rate
					// limiting its answers. Retry before probing further,
					// so its budget is not spent on hops beyond it.
					blocked = true
					break
				}
				if e.dest != 0 && s.ttl > e.dest {
					e.next = len(e.order)
					break
				}
				if e.c.SendGap > 0 && !lastSend.IsZero() && now.Sub(lastSend) < e.c.SendGap {
					break
				}
				e.next++
				if err := e.send(s, now); err != nil {
					return err
				}
				lastSend = now
				if e.c.SendGap > 0 {
					break
				}
				e.drain(in) // answers that change what to send next (the distance)
				now = time.Now()
			}
			if (e.next >= len(e.order) || blocked) && len(e.flying) == 0 {
				phase2 = true
				if !e.c.NoRetry {
					retries = e.planRetries(now)
				}
			}
		}
		if phase2 {
			retries = slices.DeleteFunc(retries, func(r retry) bool {
				return r.s.answered || (e.dest != 0 && r.s.ttl > e.dest)
			})
			for len(retries) > 0 && !retries[0].at.After(now) && len(e.flying) < e.c.InFlight {
				r := retries[0]
				retries = retries[1:]
				if r.s.answered || (e.dest != 0 && r.s.ttl > e.dest) {
					continue
				}
				if err := e.send(r.s, now); err != nil {
					return err
				}
			}
			if len(retries) == 0 && len(e.flying) == 0 {
				if e.dest == 0 && e.next < len(e.order) {
					// Still silent: probe on to MaxTTL, as traceroute does.
					phase2, e.gapOff = false, true
					continue
				}
				e.finish()
				return nil
			}
		}
		e.emitReady(false)
		// Wait for a reply or the next deadline.
		wake := e.nextDeadline(now)
		if phase2 && len(retries) > 0 && (wake.IsZero() || retries[0].at.Before(wake)) {
			wake = retries[0].at
		}
		if !phase2 && e.c.SendGap > 0 && e.next < len(e.order) && len(e.flying) < e.c.InFlight {
			if g := lastSend.Add(e.c.SendGap); wake.IsZero() || g.Before(wake) {
				wake = g
			}
		}
		d := time.Hour
		if !wake.IsZero() {
			d = max(time.Until(wake), 0)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			e.finish()
			return ctx.Err()
		case rc := <-in:
			e.handle(rc)
			e.drain(in) // what else has arrived, before deciding
		case <-timer.C:
		}
	}
}

// drain handles the replies that have arrived, without waiting.
func (e *engine) drain(in <-chan received) {
	for {
		select {
		case rc := <-in:
			e.handle(rc)
		default:
			return
		}
	}
}

func (e *engine) send(s *slot, now time.Time) error {
	e.tok++
	if e.tok == 0 || e.tok == 0xffff {
		e.tok = 1
	}
	a := &attempt{s: s, token: e.tok, sent: time.Now()}
	n := e.flow.build(e.buf, uint8(s.ttl), a.token)
	e.tokens[a.token] = a
	s.attempts++
	a.n = s.attempts
	if !s.distance {
		e.sentAt[s.ttl-e.c.FirstTTL] = a.sent
	}
	s.live = a
	e.flying = append(e.flying, a)
	a.sent = time.Now()
	if err := e.t.send(e.buf[:n], e.flow.dst); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	e.stats.Sent++
	if s.attempts > 1 {
		e.stats.Retried++
	}
	return nil
}

// deadline is when attempt a is given up: Wait after it was sent, or
// sooner when its own hop or a later one has answered (Here and Near
// times their round-trip time, as Linux traceroute does).
func (e *engine) deadline(a *attempt) time.Time {
	w := e.c.Wait
	i := a.s.ttl - e.c.FirstTTL
	if e.c.Here > 0 && e.hopRTT[i] > 0 {
		w = min(w, max(time.Duration(e.c.Here*float64(e.hopRTT[i])), minWait))
	}
	if e.c.Near > 0 {
		for j := i + 1; j < len(e.hopRTT); j++ {
			if r := e.hopRTT[j]; r > 0 {
				w = min(w, max(time.Duration(e.c.Near*float64(r)), minWait))
			}
		}
	}
	return a.sent.Add(w)
}

func (e *engine) nextDeadline(now time.Time) time.Time {
	var t time.Time
	for _, a := range e.flying {
		if d := e.deadline(a); t.IsZero() || d.Before(t) {
			t = d
		}
	}
	return t
}

// expire gives up the attempts past their deadline, and those beyond the
// destination. An attempt is given up only once every reply that reached
// the host by now has been handled: an answer that came in time is not
// lost because the reader was slow to pass it on (a deadline can be a
// millisecond, and a loaded host can hold a goroutine longer).
func (e *engine) expire(now time.Time, in <-chan received) {
	if e.due(now) {
		e.catchUp(in)
	}
	e.flying = slices.DeleteFunc(e.flying, func(a *attempt) bool {
		if a.s.distance && e.dest != 0 {
			return true
		}
		if a.s.answered || a.s.live != a {
			return true
		}
		if e.dest != 0 && a.s.ttl > e.dest {
			a.s.live = nil
			return true
		}
		if !now.Before(e.deadline(a)) {
			a.s.live = nil
			return true
		}
		return false
	})
}

// due reports whether an attempt in flight is past its deadline.
func (e *engine) due(now time.Time) bool {
	for _, a := range e.flying {
		if !a.s.answered && a.s.live == a && !now.Before(e.deadline(a)) {
			return true
		}
	}
	return false
}

// catchUpLimit bounds how long catchUp waits for the readers.
const catchUpLimit = 250 * time.Millisecond

// catchUp handles every reply that reached the host before the call,
// waiting (up to catchUpLimit) for the readers to pass them on.
func (e *engine) catchUp(in <-chan received) {
	limit := time.Now().Add(catchUpLimit)
	for !e.t.caughtUp() && time.Now().Before(limit) {
		e.drain(in)
		time.Sleep(50 * time.Microsecond)
	}
	e.drain(in)
}

// handle matches a reply to the attempt it answers.
func (e *engine) handle(rc received) {
	r := &rc.r
	f := &e.flow
	if r.qdst != f.dst {
		return
	}
	if r.kind == kindEchoReply {
		if f.method != ICMP || r.from != f.dst || r.sport != f.sport {
			return
		}
	} else {
		if r.kind != kindTCP && r.qsrc != f.src {
			return
		}
		switch f.method {
		case UDP:
			if r.qproto != protoUDP || r.sport != f.sport || r.dport < f.dport || (!f.classic && r.dport != f.dport) {
				return
			}
		case TCP:
			if r.qproto != protoTCP || r.dport != f.dport || r.sport < f.sport || (!f.classic && r.sport != f.sport) {
				return
			}
			if r.checkNonce && r.tcpNonce != f.tcpNonce {
				return
			}
		case ICMP:
			if (r.qproto != protoICMP && r.qproto != protoICMPv6) || r.sport != f.sport {
				return
			}
		}
	}
	a := e.tokens[r.token]
	if a == nil {
		e.stats.Unmatched++
		return
	}
	s := a.s
	if s.distance {
		if !s.answered && r.from == f.dst && r.kind != kindTimeExceed {
			s.answered = true
			e.hint = distance(r, e.c.MaxTTL)
			// The answer is a sample of the destination's round trip:
			// its hop's probes are waited for Here times it, as if one
			// of them had answered (a destination that answered this
			// and not them is rate limiting, and they are retried).
			if i := e.hint - e.c.FirstTTL; e.hint != 0 && i >= 0 && i < len(e.hopRTT) {
				rtt := max(rc.at.Sub(a.sent), time.Microsecond)
				if e.hopRTT[i] == 0 || rtt < e.hopRTT[i] {
					e.hopRTT[i] = rtt
				}
			}
		}
		return
	}
	if s.answered {
		return // a duplicate, or the first attempt answering late
	}
	rtt := rc.at.Sub(a.sent)
	if rtt < 0 {
		rtt = 0
	}
	s.answered, s.live = true, nil
	s.probe = Probe{Addr: r.from, RTT: rtt, MPLS: r.mpls, Retried: a.n > 1}
	e.stats.Answered++
	e.highest = max(e.highest, s.ttl)
	if r.kind == kindTimeExceed {
		e.router = max(e.router, s.ttl)
	}
	i := s.ttl - e.c.FirstTTL
	if e.hopRTT[i] == 0 || rtt < e.hopRTT[i] {
		e.hopRTT[i] = max(rtt, time.Microsecond)
	}
	final := r.kind != kindTimeExceed
	if final {
		s.probe.Note = note(r, f)
		if e.dest == 0 || s.ttl < e.dest {
			e.dest = s.ttl
		}
		e.nearer(s, r)
	}
}

// nearer moves the destination's answer to a probe that had TTL to spare
// to the hop the destination truly is: an ICMP error quotes the probe's
// header with the TTL left on arrival, so a probe sent with TTL t that
// arrived with k left crossed t-k routers, and the destination is hop
// t-k+1. Its answers to that hop's own probes were lost or rate limited
// (a destination limits its port unreachables as routers do); without
// this, the trace would show that hop as stars and the destination one
// or more hops too far. The answer fills a silent probe of that hop
// (Probe.SentTTL tells it), unless a router answered at that hop, which
// contradicts the quoted TTL (a box on the way that rewrites it).
func (e *engine) nearer(s *slot, r *reply) {
	if r.kind != kindUnreachable || r.ttl == 0 || r.from != e.flow.dst {
		return
	}
	d := s.ttl - int(r.ttl) + 1
	if d >= s.ttl || d < e.c.FirstTTL {
		return
	}
	var free *slot
	for _, o := range e.hops[d-e.c.FirstTTL] {
		switch {
		case o.answered && o.probe.Addr != e.flow.dst:
			return
		case o.answered:
			// The destination answered there already: it is the end.
		case free == nil:
			free = o
		}
	}
	if free != nil {
		free.answered, free.live = true, nil
		free.probe = s.probe
		free.probe.SentTTL = s.ttl
	}
	if d < e.dest {
		e.dest = d
	}
}

// distance returns the hop count to the destination that its answer to the
// distance probe (sent with TTL max) shows, or 0. An ICMP error quotes the
// probe's header with the TTL it had left on arrival; an echo reply or a
// TCP segment has its own TTL, which started at 64 on most hosts (a guess:
// the hint only paces probes).
func distance(r *reply, max int) int {
	if r.ttl == 0 {
		return 0
	}
	var d int
	if r.kind == kindUnreachable {
		d = max - int(r.ttl) + 1
	} else {
		d = 64 - int(r.ttl) + 1
	}
	if d < 1 || d > max {
		return 0
	}
	return d
}

// note is traceroute's annotation of a final reply.
func note(r *reply, f *flowKey) string {
	if r.kind != kindUnreachable {
		return ""
	}
	v6 := f.dst.Is6()
	if !v6 {
		switch r.code {
		case 3:
			if r.from == f.dst {
				return ""
			}
			return "!"
		case 0:
			return "!N"
		case 1:
			return "!H"
		case 2:
			return "!P"
		case 4:
			return "!F"
		case 5:
			return "!S"
		case 9, 10, 13:
			return "!X"
		}
	} else {
		switch r.code {
		case 4:
			if r.from == f.dst {
				return ""
			}
			return "!"
		case 0:
			return "!N"
		case 1:
			return "!X"
		case 3:
			return "!H"
		}
	}
	return fmt.Sprintf("!<%d>", r.code)
}

type retry struct {
	s  *slot
	at time.Time
}

// planRetries schedules a second probe for each silent one, up to the
// destination (or one hop past the last that answered). When routers show
// rate limiting — a hop answering some probes and not others, or several
// silent hops, or the destination's hop silent after it answered the
// distance probe — the retries are paced RetryPause apart from the last probe
// the router got, so each finds a token in its ICMP bucket: per hop up to
// the last router that answered, and in one sequence for the hops past it,
// which may all be one host (the destination, rate limiting its
// unreachables, answers every TTL from its own). Without such signs (a
// lone silent hop between answering ones) retries go at once.
func (e *engine) planRetries(now time.Time) []retry {
	last := e.dest
	if last == 0 {
		for i := len(e.hops) - 1; i >= 0; i-- {
			if e.hopRTT[i] > 0 {
				last = e.c.FirstTTL + i + 1
				break
			}
		}
		if last == 0 {
			last = e.c.FirstTTL
		}
	}
	type silent struct {
		slots   []*slot
		partial bool
	}
	var hops []silent
	suspect, whole := false, 0
	for i, h := range e.hops {
		if e.c.FirstTTL+i > last {
			break
		}
		var sl silent
		for _, s := range h {
			if !s.answered && s.attempts == 1 {
				sl.slots = append(sl.slots, s)
			}
		}
		if len(sl.slots) == 0 {
			continue
		}
		// The destination answering the distance probe and none of its
		// own hop's is as much a sign as a hop answering some probes.
		sl.partial = len(sl.slots) < len(h) || e.c.FirstTTL+i == e.hint
		if sl.partial {
			suspect = true
		} else {
			whole++
		}
		hops = append(hops, sl)
	}
	if whole > 1 {
		suspect = true
	}
	// A router whose bucket was empty when a probe reached it at t0 has
	// k tokens again at t0 + k*RetryPause. A silent hop before a router
	// that answered is a router of its own; the silent hops past the last
	// router may all be the destination, and share one pace from the
	// last probe sent to any of them.
	var t0 time.Time
	for i := e.router + 1 - e.c.FirstTTL; i >= 0 && i < len(e.sentAt); i++ {
		t0 = later(t0, e.sentAt[i])
	}
	var out []retry
	shared := 0
	for _, h := range hops {
		for k, s := range h.slots {
			at := now
			switch {
			case !suspect:
			case s.ttl > e.router:
				shared++
				at = later(now, t0.Add(time.Duration(shared)*e.c.RetryPause+tokenSlack))
			default:
				at = later(now, e.sentAt[s.ttl-e.c.FirstTTL].Add(time.Duration(k+1)*e.c.RetryPause+tokenSlack))
			}
			out = append(out, retry{s: s, at: at})
		}
	}
	slices.SortStableFunc(out, func(a, b retry) int { return a.at.Compare(b.at) })
	return out
}

// tokenSlack is added to a paced retry's wait: the kernel counts an ICMP
// bucket's refill in jiffies (up to 10 ms each) from when it handled the
// probe, a little after we sent it, so a retry sent exactly RetryPause
// later can find its token a jiffy short and be dropped again.
const tokenSlack = 20 * time.Millisecond

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// emitReady emits the hops that are complete, in order; with all, every
// hop up to the destination (at the end).
func (e *engine) emitReady(all bool) {
	for e.emitted < len(e.hops) {
		ttl := e.c.FirstTTL + e.emitted
		if e.dest != 0 && ttl > e.dest {
			return
		}
		h := e.hops[e.emitted]
		if !all {
			for _, s := range h {
				if !s.answered {
					return
				}
			}
		}
		if all && e.dest == 0 && e.allSilentFrom(e.emitted) && !e.sentAny(e.emitted) {
			return
		}
		e.emitted++
		if e.emit != nil {
			e.emit(e.hop(h))
		}
	}
}

func (e *engine) allSilentFrom(i int) bool {
	for ; i < len(e.hops); i++ {
		for _, s := range e.hops[i] {
			if s.answered {
				return false
			}
		}
	}
	return true
}

func (e *engine) sentAny(i int) bool {
	for _, s := range e.hops[i] {
		if s.attempts > 0 {
			return true
		}
	}
	return false
}

func (e *engine) finish() { e.emitReady(true) }

func (e *engine) hop(h []*slot) Hop {
	out := Hop{TTL: h[0].ttl, Final: h[0].ttl == e.dest}
	for _, s := range h {
		out.Probes = append(out.Probes, s.probe)
	}
	return out
}

func (e *engine) result() *Result {
	res := &Result{Dst: e.flow.dst, Src: e.flow.src, Method: e.c.Method, SrcPort: e.c.SrcPort,
		Reached: e.dest != 0, Stats: e.stats, Elapsed: time.Since(e.start)}
	for i := 0; i < e.emitted; i++ {
		res.Hops = append(res.Hops, e.hop(e.hops[i]))
	}
	return res
}
