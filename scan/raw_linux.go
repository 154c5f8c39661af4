package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"

	"sonde/capture"
	"sonde/rawsock"
	"sonde/route"
)

// replySource is where a raw scan reads its replies: package capture's
// TPACKET_V3 ring, or, where it cannot be opened, a rawsock.PacketConn.
type replySource interface {
	// read returns the next frame and the kernel's time of receipt; it
	// returns an error once stop was called.
	read() ([]byte, time.Time, error)
	// queued returns the frames the kernel accepted, less those it dropped.
	queued() (accepted, dropped uint64, err error)
	stop()
	close()
}

type ringSource struct {
	h      *capture.Handle
	cancel context.CancelFunc
}

func (r *ringSource) read() ([]byte, time.Time, error) {
	b, ci, err := r.h.ZeroCopyReadPacketData()
	return b, ci.Timestamp, err
}

func (r *ringSource) queued() (uint64, uint64, error) {
	st, err := r.h.Stats()
	return st.Packets, st.Drops, err
}
func (r *ringSource) stop()  { r.cancel() }
func (r *ringSource) close() { r.h.Close() }

type connSource struct {
	c        *rawsock.PacketConn
	buf      []byte
	stopping atomic.Bool
}

func (c *connSource) read() ([]byte, time.Time, error) {
	for {
		c.c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, info, err := c.c.ReadFrom(c.buf)
		if err == nil {
			return c.buf[:n], info.Time, nil
		}
		if c.stopping.Load() || !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, time.Time{}, err
		}
	}
}

func (c *connSource) queued() (uint64, uint64, error) {
	st, err := c.c.Stats()
	return st.Packets, st.Drops, err
}
func (c *connSource) stop()  { c.stopping.Store(true); c.c.SetReadDeadline(time.Unix(1, 0)) }
func (c *connSource) close() { c.c.Close() }

// openReplies opens the ring on the interface, or a packet socket.
func openReplies(ifindex int, ifname string, filter []bpf.RawInstruction) (replySource, error) {
	ctx, cancel := context.WithCancel(context.Background())
	h, err := capture.Open(ctx, capture.Config{Interface: ifname, Filter: filter, Snaplen: 256, RingSize: 4 << 20, RingBlocks: 128, BlockTimeout: time.Millisecond})
	if err == nil {
		return &ringSource{h: h, cancel: cancel}, nil
	}
	cancel()
	c, err := rawsock.Listen(ifindex, &rawsock.Config{Protocol: rawsock.ProtoAll, Filter: filter, RecvBuffer: 64 << 20, IgnoreOutgoing: true})
	if err != nil {
		return nil, err
	}
	return &connSource{c: c, buf: make([]byte, 256)}, nil
}

// rawScan is the state of one raw scan: counters and the answered bitmap
// (one bit per probe), shared by the senders and the receiver.
type rawScan struct {
	sp       *space
	cfg      *Config
	proto    Proto
	emit     func(Result)
	res      *route.Resolver
	local    locals
	src4     netip.Addr
	src6     netip.Addr
	srcMAC   net.HardwareAddr
	answered []uint64 // bit idx set once idx was answered

	sent, retried, nAnswered, recovered, found atomic.Uint64
	framesRead                                 atomic.Uint64
	byState                                    [5]atomic.Uint64
	attempt                                    atomic.Int32
	lastReply, firstSend, firstReply           atomic.Int64  // unix nanoseconds
	rate                                       atomic.Uint64 // float64 bits: probes per second
	start                                      time.Time
	lastProgress                               time.Time
	rx                                         replySource
	ad                                         adapter
	lim                                        limitProbe

	// UDP: the targets that answered with an ICMP error (their rate
	// limit paces the retries), and how many errors each sent.
	mu       sync.Mutex
	icmpFrom map[netip.Addr]int
}

func (s *rawScan) isAnswered(idx uint64) bool {
	return atomic.LoadUint64(&s.answered[idx/64])&(1<<(idx%64)) != 0
}

// markAnswered sets idx's bit and reports whether it was clear.
func (s *rawScan) markAnswered(idx uint64) bool {
	bit := uint64(1) << (idx % 64)
	return atomic.OrUint64(&s.answered[idx/64], bit)&bit == 0
}

