//go:build linux

package route

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/bpf"
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

// resolve asks hop for its link-layer address on rt's interface: ARP
// requests for IPv4, neighbour solicitations to the solicited-node
// multicast address for IPv6, each waiting Config.Timeout, repeated
// Config.Retries times.
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
	req, err := request(rt, hop)
	if err != nil {
		return nil, err
	}
	c := r.arp
	if hop.Is6() {
		c = r.nd
	}
	r.resolving.Lock()
	defer r.resolving.Unlock()
	// Another lookup may have resolved hop while this one waited.
	r.mu.Lock()
	cached, ok := r.neigh[hopKey{rt.Ifindex, hop}]
	r.mu.Unlock()
	if ok && time.Now().Before(cached.expires) {
		return cached.v, nil
	}
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for range r.cfg.attempts() {
		r.mu.Lock()
		r.stats.Requests++
		r.mu.Unlock()
		if _, err := c.WriteTo(req, rt.Ifindex); err != nil {
			return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, err)
		}
		deadline := time.Now().Add(r.cfg.timeout())
		ctxBound := false
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline, ctxBound = d, true
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, ctx.Err())
		}
		c.SetReadDeadline(deadline)
		for {
			n, info, err := c.ReadFrom(r.buf)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, ctx.Err())
				}
				if errors.Is(err, os.ErrDeadlineExceeded) {
					if ctxBound {
						// ctx's deadline, though its timer may not have fired yet.
						return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, context.DeadlineExceeded)
					}
					break
				}
				return nil, fmt.Errorf("route: %s of %s on %s: %w", what, hop, rt.Ifname, err)
			}
			if info.Ifindex != rt.Ifindex {
				continue
			}
			if mac, ok := answer(r.buf[:n], hop); ok {
				return mac, nil
			}
		}
	}
	r.mu.Lock()
	r.stats.Unanswered++
	r.mu.Unlock()
	return nil, fmt.Errorf("route: %s: %w to %s on %s", hop, ErrNoAnswer, what, rt.Ifname)
}
