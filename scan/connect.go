package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// kernelScan runs probes that use the kernel's own sockets (connect and
// UDP scans): at most Parallel at a time, so the process never runs out
// of file descriptors, in the order of the permutation, with retries of
// the probes that timed out.
type kernelScan struct {
	sp   *space
	cfg  *Config
	emu  sync.Mutex
	emit func(Result)

	sent, retried, answered, recovered, found atomic.Uint64
	byState                                   [5]atomic.Uint64
	start                                     time.Time
}

// probeFunc sends one probe on the socket fd (made for it on the caller's
// thread, so in the caller's network namespace; probeFunc owns it) and
// says what came back; answered is false when nothing did (the probe may
// be retried).
type probeFunc func(ctx context.Context, fd int, a netip.Addr, port uint16, attempt int) (r Result, answered bool)

func (k *kernelScan) run(ctx context.Context, probe probeFunc, pause time.Duration, silent State) (Stats, error) {
	k.start = time.Now()
	total := k.cfg.Shard.positions(k.sp.n)
	from := min(k.cfg.Start, total)
	pending := make([]uint64, 0, total-from) // indexes still unanswered
	for j := from; j < total; j++ {
		pending = append(pending, k.sp.perm.At(k.cfg.Shard.position(j)))
	}
	next := total
	sem := make(chan struct{}, k.cfg.parallel())
	tick := time.NewTicker(k.cfg.progressEvery())
	defer tick.Stop()
	proto := TCP
	if k.cfg.Type == UDPScan {
		proto = UDP
	}
	// A sending pace for UDP: probes per second, so a target's ICMP rate
	// limit is not drained by a burst.
	var pace <-chan time.Time
	if r := k.cfg.Rate; r > 0 {
		t := time.NewTicker(time.Second / time.Duration(r))
		defer t.Stop()
		pace = t.C
	}
	for attempt := 0; attempt <= k.cfg.retries() && len(pending) > 0; attempt++ {
		if attempt > 0 && pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
		var mu sync.Mutex
		var still []uint64
		var wg sync.WaitGroup
		for i, idx := range pending {
			if pace != nil {
				select {
				case <-pace:
				case <-ctx.Done():
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				if attempt == 0 {
					next = from + uint64(i)
				}
				break
			}
			select {
			case <-tick.C:
				if k.cfg.Progress != nil {
					k.cfg.Progress(k.stats(total - from))
				}
			default:
			}
			a, port := k.sp.probe(idx)
			// The socket is made here, on the caller's thread: a
			// goroutine may run in another network namespace.
			fd, err := newSocket(a, proto)
			for errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Other parts of the process hold descriptors too: wait
				// for some to close rather than fail.
				time.Sleep(10 * time.Millisecond)
				fd, err = newSocket(a, proto)
			}
			if err != nil {
				<-sem
				wg.Wait()
				return k.stats(total - from), fmt.Errorf("scan: socket: %w", err)
			}
			wg.Add(1)
			k.sent.Add(1)
			if attempt > 0 {
				k.retried.Add(1)
			}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				r, ok := probe(ctx, fd, a, port, attempt)
				if !ok {
					mu.Lock()
					still = append(still, idx)
					mu.Unlock()
					return
				}
				k.answered.Add(1)
				if attempt > 0 {
					k.recovered.Add(1)
				}
				k.report(r)
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			break
		}
		if attempt > 0 && len(still) == len(pending) {
			pending = still
			break // no progress: the rest are filtered
		}
		pending = still
	}
	if ctx.Err() == nil {
		for _, idx := range pending {
			a, port := k.sp.probe(idx)
			k.report(Result{Addr: a, Port: port, Proto: proto, State: silent, Reason: "no-response", Service: ServiceName(proto, port)})
		}
	}
	st := k.stats(total - from)
	st.Next = next
	return st, ctx.Err()
}

func (k *kernelScan) report(r Result) {
	k.byState[r.State].Add(1)
	interesting := r.State != Closed && !(r.State == Filtered && r.Reason == "no-response" && k.cfg.Type == Connect)
	if interesting {
		k.found.Add(1)
	}
	if interesting || k.cfg.All {
		k.emu.Lock()
		k.emit(r)
		k.emu.Unlock()
	}
}

func (k *kernelScan) stats(probes uint64) Stats {
	st := Stats{Probes: probes, Sent: k.sent.Load(), Retried: k.retried.Load(), Answered: k.answered.Load(),
		Recovered: k.recovered.Load(), Found: k.found.Load(), Elapsed: time.Since(k.start), ByState: map[string]uint64{}}
	for i := range k.byState {
		if n := k.byState[i].Load(); n > 0 {
			st.ByState[State(i).String()] = n
		}
	}
	return st
}

func runConnect(ctx context.Context, sp *space, cfg *Config, emit func(Result)) (Stats, error) {
	k := &kernelScan{sp: sp, cfg: cfg, emit: emit}
	return k.run(ctx, func(ctx context.Context, fd int, a netip.Addr, port uint16, _ int) (Result, bool) {
		r := Result{Addr: a, Port: port, Proto: TCP, Service: ServiceName(TCP, port)}
		err := connectSocket(ctx, fd, netip.AddrPortFrom(a, port), cfg.timeout())
		switch {
		case err == nil:
			r.State, r.Reason = Open, "syn-ack"
		case errors.Is(err, syscall.ECONNREFUSED):
			r.State, r.Reason = Closed, "conn-refused"
		case errors.Is(err, syscall.EHOSTUNREACH):
			r.State, r.Reason = Filtered, "host-unreach"
		case errors.Is(err, syscall.ENETUNREACH):
			r.State, r.Reason = Filtered, "net-unreach"
		default:
			return r, false
		}
		return r, true
	}, 0, Filtered)
}

func hostPort(a netip.Addr, port uint16) string {
	return net.JoinHostPort(a.String(), strconv.Itoa(int(port)))
}