// replyFilter accepts IPv4 frames to local.v4 carrying TCP, UDP or ICMP,
// and IPv6 frames to local.v6 carrying TCP, UDP or ICMPv6 (with no
// extension header: replies to our probes have none). An address that is
// zero matches nothing.
func replyFilter(l *locals) ([]bpf.RawInstruction, error) {
	const accept, drop = 255, 254 // labels
	w := func(i int) uint32 { return binary.BigEndian.Uint32(l.v6[4*i:]) }
	v4, v6 := 0, 100 // where each family's frames go
	if l.v4 == 0 {
		v4 = drop
	}
	if l.v6 == ([16]byte{}) {
		v6 = drop
	}
	prog := []struct {
		ins      bpf.Instruction
		yes, not int // jump targets (labels) for conditional jumps; 0: next
	}{
		{ins: bpf.LoadAbsolute{Off: 12, Size: 2}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd}, yes: v6},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800}, yes: v4, not: drop},
		{ins: bpf.LoadAbsolute{Off: 30, Size: 4}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: l.v4}, not: drop},
		{ins: bpf.LoadAbsolute{Off: 23, Size: 1}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6}, yes: accept},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17}, yes: accept},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1}, yes: accept, not: drop},
		{ins: bpf.LoadAbsolute{Off: 38, Size: 4}}, // label 100
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: w(0)}, not: drop},
		{ins: bpf.LoadAbsolute{Off: 42, Size: 4}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: w(1)}, not: drop},
		{ins: bpf.LoadAbsolute{Off: 46, Size: 4}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: w(2)}, not: drop},
		{ins: bpf.LoadAbsolute{Off: 50, Size: 4}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: w(3)}, not: drop},
		{ins: bpf.LoadAbsolute{Off: 20, Size: 1}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6}, yes: accept},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17}, yes: accept},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 58}, yes: accept, not: drop},
		{ins: bpf.RetConstant{Val: 65535}}, // accept
		{ins: bpf.RetConstant{Val: 0}},     // drop
	}
	at := map[int]int{100: 9, accept: len(prog) - 2, drop: len(prog) - 1}
	out := make([]bpf.Instruction, len(prog))
	for i, p := range prog {
		j, ok := p.ins.(bpf.JumpIf)
		if !ok {
			out[i] = p.ins
			continue
		}
		skip := func(label int) uint8 {
			if label == 0 {
				return 0
			}
			return uint8(at[label] - i - 1)
		}
		j.SkipTrue, j.SkipFalse = skip(p.yes), skip(p.not)
		out[i] = j
	}
	return bpf.Assemble(out)
}

// ethernetRoute looks up the route to a and checks that raw frames can
// take it.
func ethernetRoute(ctx context.Context, res *route.Resolver, a netip.Addr) (route.Route, error) {
	rt, err := res.Lookup(ctx, a)
	if err != nil {
		return rt, fmt.Errorf("scan: %w", err)
	}
	if rt.Local || len(rt.DstMAC) != 6 || len(rt.SrcMAC) != 6 || rt.Src.Is4() != a.Is4() {
		return rt, ErrNeedEthernet
	}
	return rt, nil
}

