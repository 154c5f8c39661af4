package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"sonde/packet"
)

// ErrBadTemplate is wrapped when a template does not fit the call: an
// Ethernet frame given to SR, or an IP packet without Ethernet given to SRP.
var ErrBadTemplate = errors.New("probe: bad template")

// startsWithEther reports whether t's packets start with an Ethernet header.
func startsWithEther(t *packet.Template) bool {
	if t.Count() == 0 {
		return false
	}
	ls := t.At(0).Layers()
	if len(ls) == 0 {
		return false
	}
	_, ok := ls[0].(*layers.Ethernet)
	return ok
}

// isARPRequest reports whether p is an ARP who-has, which goes to the
// Ethernet broadcast address unless the expression says otherwise.
func isARPRequest(p *packet.Packet) bool {
	for _, l := range p.Layers() {
		if a, ok := l.(*layers.ARP); ok {
			return a.Operation == layers.ARPRequest
		}
	}
	return false
}

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// SR sends the packets of t at layer 3 — the kernel routes them and adds
// the link-layer header — and matches the replies, as Scapy's sr does.
// Source addresses the expression leaves unset are taken from the route to
// each destination. On cancellation it returns what it has, with ctx's
// error.
func SR(ctx context.Context, t *packet.Template, cfg *Config) (*Result, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if startsWithEther(t) {
		return nil, fmt.Errorf("%w: the packets start with Ether(): use srp", ErrBadTemplate)
	}
	r := newRouter(ctx)
	defer r.close()
	e, err := newEngine(t, cfg, packet.LinkRaw, func(p *packet.Packet) error {
		if !p.NeedsFill() {
			return nil
		}
		rt, err := r.lookup(p.Dst(), false)
		if err != nil {
			return err
		}
		p.Fill(rt.src, nil, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	tr, err := openL3(cfg)
	if err != nil {
		return nil, err
	}
	defer tr.close()
	e.tr = tr
	return e.run(ctx)
}

// SR1 is SR that returns the first answer (nil if none) along with the
// whole result.
func SR1(ctx context.Context, t *packet.Template, cfg *Config) (*Pair, *Result, error) {
	res, err := SR(ctx, t, cfg)
	return first(res), res, err
}

// SRP sends the frames of t at layer 2, on one interface, and matches the
// replies, as Scapy's srp does. Ethernet addresses the expression leaves
// unset are filled from the route to the first destination: the
// interface's own address as source, the next hop's as destination (the
// broadcast address for an ARP request).
func SRP(ctx context.Context, t *packet.Template, cfg *Config) (*Result, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if !startsWithEther(t) {
		return nil, fmt.Errorf("%w: srp sends Ethernet frames: start the expression with Ether()", ErrBadTemplate)
	}
	r := newRouter(ctx)
	defer r.close()
	var ifindex int
	e, err := newEngine(t, cfg, packet.LinkEthernet, func(p *packet.Packet) error {
		arp := isARPRequest(p)
		rt, err := r.lookup(p.Dst(), !arp && p.NeedsFill())
		if err != nil {
			return err
		}
		if ifindex == 0 {
			ifindex = rt.ifindex
		}
		dstMAC := rt.dstMAC
		if arp {
			dstMAC = broadcast
		}
		p.Fill(rt.src, rt.srcMAC, dstMAC)
		return nil
	})
	if err != nil {
		return nil, err
	}
	tr, err := openL2(ifindex, cfg)
	if err != nil {
		return nil, err
	}
	defer tr.close()
	e.tr = tr
	return e.run(ctx)
}

// SRP1 is SRP that returns the first answer (nil if none) along with the
// whole result.
func SRP1(ctx context.Context, t *packet.Template, cfg *Config) (*Pair, *Result, error) {
	res, err := SRP(ctx, t, cfg)
	return first(res), res, err
}

func first(res *Result) *Pair {
	if res == nil || len(res.Answered) == 0 {
		return nil
	}
	return &res.Answered[0]
}

// Send sends the packets of t without waiting for answers, as Scapy's send
// (layer 3) and sendp (layer 2, when the packets start with Ether()) do.
func Send(ctx context.Context, t *packet.Template, cfg *Config) (Stats, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	cfg2 := *cfg
	cfg2.Timeout = 1 // nothing to wait for
	var res *Result
	var err error
	if startsWithEther(t) {
		res, err = SRP(ctx, t, &cfg2)
	} else {
		res, err = SR(ctx, t, &cfg2)
	}
	if res == nil {
		return Stats{}, err
	}
	return res.Stats, err
}

// hop is what a packet needs from the route to its destination.
type hop struct {
	src            netip.Addr
	ifindex        int
	srcMAC, dstMAC net.HardwareAddr
}
