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

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
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
	return nil, fmt.Errorf("route: %s: %w to %s on %s", hop, ErrNoAnswer, what, rt.Ifname)
}

func ipVersion(a netip.Addr) string {
	if a.Is6() {
		return "IPv6"
	}
	return "IPv4"
}

// request builds the ARP request or neighbour solicitation for hop.
func request(rt *Route, hop netip.Addr) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if hop.Is4() {
		eth := &layers.Ethernet{SrcMAC: rt.SrcMAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
		arp := &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: rt.SrcMAC, SourceProtAddress: rt.Src.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: hop.AsSlice(),
		}
		err = gopacket.SerializeLayers(buf, opts, eth, arp)
	} else {
		// RFC 4861 section 7.2.2: to the solicited-node multicast address
		// (RFC 4291 section 2.7.1), hop limit 255, with our link-layer
		// address so the neighbour can answer at once.
		b := hop.As16()
		snm := netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
		mac, _ := multicastMAC(snm)
		eth := &layers.Ethernet{SrcMAC: rt.SrcMAC, DstMAC: mac, EthernetType: layers.EthernetTypeIPv6}
		ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: rt.Src.AsSlice(), DstIP: snm.AsSlice()}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
		if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, fmt.Errorf("route: neighbour solicitation: %w", err)
		}
		ns := &layers.ICMPv6NeighborSolicitation{TargetAddress: hop.AsSlice(),
			Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: rt.SrcMAC}}}
		err = gopacket.SerializeLayers(buf, opts, eth, ip, icmp, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("route: building the request for %s: %w", hop, err)
	}
	return buf.Bytes(), nil
}

// answer returns the link-layer address of hop if frame is its ARP reply
// or neighbour advertisement.
func answer(frame []byte, hop netip.Addr) (net.HardwareAddr, bool) {
	if len(frame) < 14 {
		return nil, false
	}
	switch uint16(frame[12])<<8 | uint16(frame[13]) {
	case rawsock.ProtoARP:
		a := frame[14:]
		// htype 1, ptype IPv4, hlen 6, plen 4, op 2 (RFC 826)
		if !hop.Is4() || len(a) < 28 || a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0 || a[4] != 6 || a[5] != 4 || a[7] != 2 {
			return nil, false
		}
		if netip.AddrFrom4([4]byte(a[14:18])) != hop {
			return nil, false
		}
		return net.HardwareAddr(append([]byte(nil), a[8:14]...)), true
	case rawsock.ProtoIPv6:
		p := frame[14:]
		if !hop.Is6() || len(p) < 40+24 || p[6] != 58 || p[7] != 255 {
			return nil, false
		}
		m := p[40:]
		if m[0] != 136 || m[1] != 0 || netip.AddrFrom16([16]byte(m[8:24])) != hop {
			return nil, false
		}
		// The target link-layer address option (RFC 4861 section 4.6.1),
		// else the frame's source.
		for o := m[24:]; len(o) >= 8 && o[1] > 0 && int(o[1])*8 <= len(o); o = o[int(o[1])*8:] {
			if o[0] == 2 && o[1] == 1 {
				return net.HardwareAddr(append([]byte(nil), o[2:8]...)), true
			}
		}
		return net.HardwareAddr(append([]byte(nil), frame[6:12]...)), true
	}
	return nil, false
}