func runRaw(ctx context.Context, sp *space, cfg *Config, emit func(Result)) (Stats, error) {
	if sp.n > 1<<36 {
		return Stats{}, fmt.Errorf("scan: %d probes in one run: split the scan with shards", sp.n)
	}
	if cfg.Answered != nil && uint64(len(cfg.Answered)) != (sp.n+63)/64 {
		return Stats{}, fmt.Errorf("scan: the record of answered probes is for about %d probes, not %d", len(cfg.Answered)*64, sp.n)
	}
	// Closing an AF_PACKET socket waits for an RCU grace period (tens of
	// milliseconds); the sockets are closed at once, in parallel, so a
	// scan pays that once.
	var closers []func()
	defer func() {
		var wg sync.WaitGroup
		for _, c := range closers {
			wg.Add(1)
			go func() { defer wg.Done(); c() }()
		}
		wg.Wait()
	}()
	res, err := route.NewResolver(nil)
	if err != nil {
		return Stats{}, fmt.Errorf("scan: %w", err)
	}
	closers = append(closers, func() { res.Close() })
	// The first target of each family says where replies come: the
	// source addresses and the interface (one for both families).
	var rt route.Route
	var src4, src6 netip.Addr
	tg := sp.targets
	var firsts []netip.Addr
	if tg.n4 > 0 {
		firsts = append(firsts, tg.At(0))
	}
	if tg.Len() > tg.n4 {
		firsts = append(firsts, tg.At(tg.n4))
	}
	for _, a := range firsts {
		r, err := ethernetRoute(ctx, res, a)
		if err != nil {
			return Stats{}, err
		}
		if rt.Ifindex != 0 && r.Ifindex != rt.Ifindex {
			return Stats{}, fmt.Errorf("scan: the IPv4 targets are reached through %s and the IPv6 ones through %s: scan them separately", rt.Ifname, r.Ifname)
		}
		rt = r
		if r.Src.Is4() {
			src4 = r.Src
		} else {
			src6 = r.Src
		}
	}
	proto := TCP
	if cfg.Type == UDPScan {
		proto = UDP
	}
	s := &rawScan{sp: sp, cfg: cfg, proto: proto, emit: emit, res: res, src4: src4, src6: src6, srcMAC: rt.SrcMAC,
		answered: make([]uint64, (sp.n+63)/64), start: time.Now(), icmpFrom: map[netip.Addr]int{}}
	if src4.IsValid() {
		s.local.v4 = addrU32(src4)
	}
	if src6.IsValid() {
		s.local.v6 = src6.As16()
	}
	s.rate.Store(math.Float64bits(float64(cfg.rate())))
	filter, err := replyFilter(&s.local)
	if err != nil {
		return Stats{}, fmt.Errorf("scan: %w", err)
	}
	rx, err := openReplies(rt.Ifindex, rt.Ifname, filter)
	if err != nil {
		return Stats{}, fmt.Errorf("scan: %w", err)
	}
	closers = append(closers, rx.close)
	s.rx = rx
	s.ad = adapter{at: time.Now(), minRate: 1000, fixed: cfg.FixedRate}
	s.ad.setCeiling(float64(cfg.maxRate()))
	txs := make([]*rawsock.PacketConn, cfg.senders())
	for i := range txs {
		// Sockets are opened here, on the caller's thread, so they belong
		// to its network namespace; the goroutines only use them.
		tx, err := rawsock.Listen(rt.Ifindex, &rawsock.Config{Protocol: rawsock.ProtoIPv4, QdiscBypass: true, SendOnly: true})
		if err != nil {
			return Stats{}, fmt.Errorf("scan: %w", err)
		}
		closers = append(closers, func() { tx.Close() })
		txs[i] = tx
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.receive(rx)
	}()
	stopRx := func() {
		rx.stop()
		wg.Wait()
	}

	total := cfg.Shard.positions(sp.n)
	from := min(cfg.Start, total)
	// Retries, the wait for answers and the report of silent probes
	// cover [retryFrom, total): resumed with the interrupted run's record,
	// the whole shard.
	retryFrom := from
	if cfg.Answered != nil {
		copy(s.answered, cfg.Answered)
		var base uint64
		for _, w := range s.answered {
			base += uint64(bits.OnesCount64(w))
		}
		s.nAnswered.Store(base)
		retryFrom = 0
	}
	probes := total - retryFrom // the probes this run answers for
	next := total
	var runErr error
	passes := cfg.retries()
	if proto == UDP {
		passes = 0 // UDP retries are paced per target, in rounds
	}
	for attempt := 0; attempt <= passes; attempt++ {
		s.attempt.Store(int32(attempt))
		before, sentBefore, t0 := s.nAnswered.Load(), s.sent.Load(), time.Now()
		start := from
		if attempt > 0 {
			start = retryFrom
		}
		reached, err := s.pass(ctx, txs, attempt, start, total)
		if attempt == 0 {
			next = reached
		}
		if err != nil {
			runErr = err
			break
		}
		if ctx.Err() != nil {
			// Interrupted: collect the answers to what was sent (a
			// resumed scan starts after it), within the usual wait.
			s.wait(context.Background(), probes)
			runErr = ctx.Err()
			break
		}
		s.wait(ctx, probes)
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		// Stop when everything is answered, or when a retry pass big
		// enough to tell (20 probes or more) brought nothing: the rest
		// are filtered, not lost.
		got := s.nAnswered.Load()
		if got >= probes || attempt > 0 && got == before && probes-before >= 20 {
			break
		}
		if attempt > 0 && !cfg.FixedRate {
			end := time.Unix(0, s.lastReply.Load())
			sent := s.sent.Load() - sentBefore
			s.lim.afterPass(s, sent, got-before, end.Sub(t0))
			// Behind a measured rate limit, a pass that most of its
			// probes answered is progress, not loss: it does not count
			// against Retries (up to twice as many passes in all).
			if s.lim.limited && 2*(got-before) >= sent && passes < 2*cfg.retries() {
				passes++
			}
		}
	}
	if proto == UDP && runErr == nil && cfg.retries() > 0 {
		runErr = s.udpRounds(ctx, txs[0], retryFrom, total)
	}
	stopRx()
	if runErr == nil {
		un := probes - min(probes, s.nAnswered.Load())
		if cfg.All || un <= 1000 {
			s.emitUnanswered(retryFrom, total)
		}
	}
	st := s.stats(probes)
	st.Next = next
	if runErr != nil {
		// Probes never sent are neither answered nor filtered.
		k := s.silentState().String()
		if un := next - retryFrom - min(next-retryFrom, st.Answered); un > 0 {
			st.ByState[k] = un
		} else {
			delete(st.ByState, k)
		}
		st.Answers = s.answered
	}
	return st, runErr
}

