package probe

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket"

	"sonde/packet"
)

// transport is what the engine sends on and reads from: raw sockets in
// production, an in-memory network in tests.
type transport interface {
	// send puts one request on the wire towards dst.
	send(data []byte, dst netip.Addr) error
	// recv reads the next frame into buf; after stop it returns errStopped.
	recv(buf []byte) (n int, link packet.LinkType, at time.Time, err error)
	// stop makes recv return errStopped, now and forever.
	stop()
	// drops returns the frames the kernel dropped so far.
	drops() uint64
	close() error
}

var errStopped = errors.New("probe: stopped")

// request is one packet of the template and what answered it.
type request struct {
	sent    Sent
	dst     netip.Addr
	key     packet.MatchKey
	answers []Received
}

// engine runs one call: the pending table, the sender and the reader.
type engine struct {
	cfg *Config
	tr  transport

	mu      sync.Mutex
	reqs    []*request
	pending map[packet.MatchKey][]*request
	left    int           // requests without an answer
	allDone chan struct{} // closed when left reaches zero
	stats   Stats
}

// build serialises every packet of t with fill applied, and registers it.
// link says how the serialised requests start (LinkRaw for SR, LinkEthernet
// for SRP).
func newEngine(t *packet.Template, cfg *Config, link packet.LinkType, fill func(*packet.Packet) error) (*engine, error) {
	if n := t.Count(); n > cfg.maxPackets() {
		return nil, tooMany(n, cfg.maxPackets())
	}
	e := &engine{cfg: cfg, pending: map[packet.MatchKey][]*request{}, allDone: make(chan struct{})}
	buf := gopacket.NewSerializeBuffer()
	dec := packet.NewDecoder(link)
	for p := range t.All() {
		if err := fill(p); err != nil {
			return nil, err
		}
		var err error
		if link == packet.LinkEthernet {
			err = p.Serialize(buf)
		} else {
			err = p.SerializeIP(buf)
		}
		if err != nil {
			return nil, err
		}
		r := &request{sent: Sent{Index: p.Index(), Data: slices.Clone(buf.Bytes()), Link: link}, dst: p.Dst()}
		dec.Decode(r.sent.Data)
		key, ok := dec.RequestKey()
		if !ok {
			// Unmatchable (no IP, no ARP): sent, never answered.
			key = packet.MatchKey{}
		}
		r.key = key
		e.reqs = append(e.reqs, r)
		e.pending[key] = append(e.pending[key], r)
	}
	e.distinguish(link)
	e.left = len(e.reqs)
	if e.left == 0 {
		close(e.allDone)
	}
	return e, nil
}

// run sends, reads and retries until every request is answered (without
// Multi), the last round's timeout passes, or ctx is done. It always stops
// and waits for the reader before it returns.
func (e *engine) run(ctx context.Context) (*Result, error) {
	start := time.Now()
	readErr := make(chan error, 1)
	go func() { readErr <- e.read() }()
	sendErr := e.sendRounds(ctx)
	e.tr.stop()
	rerr := <-readErr
	res := e.result()
	res.Stats.Elapsed = time.Since(start)
	res.Stats.Drops = e.tr.drops()
	return res, errors.Join(sendErr, rerr, ctx.Err())
}

