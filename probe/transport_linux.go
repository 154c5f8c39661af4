package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"sonde/packet"
	"sonde/rawsock"
)

// sockets is a receiving AF_PACKET socket, shared by both transports.
type sockets struct {
	pc      *rawsock.PacketConn
	stopped atomic.Bool
	link    packet.LinkType
}

func (s *sockets) recv(buf []byte) (int, packet.LinkType, time.Time, error) {
	for {
		n, info, err := s.pc.ReadFrom(buf)
		if s.stopped.Load() {
			return 0, 0, time.Time{}, errStopped
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return 0, 0, time.Time{}, fmt.Errorf("probe: reading: %w", err)
		}
		if info.PktType == rawsock.PktOutgoing {
			continue // our own requests, and the host's other traffic
		}
		if s.link == packet.LinkRaw && info.Protocol != rawsock.ProtoIPv4 && info.Protocol != rawsock.ProtoIPv6 {
			continue
		}
		return n, s.link, info.Time, nil
	}
}

func (s *sockets) stop() {
	s.stopped.Store(true)
	s.pc.SetReadDeadline(time.Unix(1, 0)) // unblocks the reader at once
}

func (s *sockets) drops() uint64 {
	st, err := s.pc.Stats()
	if err != nil {
		return 0
	}
	return st.Drops
}

// l3 sends whole IP packets on raw IP sockets and reads replies, without
// their link-layer headers, on a cooked AF_PACKET socket.
type l3 struct {
	sockets
	ip *rawsock.IPConn
}

// openL3 opens the sockets of SR on the calling goroutine (and so in its
// network namespace). The receiving socket is open before anything is
// sent, so no early answer is missed.
func openL3(cfg *Config) (transport, error) {
	ifindex := 0
	if cfg.Interface != "" {
		ifc, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return nil, fmt.Errorf("probe: interface %q: %w", cfg.Interface, err)
		}
		ifindex = ifc.Index
	}
	pc, err := rawsock.Listen(ifindex, &rawsock.Config{Cooked: true, IgnoreOutgoing: true})
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	t := &l3{sockets: sockets{pc: pc, link: packet.LinkRaw}}
	ipcfg := &rawsock.IPConfig{Device: cfg.Interface}
	if t.ip, err = rawsock.OpenIP(ipcfg); err != nil {
		pc.Close()
		return nil, fmt.Errorf("probe: %w", err)
	}
	return t, nil
}

func (t *l3) send(data []byte, dst netip.Addr) error {
	if err := t.ip.WriteTo(data, dst); err != nil {
		return fmt.Errorf("probe: sending to %s: %w", dst, err)
	}
	return nil
}

func (t *l3) close() error {
	return errors.Join(t.pc.Close(), t.ip.Close())
}

// l2 sends and reads whole Ethernet frames on one interface.
type l2 struct {
	sockets
	ifindex int
}

func openL2(ifindex int, cfg *Config) (transport, error) {
	if cfg.Interface != "" {
		ifc, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return nil, fmt.Errorf("probe: interface %q: %w", cfg.Interface, err)
		}
		ifindex = ifc.Index
	}
	if ifindex == 0 {
		return nil, errors.New("probe: no interface to send on (give one)")
	}
	pc, err := rawsock.Listen(ifindex, &rawsock.Config{IgnoreOutgoing: true})
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return &l2{sockets: sockets{pc: pc, link: packet.LinkEthernet}, ifindex: ifindex}, nil
}

func (t *l2) send(data []byte, _ netip.Addr) error {
	if _, err := t.pc.WriteTo(data, t.ifindex); err != nil {
		return fmt.Errorf("probe: sending on interface %d: %w", t.ifindex, err)
	}
	return nil
}

func (t *l2) close() error { return t.pc.Close() }