// silentState is the state of a port that never answered.
func (s *rawScan) silentState() State {
	switch s.cfg.Type {
	case FIN, NULL, Xmas, UDPScan:
		return OpenFiltered
	}
	return Filtered
}

// limitProbe tells a rate limit at the target (replies capped at a
// number per second, whatever the send rate) from loss and filtering
// (replies in proportion to the send rate), between retry passes. A retry
// pass in which most probes stay unanswered, though some are answered,
// makes it suspect a limit: the next pass goes at a quarter of the rate.
// If that pass, four times longer, brings as many answers (a cap hands out
// answers by the second), the rate is set to the delivery rate from then
// on; if it brings fewer (loss, filtered ports), the rate is restored.
type limitProbe struct {
	suspect, limited bool
	answered         uint64
	rate             float64
}

func (l *limitProbe) afterPass(s *rawScan, sent, answered uint64, d time.Duration) {
	if sent < 20 || d <= 0 {
		return
	}
	delivered := float64(answered) / d.Seconds()
	rate := math.Float64frombits(s.rate.Load())
	set := func(r float64, ceiling float64) {
		s.rate.Store(math.Float64bits(r))
		s.ad.setCeiling(ceiling)
	}
	frac := float64(answered) / float64(sent)
	switch {
	case l.limited:
		if frac < 0.9 && answered > 0 {
			r := max(10, delivered*0.95)
			set(r, r)
		}
	case l.suspect:
		// A cap answers at least as many in the slower (so longer) pass,
		// though it had fewer probes to answer; loss and filtering answer
		// fewer, in proportion to the probes (a count, not a rate: the
		// limiter's burst inflates a short pass's rate).
		l.suspect = false
		if float64(answered) >= 0.8*float64(l.answered) {
			l.limited = true
			r := max(10, delivered*0.95)
			set(r, r)
		} else {
			set(l.rate, float64(s.cfg.maxRate()))
		}
	case answered > 0 && frac < 0.5:
		l.suspect, l.answered, l.rate = true, answered, rate
		set(max(10, rate/4), max(10, rate/4))
	}
}

// pass sends the probes of one attempt (every one for attempt 0, the
// unanswered for retries) from the positions [from, total), spread over
// the senders. It returns the position up to which the first pass sent
// everything.
func (s *rawScan) pass(ctx context.Context, txs []*rawsock.PacketConn, attempt int, from, total uint64) (uint64, error) {
	w := uint64(len(txs))
	reached := make([]uint64, len(txs))
	errs := make([]error, len(txs))
	var wg sync.WaitGroup
	for i := 1; i < len(txs); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reached[i], errs[i] = s.send(ctx, txs[i], attempt, from+uint64(i), total, w, nil)
		}()
	}
	reached[0], errs[0] = s.send(ctx, txs[0], attempt, from, total, w, s.tick)
	wg.Wait()
	next := total
	for _, r := range reached {
		if r >= total {
			continue // this sender sent its whole share
		}
		// Positions below r-w+1 of every sender were sent.
		next = min(next, max(r, from+w-1)-(w-1))
	}
	return min(next, total), errors.Join(errs...)
}

