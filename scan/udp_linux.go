//go:build linux

package scan

import (
	"context"
	"math"
	"net/netip"
	"slices"
	"time"

	"sonde/rawsock"
)

// udpRound is the length of a round of UDP retries. Linux sends at most
// one ICMP error a second to a destination once a burst of six is spent
// (net.ipv4.icmp_ratelimit, 1000 ms; IPv6's net.ipv6.icmp.ratelimit is
// 100 ms, shortened for wide prefixes): a round of a second finds each
// target's bucket refilled by at least one token.
const udpRound = time.Second

// udpPending is a UDP probe not answered yet.
type udpPending struct {
	idx   uint64
	sends int // times sent so far (its source port changes with each)
	// spare counts the rounds it went unanswered though they sent its
	// rate-limited target no more probes than it had tokens for: a probe
	// unanswered in a round short of tokens may be a closed port starved
	// of them, and is sent again, up to udpMaxSends times.
	spare int
}

// udpMaxSends bounds the sends of one UDP probe, counted against Retries
// or not.
func udpMaxSends(retries int) int { return 4 * (retries + 1) }

// udpTarget is a target's unanswered UDP probes, oldest first, and its
// pace: the probes a round sends it while it answers with ICMP errors.
type udpTarget struct {
	addr  netip.Addr
	queue []udpPending
	k     int
	// tokens is how many of its probes the target answered in its last
	// round that left some unanswered: its ICMP errors per round.
	tokens int
}

// udpRounds retries the UDP probes the first pass left unanswered, in
// rounds of udpRound. A target that has answered with ICMP errors is rate
// limiting them (closed ports beyond its burst stayed silent), so it is
// sent k probes a round, spread over the round so its token bucket
// refills between them: k doubles while every probe is answered and falls
// to one more than the answers when some are not (AIMD on the target's
// measured ICMP rate); a round with no answer at all leaves it alone, as
// silent (open|filtered) ports draw no error either way. A probe left
// unanswered in two rounds that sent its target no more probes than it
// answered in its last round short of tokens is a silent port, not one
// starved of tokens, and is not retried again (the target's ICMP rate
// limit is taken to refill its tokens within a round, and rounds that
// only send such probes are shortened to the time the bucket takes to
// refill twice their number of tokens); other rounds do
// not count against Retries, but no probe is sent more than udpMaxSends
// times. Targets that never sent an error are retried whole each round at
// the scan's rate, with a backoff, until a round of 20 probes or more
// brings nothing, and a probe of theirs sent Retries+1 times without an
// answer is open|filtered.
func (s *rawScan) udpRounds(ctx context.Context, tx *rawsock.PacketConn, from, total uint64) error {
	np := uint64(len(s.sp.ports))
	groups := map[uint64]*udpTarget{}
	var order []uint64
	for j := from; j < total; j++ {
		idx := s.sp.perm.At(s.cfg.Shard.position(j))
		if s.isAnswered(idx) {
			continue
		}
		t := idx / np
		g := groups[t]
		if g == nil {
			g = &udpTarget{addr: s.sp.targets.At(t)}
			groups[t] = g
			order = append(order, t)
		}
		g.queue = append(g.queue, udpPending{idx: idx, sends: 1})
	}
	retries := s.cfg.retries()
	quietUnpaced := false
	f := s.newFramer()
	type event struct {
		at time.Duration
		p  udpPending
	}
	for round := 1; len(order) > 0; round++ {
		s.attempt.Store(int32(round))
		var evs []event
		sent := map[*udpTarget][]udpPending{}
		paced := map[*udpTarget]bool{}
		rate := math.Float64frombits(s.rate.Load())
		unpaced := 0
		s.mu.Lock()
		for _, t := range order {
			g := groups[t]
			if n := s.icmpFrom[g.addr]; n > 0 {
				paced[g] = true
				if g.k == 0 {
					g.k = max(2, n)
				}
			}
		}
		// When every rate-limited target has fewer probes left than it
		// answers a round, the round need only last long enough for its
		// bucket to refill twice that many tokens.
		length := time.Duration(0)
		for g := range paced {
			if g.tokens == 0 || len(g.queue) > g.tokens {
				length = udpRound
				break
			}
			length = max(length, udpRound*time.Duration(2*len(g.queue))/time.Duration(g.tokens))
		}
		length = min(max(length, 100*time.Millisecond), udpRound)
		for _, t := range order {
			g := groups[t]
			if paced[g] {
				k := min(g.k, len(g.queue))
				gap := length / time.Duration(k)
				phase := time.Duration(mix64(t^uint64(round)) % uint64(gap))
				for i, p := range g.queue[:k] {
					evs = append(evs, event{phase + time.Duration(i)*gap, p})
				}
				sent[g], g.queue = g.queue[:k:k], g.queue[k:]
				continue
			}
			if quietUnpaced {
				g.queue = nil // open|filtered
				continue
			}
			for _, p := range g.queue {
				evs = append(evs, event{time.Duration(float64(unpaced) / rate * float64(time.Second)), p})
				unpaced++
			}
			sent[g], g.queue = g.queue, nil
		}
		s.mu.Unlock()
		slices.SortStableFunc(evs, func(a, b event) int { return int(a.at - b.at) })
		t0 := time.Now()
		flush := func() error {
			if len(f.frames) == 0 {
				return nil
			}
			n, err := tx.WriteBatch(f.frames)
			s.sent.Add(uint64(n))
			s.retried.Add(uint64(n))
			f.frames = f.frames[:0]
			s.tick()
			return err
		}
		for _, e := range evs {
			if d := time.Until(t0.Add(e.at)); d > 100*time.Microsecond {
				if err := flush(); err != nil {
					return err
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
			if err := f.add(ctx, e.p.idx, e.p.sends); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			if len(f.frames) == rawsock.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		// Wait out the round (paced targets), or a backoff, then for the
		// last replies.
		end := time.Now().Add(s.quiet())
		if len(paced) > 0 {
			if r := t0.Add(length); r.After(end) {
				end = r
			}
		} else {
			end = end.Add(min(100*time.Millisecond<<(round-1), udpRound))
		}
		for time.Now().Before(end) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(time.Until(end), 10*time.Millisecond)):
			}
			s.tick()
		}
		s.wait(ctx, total-from)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		unpacedAnswered := 0
		for g, ps := range sent {
			answered := 0
			// Within its tokens, an unanswered probe is a silent port.
			spare := paced[g] && len(ps) <= g.tokens
			for _, p := range ps {
				if s.isAnswered(p.idx) {
					answered++
					continue
				}
				if p.sends++; spare {
					p.spare++
				}
				// A target that sent no ICMP error: Retries+1 sends;
				// a rate-limited one: two rounds within its tokens.
				again := p.sends <= retries
				if paced[g] {
					again = p.spare < 2 && p.sends < udpMaxSends(retries)
				}
				if again {
					g.queue = append(g.queue, p)
				}
			}
			switch {
			case !paced[g]:
				unpacedAnswered += answered
			case answered == len(ps) && len(ps) == g.k:
				g.k = min(2*g.k, 4096)
			case answered > 0 && answered < len(ps):
				g.k, g.tokens = answered+1, answered
			}
		}
		if unpaced >= 20 && unpacedAnswered == 0 {
			quietUnpaced = true
		}
		order = slices.DeleteFunc(order, func(t uint64) bool { return len(groups[t].queue) == 0 })
	}
	return nil
}
