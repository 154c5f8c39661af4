//go:build linux

package route

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/bpf"

	"sonde/rawsock"
)

// arpReplyFilter accepts ARP replies (operation 2) only.
var arpReplyFilter = mustAssemble(
	bpf.LoadAbsolute{Off: 20, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 2, SkipFalse: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
)

// advertFilter accepts ICMPv6 neighbour advertisements (type 136) that
// follow the IPv6 header directly, as RFC 4861 ones do.
var advertFilter = mustAssemble(
	bpf.LoadAbsolute{Off: 20, Size: 1},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 58, SkipFalse: 3},
	bpf.LoadAbsolute{Off: 54, Size: 1},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 136, SkipFalse: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
)

// mustAssemble assembles a constant program; it cannot fail.
func mustAssemble(ins ...bpf.Instruction) []bpf.RawInstruction {
	p, err := bpf.Assemble(ins)
	if err != nil {
		panic("route: constant BPF program: " + err.Error())
	}
	return p
}

// waiter is a resolution in progress: lookups of the same next hop wait
// for the one that asks.
type waiter struct {
	done chan struct{} // closed when mac or err is set
	mac  net.HardwareAddr
	err  error
}

// readReplies reads c until it is closed, handing each answer to the
// resolution waiting for it. It is the only reader of c.
func (r *Resolver) readReplies(c *rawsock.PacketConn) {
	defer r.readers.Done()
	buf := make([]byte, 2048)
	for {
		n, info, err := c.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Transient (ENETDOWN while an interface goes away, ENOBUFS):
			// do not spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		addr, mac, ok := parseAnswer(buf[:n])
		if !ok {
			continue
		}
		r.mu.Lock()
		if w := r.pending[hopKey{info.Ifindex, addr}]; w != nil && w.mac == nil {
			w.mac = mac
			close(w.done)
		}
		r.mu.Unlock()
	}
}

// resolve asks hop for its link-layer address on rt's interface: ARP
// requests for IPv4, neighbour solicitations to the solicited-node
// multicast address for IPv6, each waiting Config.Timeout, repeated
// Config.Retries times. Resolutions of different next hops run at once;
// lookups of a next hop being resolved wait for that resolution.
func (r *Resolver) resolve(ctx context.Context, rt *Route, hop netip.Addr) (net.HardwareAddr, error) {
	what := "ARP"
	if hop.Is6() {
		what = "neighbour solicitation"
	}
	if r.sockErr != nil {
		return nil, fmt.Errorf("%w (%s of %s on %s)", r.sockErr, what, hop, rt.Ifname)
	}
	if !rt.Src.IsValid() || rt.Src.Is6() != hop.Is6() {
		return nil, fmt.Errorf("route: %s: no %s source address on %s to send %s from", hop, ipVersion(hop), rt.Ifname, what)
	}
	key := hopKey{rt.Ifindex, hop}
	r.mu.Lock()
	if w := r.pending[key]; w != nil {
		r.mu.Unlock()
		select {
		case <-w.done:
			return w.mac, w.err
		case <-ctx.Done():
			return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, ctx.Err())
		}
	}
	// It may have been resolved since the caller looked.
	if c, ok := r.neigh[key]; ok && time.Now().Before(c.expires) {
		r.mu.Unlock()
		return c.v, nil
	}
	w := &waiter{done: make(chan struct{})}
	r.pending[key] = w
	r.mu.Unlock()

	mac, err := r.ask(ctx, rt, hop, what, w)
	r.mu.Lock()
	delete(r.pending, key)
	if err == nil && mac != nil {
		if ttl := r.cfg.ttl(); ttl > 0 {
			r.neigh[key] = cached[net.HardwareAddr]{mac, time.Now().Add(ttl)}
		}
	}
	if w.mac == nil {
		// Those waiting get the same outcome (the answer never came).
		w.err = err
		close(w.done)
	}
	r.mu.Unlock()
	return mac, err
}

// ask sends the requests for hop and waits for w to be answered.
func (r *Resolver) ask(ctx context.Context, rt *Route, hop netip.Addr, what string, w *waiter) (net.HardwareAddr, error) {
	req, err := request(rt, hop)
	if err != nil {
		return nil, err
	}
	c := r.arp
	if hop.Is6() {
		c = r.nd
	}
	timer := time.NewTimer(r.cfg.timeout())
	defer timer.Stop()
	for range r.cfg.attempts() {
		r.mu.Lock()
		r.stats.Requests++
		r.mu.Unlock()
		if _, err := c.WriteTo(req, rt.Ifindex); err != nil {
			return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, err)
		}
		timer.Reset(r.cfg.timeout())
		select {
		case <-w.done:
			return w.mac, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, ctx.Err())
		case <-timer.C:
		}
	}
	r.mu.Lock()
	r.stats.Unanswered++
	r.mu.Unlock()
	return nil, fmt.Errorf("route: %s: %w to %s on %s", hop, ErrNoAnswer, what, rt.Ifname)
}