// framer builds probe frames: one sender's buffers and the link-layer
// header of the current next hop.
type framer struct {
	s       *rawScan
	buf     []byte
	frames  [][]byte
	payload [maxPayload]byte
	l       link
	lMAC    net.HardwareAddr
	last    netip.Addr
}

func (s *rawScan) newFramer() *framer {
	return &framer{s: s, buf: make([]byte, rawsock.BatchSize*maxFrameLen), frames: make([][]byte, 0, rawsock.BatchSize)}
}

// add builds the probe idx's attempt into the batch.
func (f *framer) add(ctx context.Context, idx uint64, attempt int) error {
	s := f.s
	addr, port := s.sp.probe(idx)
	if addr != f.last {
		rt, err := s.res.Lookup(ctx, addr)
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if len(rt.DstMAC) != 6 {
			return ErrNeedEthernet
		}
		if !bytes.Equal(rt.DstMAC, f.lMAC) {
			f.lMAC = rt.DstMAC
			f.l = newLink(s.srcMAC, rt.DstMAC, s.src4, s.src6)
		}
		f.last = addr
	}
	sport := s.sp.key.srcPort(idx, attempt)
	cookie := s.sp.key.cookie(addr, port, sport)
	p := probeSpec{dst: addr, dport: port, sport: sport, cookie: cookie, proto: s.proto}
	if s.proto == UDP {
		p.id = uint16(cookie)
		p.payload = udpPayload(f.payload[:], port, cookie)
	} else {
		p.id = uint16(cookie>>16) ^ uint16(attempt)
		p.flags = s.cfg.Type.tcpFlags()
		p.ack = s.cfg.Type == ACK
	}
	i := len(f.frames)
	b := f.buf[i*maxFrameLen : (i+1)*maxFrameLen]
	n := buildFrame(b, &f.l, &p)
	f.frames = append(f.frames, b[:n])
	return nil
}

// send is one sender's share of a pass: positions start, start+step, …
func (s *rawScan) send(ctx context.Context, tx *rawsock.PacketConn, attempt int, start, total, step uint64, tick func()) (uint64, error) {
	const batch = rawsock.BatchSize
	f := s.newFramer()
	var sentHere uint64
	t0 := time.Now()
	senders := float64(s.cfg.senders())
	flush := func() error {
		if len(f.frames) == 0 {
			return nil
		}
		// Pace to this sender's share of the rate.
		for {
			rate := math.Float64frombits(s.rate.Load()) / senders
			due := t0.Add(time.Duration(float64(sentHere) / rate * float64(time.Second)))
			d := time.Until(due)
			if d <= 0 {
				break
			}
			if d > 100*time.Microsecond {
				time.Sleep(min(d, 50*time.Millisecond))
				if ctx.Err() != nil {
					break
				}
			} else {
				break
			}
		}
		if s.firstSend.Load() == 0 {
			s.firstSend.CompareAndSwap(0, time.Now().UnixNano())
		}
		n, err := tx.WriteBatch(f.frames)
		sentHere += uint64(n)
		s.sent.Add(uint64(n))
		if attempt > 0 {
			s.retried.Add(uint64(n))
		}
		f.frames = f.frames[:0]
		if tick != nil {
			tick()
		}
		return err
	}
	j := start
	for ; j < total; j += step {
		if len(f.frames) == 0 && ctx.Err() != nil {
			return j, nil
		}
		idx := s.sp.perm.At(s.cfg.Shard.position(j))
		if attempt > 0 && s.isAnswered(idx) {
			continue
		}
		if err := f.add(ctx, idx, attempt); err != nil {
			if ctx.Err() != nil {
				return j, nil
			}
			return j, err
		}
		// A batch goes out at once: at most a millisecond's worth of
		// probes, so a slow rate is not sent in bursts (which a target's
		// rate limit, with its small bucket, would cut).
		rate := math.Float64frombits(s.rate.Load()) / senders
		if len(f.frames) >= min(batch, max(1, int(rate/1000))) {
			if err := flush(); err != nil {
				return j, err
			}
		}
	}
	return j, flush()
}

