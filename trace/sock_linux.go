//go:build linux

package trace

import (
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"sonde/rawsock"
)

// sockets sends on an IPPROTO_RAW socket and reads ICMP (and, for TCP
// probes, TCP) on raw protocol sockets, one reader goroutine each.
type sockets struct {
	ip      *rawsock.IPConn
	readers []*rawsock.ProtoConn
	// handed counts, per reader, the packets it has finished with (sent
	// to the engine or discarded): see caughtUp.
	handed  []atomic.Uint64
	protos  []byte
	v6      bool
	src     netip.Addr
	stopped atomic.Bool
	wg      sync.WaitGroup
}

// openTransport opens the sockets on the calling goroutine (and so in its
// network namespace), receivers first so no early reply is missed, and
// finds the source address of the route to dst.
func openTransport(dst netip.Addr, c *Config) (transport, netip.Addr, error) {
	src, err := source(dst, c.Interface)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	s := &sockets{v6: dst.Is6(), src: src}
	fam, icmp := rawsock.IPv4, protoICMP
	if s.v6 {
		fam, icmp = rawsock.IPv6, protoICMPv6
	}
	protos := []byte{byte(icmp)}
	if c.Method == TCP {
		protos = append(protos, protoTCP)
	}
	cfg := &rawsock.IPConfig{Device: c.Interface}
	for _, p := range protos {
		pc, err := rawsock.ListenIP(fam, int(p), cfg)
		if err != nil {
			s.close()
			return nil, netip.Addr{}, fmt.Errorf("trace: %w", err)
		}
		s.readers = append(s.readers, pc)
		s.protos = append(s.protos, p)
	}
	if s.ip, err = rawsock.OpenIP(cfg); err != nil {
		s.close()
		return nil, netip.Addr{}, fmt.Errorf("trace: %w", err)
	}
	return s, src, nil
}

// source returns the address the kernel would send from to dst: that of a
// connected UDP socket, which sends nothing (connect(2) on a datagram
// socket only picks the route). It is much cheaper than a netlink
// resolver, which matters for a tool run in loops.
func source(dst netip.Addr, dev string) (netip.Addr, error) {
	// A connected UDP socket, made with plain system calls: package net's
	// Dial would do the same through its resolver and poller, for nothing.
	var family int
	var sa unix.Sockaddr
	if dst.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: 33434, Addr: dst.As4()}
	} else {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: 33434, Addr: dst.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("trace: no route to %s: %w", dst, os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	if dev != "" {
		if err := unix.BindToDevice(fd, dev); err != nil {
			return netip.Addr{}, fmt.Errorf("trace: no route to %s: %w", dst, os.NewSyscallError("setsockopt", err))
		}
	}
	if err := unix.Connect(fd, sa); err != nil {
		return netip.Addr{}, fmt.Errorf("trace: no route to %s: %w", dst, os.NewSyscallError("connect", err))
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("trace: no route to %s: %w", dst, os.NewSyscallError("getsockname", err))
	}
	switch la := local.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(la.Addr), nil
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(la.Addr).Unmap(), nil
	}
	return netip.Addr{}, fmt.Errorf("trace: no route to %s: no local address", dst)
}

func (s *sockets) send(pkt []byte, dst netip.Addr) error { return s.ip.WriteTo(pkt, dst) }

func (s *sockets) start(out chan<- received) {
	s.handed = make([]atomic.Uint64, len(s.readers))
	for i, pc := range s.readers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.read(pc, s.protos[i], out, &s.handed[i])
		}()
	}
}

func (s *sockets) read(pc *rawsock.ProtoConn, proto byte, out chan<- received, handed *atomic.Uint64) {
	buf := make([]byte, 2048)
	for {
		n, info, err := pc.ReadFrom(buf)
		if s.stopped.Load() {
			return
		}
		if err != nil {
			if errors.Is(err, errDeadline) {
				continue
			}
			return
		}
		var rc received
		ok := false
		if s.v6 {
			ok = parseV6(buf[:n], proto, info.Src, s.src, &rc.r)
		} else {
			ok = parseV4(buf[:n], &rc.r)
		}
		if ok {
			rc.at = info.Time
			select {
			case out <- rc:
			default: // the engine is gone or far behind: a lost reply
			}
		}
		handed.Add(1)
	}
}

// caughtUp reports whether every packet that reached the sockets before
// the call has been sent to the engine or discarded: none is still in the
// kernel's queue or in a reader's hands.
func (s *sockets) caughtUp() bool {
	for i, pc := range s.readers {
		taken, queued, err := pc.Taken()
		if err != nil {
			continue // a closed socket: nothing more will come
		}
		if queued || s.handed[i].Load() < taken {
			return false
		}
	}
	return true
}

func (s *sockets) stop() {
	s.stopped.Store(true)
	for _, pc := range s.readers {
		pc.SetReadDeadline(time.Unix(1, 0))
	}
	s.wg.Wait()
}

func (s *sockets) close() error {
	var errs []error
	for _, pc := range s.readers {
		errs = append(errs, pc.Close())
	}
	if s.ip != nil {
		errs = append(errs, s.ip.Close())
	}
	return errors.Join(errs...)
}