func (e *engine) sendRounds(ctx context.Context) error {
	for round := 0; round <= e.cfg.Retry; round++ {
		todo := e.unanswered()
		if len(todo) == 0 {
			return nil
		}
		for i, r := range todo {
			if i > 0 && e.cfg.Inter > 0 && !sleep(ctx, e.cfg.Inter) {
				return nil
			}
			if ctx.Err() != nil {
				return nil
			}
			e.mu.Lock()
			answered := len(r.answers) > 0 && !e.cfg.Multi
			r.sent.Time = time.Now()
			e.mu.Unlock()
			if answered {
				continue // answered while this round was being sent
			}
			if err := e.tr.send(r.sent.Data, r.dst); err != nil {
				return err
			}
			e.mu.Lock()
			e.stats.Sent++
			if round > 0 {
				e.stats.Retried++
			}
			e.mu.Unlock()
		}
		wait := time.NewTimer(e.cfg.timeout())
		done := e.allDone
		if e.cfg.Multi {
			done = nil // wait the whole timeout for more answers
		}
		select {
		case <-ctx.Done():
		case <-done:
		case <-wait.C:
		}
		wait.Stop()
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

func (e *engine) unanswered() []*request {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*request
	for _, r := range e.reqs {
		if len(r.answers) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// read is the reader goroutine: one buffer and one decoder per link type,
// reused for every frame; only a matched answer allocates.
func (e *engine) read() error {
	buf := make([]byte, 1<<16)
	decoders := map[packet.LinkType]*packet.Decoder{}
	var reqDec *packet.Decoder
	for {
		n, link, at, err := e.tr.recv(buf)
		if errors.Is(err, errStopped) {
			return nil
		}
		if err != nil {
			return err
		}
		d := decoders[link]
		if d == nil {
			d = packet.NewDecoder(link)
			decoders[link] = d
		}
		d.Decode(buf[:n]) // a partial decode still has the layers it needs
		key, ok := d.ReplyKey()
		e.mu.Lock()
		e.stats.Received++
		if ok {
			if reqDec == nil && len(e.reqs) > 0 {
				reqDec = packet.NewDecoder(e.reqs[0].sent.Link)
			}
			e.match(key, d, reqDec, buf[:n], link, at)
		}
		e.mu.Unlock()
	}
}

// match records the frame as an answer to the first request it answers,
// preferring one not yet answered. e.mu is held.
func (e *engine) match(key packet.MatchKey, reply, reqDec *packet.Decoder, data []byte, link packet.LinkType, at time.Time) {
	var hit *request
	for _, r := range e.pending[key] {
		if r.sent.Time.IsZero() {
			continue // not sent yet: this cannot be its answer
		}
		reqDec.Decode(r.sent.Data)
		if !packet.Answers(reply, reqDec) {
			continue
		}
		if hit == nil || len(hit.answers) > 0 && len(r.answers) == 0 {
			hit = r
		}
		if len(r.answers) == 0 {
			break
		}
	}
	if hit == nil {
		return
	}
	if at.IsZero() {
		at = time.Now()
	}
	rec := Received{Data: slices.Clone(data), Link: link, Time: at}
	if len(hit.answers) > 0 {
		e.stats.Duplicates++
		if !e.cfg.Multi {
			return
		}
	} else {
		e.stats.Answered++
		e.left--
		if e.left == 0 {
			close(e.allDone)
		}
	}
	hit.answers = append(hit.answers, rec)
	if e.cfg.OnAnswer != nil {
		e.cfg.OnAnswer(Pair{Sent: hit.sent, Received: rec})
	}
}

// result lists the answered pairs and the unanswered requests, in the
// order of the template.
func (e *engine) result() *Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := &Result{Stats: e.stats}
	for _, r := range e.reqs {
		if len(r.answers) == 0 {
			res.Unanswered = append(res.Unanswered, r.sent)
			continue
		}
		for _, a := range r.answers {
			res.Answered = append(res.Answered, Pair{Sent: r.sent, Received: a})
		}
	}
	res.Stats.Unanswered = uint64(len(res.Unanswered))
	return res
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// distinguish gives distinct IPv4 identification numbers to requests that
// would otherwise be indistinguishable: same match key and same
// identification, as the probes of IP(ttl=(1,10))/UDP() are. An ICMP error
// quotes the header it answers, and the identification is the only field
// of that quote that can tell such probes apart (the quoted TTL is 1 for
// every time-exceeded). Scapy's traceroute picks random ids for the same
// reason. Requests given distinct ids already are left alone.
func (e *engine) distinguish(link packet.LinkType) {
	off := 0
	if link == packet.LinkEthernet {
		off = 14
	}
	ipID := func(r *request) (uint16, bool) {
		d := r.sent.Data
		if len(d) < off+20 || d[off]>>4 != 4 || link == packet.LinkEthernet && (d[12] != 0x08 || d[13] != 0x00) {
			return 0, false
		}
		return uint16(d[off+4])<<8 | uint16(d[off+5]), true
	}
	for _, group := range e.pending {
		if len(group) < 2 {
			continue
		}
		first, ok := ipID(group[0])
		same := ok
		for _, r := range group[1:] {
			if id, ok := ipID(r); !ok || id != first {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		for i, r := range group {
			setIPv4ID(r.sent.Data[off:], first+uint16(i))
		}
	}
}

// setIPv4ID rewrites an IPv4 header's identification and checksum.
func setIPv4ID(h []byte, id uint16) {
	h[4], h[5] = byte(id>>8), byte(id)
	h[10], h[11] = 0, 0
	ihl := int(h[0]&0xf) * 4
	if ihl < 20 || ihl > len(h) {
		return
	}
	cs := packet.Checksum(0, h[:ihl])
	h[10], h[11] = byte(cs>>8), byte(cs)
}