// tick adapts the rate and reports progress; sender 0 calls it after each
// batch, the waits between passes every few milliseconds.
func (s *rawScan) tick() {
	now := time.Now()
	s.ad.update(s, now)
	if now.Sub(s.lastProgress) < s.cfg.progressEvery() {
		return
	}
	s.lastProgress = now
	if s.cfg.Progress != nil {
		s.cfg.Progress(s.stats(s.cfg.Shard.positions(s.sp.n)))
	}
}

// adapter sets the send rate: every 10 ms it compares the replies the
// kernel queued for us (counted by the kernel, so a receiver that lags
// behind is not mistaken for loss) with the probes sent in the window.
// Random loss takes a steady share and leaves the rate alone; a share
// that falls well below the best seen (a rate limit, a queue overflowing)
// or replies dropped by our own receive buffer cut the rate by a quarter,
// and steady windows raise it by half, up to MaxRate or the ceiling a
// measured rate limit set (AIMD, as TCP and nmap do, on counters instead
// of per-probe timers).
type adapter struct {
	at                   time.Time
	sent, arrived, drops uint64
	best                 float64
	minRate              float64
	maxRate              atomic.Uint64 // float64 bits
	fixed                bool
}

func (a *adapter) setCeiling(r float64) { a.maxRate.Store(math.Float64bits(r)) }

func (a *adapter) update(s *rawScan, now time.Time) {
	if a.fixed || now.Sub(a.at) < 10*time.Millisecond {
		return
	}
	packets, drops, err := s.rx.queued()
	if err != nil {
		return
	}
	sent := s.sent.Load()
	ds, da, dd := sent-a.sent, packets-a.arrived, drops-a.drops
	a.at, a.sent, a.arrived, a.drops = now, sent, packets, drops
	rate := math.Float64frombits(s.rate.Load())
	ceiling := math.Float64frombits(a.maxRate.Load())
	cut := min(rate, max(rate*0.75, a.minRate))
	if dd > 0 {
		s.rate.Store(math.Float64bits(cut))
		return
	}
	if ds < 500 {
		return
	}
	ratio := float64(da) / float64(ds)
	a.best = max(a.best*0.99, ratio)
	if a.best > 0.05 && ratio < 0.6*a.best {
		rate = cut
	} else {
		rate = min(rate*1.5, ceiling)
	}
	s.rate.Store(math.Float64bits(rate))
}

// receive reads replies until the source is stopped.
func (s *rawScan) receive(rx replySource) {
	var r reply
	typ := s.cfg.Type
	for {
		frame, now, err := rx.read()
		if err != nil {
			return
		}
		s.framesRead.Add(1)
		if !parseReply(frame, &s.local, &r) || r.dport < srcPortBase || r.proto != s.proto {
			continue
		}
		idx, ok := s.sp.index(r.src, r.sport)
		if !ok {
			continue
		}
		var st State
		var reason, service string
		if s.proto == UDP {
			c, ok := s.udpCookie(idx, r.src, r.sport, r.dport)
			switch {
			case !ok:
				continue
			case r.icmp:
				if r.icmp6 && r.quoteID != flowLabel(c) || !r.icmp6 && r.quoteID != uint32(uint16(c)) {
					continue
				}
				st, reason = Filtered, r.reason()
				if r.closed() {
					st = Closed
				}
				s.mu.Lock()
				s.icmpFrom[r.src]++
				s.mu.Unlock()
			case !udpAnswerValid(r.sport, r.payload, c):
				continue
			default:
				st, reason, service = Open, "udp-response", udpServiceFromReply(r.sport, r.payload)
			}
		} else {
			c := s.sp.key.cookie(r.src, r.sport, r.dport)
			switch {
			case r.icmp:
				if r.seq != c {
					continue
				}
				st, reason = Filtered, r.reason()
			case typ == SYN && r.flags&0x12 == 0x12 && r.ack == c+1:
				st, reason = Open, "syn-ack"
			case r.flags&0x04 == 0:
				continue
			case typ == SYN && r.ack == c+1, (typ == FIN || typ == Xmas) && r.ack == c+1, typ == NULL && r.ack == c:
				st, reason = Closed, "reset"
			case typ == ACK && r.seq == c:
				st, reason = Unfiltered, "reset"
			default:
				continue
			}
		}
		if !s.markAnswered(idx) {
			continue // a duplicate
		}
		s.lastReply.Store(now.UnixNano())
		s.firstReply.CompareAndSwap(0, now.UnixNano())
		s.nAnswered.Add(1)
		if s.attempt.Load() > 0 {
			s.recovered.Add(1)
		}
		s.byState[st].Add(1)
		interesting := st == Open || st == Filtered && typ != ACK
		if interesting {
			s.found.Add(1)
		}
		if interesting || s.cfg.All {
			if service == "" {
				service = ServiceName(s.proto, r.sport)
			}
			s.emit(Result{Addr: r.src, Port: r.sport, Proto: s.proto, State: st, Reason: reason, TTL: r.ttl, Service: service})
		}
	}
}

// udpCookie finds which attempt of probe idx a reply to our port sport
// answers (a UDP probe's source port is all that carries its identity in
// a reply), and returns that attempt's cookie.
func (s *rawScan) udpCookie(idx uint64, addr netip.Addr, port, sport uint16) (uint32, bool) {
	for a := 0; a < udpMaxSends(s.cfg.retries()); a++ {
		if s.sp.key.srcPort(idx, a) == sport {
			return s.sp.key.cookie(addr, port, sport), true
		}
	}
	return 0, false
}

// wait waits for the replies to a pass: until all of the run's probes
// are answered, or the replies have stopped coming for a quiet period of
// four round trips (at least 10 ms), at most the timeout.
func (s *rawScan) wait(ctx context.Context, probes uint64) {
	end := time.Now()
	quiet := s.quiet()
	for ctx.Err() == nil {
		if s.nAnswered.Load() >= probes {
			return
		}
		now := time.Now()
		// Replies the kernel queued that the receiver has not read yet
		// are not silence.
		if p, d, err := s.rx.queued(); err == nil && s.framesRead.Load() < p-d && now.Sub(end) < s.cfg.timeout() {
			time.Sleep(time.Millisecond)
			continue
		}
		last := end
		if lr := time.Unix(0, s.lastReply.Load()); lr.After(last) {
			last = lr
		}
		if now.Sub(last) >= quiet || now.Sub(end) >= s.cfg.timeout() {
			return
		}
		s.tick()
		time.Sleep(2 * time.Millisecond)
	}
}

// quiet is the silence after which no more replies are expected: four
// round trips, at least 10 ms, at most the timeout.
func (s *rawScan) quiet() time.Duration {
	q := 10 * time.Millisecond
	if f, r := s.firstSend.Load(), s.firstReply.Load(); f != 0 && r > f {
		q = max(q, 4*time.Duration(r-f))
	}
	return min(q, s.cfg.timeout())
}

// emitUnanswered reports the probes never answered: filtered (SYN, ACK)
// or open|filtered (FIN, NULL, Xmas, UDP), reason no-response.
func (s *rawScan) emitUnanswered(from, total uint64) {
	st := s.silentState()
	for j := from; j < total; j++ {
		idx := s.sp.perm.At(s.cfg.Shard.position(j))
		if !s.isAnswered(idx) {
			a, p := s.sp.probe(idx)
			if !s.cfg.All {
				s.found.Add(1)
			}
			s.emit(Result{Addr: a, Port: p, Proto: s.proto, State: st, Reason: "no-response", Service: ServiceName(s.proto, p)})
		}
	}
}

func (s *rawScan) stats(probes uint64) Stats {
	st := Stats{Probes: probes, Sent: s.sent.Load(), Retried: s.retried.Load(), Answered: s.nAnswered.Load(),
		Recovered: s.recovered.Load(), Found: s.found.Load(), Rate: math.Float64frombits(s.rate.Load()),
		Elapsed: time.Since(s.start), ByState: map[string]uint64{}}
	for i := range s.byState {
		if n := s.byState[i].Load(); n > 0 {
			st.ByState[State(i).String()] = n
		}
	}
	if un := probes - min(probes, st.Answered); un > 0 {
		st.ByState[s.silentState().String()] += un
	}
	return st
}
