//go:build linux

package rawsock

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IPConn sends whole IP packets, headers included, through the kernel's
// routing: an AF_INET raw socket with IP_HDRINCL (IPPROTO_RAW) for IPv4
// and an AF_INET6 one with IPPROTO_RAW, which on Linux also takes the
// whole IPv6 header. It never receives.
type IPConn struct {
	s4, s6 *sock // s6 is nil when the host has no IPv6
	dev    string
	devIdx uint32
}

// OpenIP opens raw sockets that send IPv4 and IPv6 packets, configured by
// cfg (nil means defaults). A host without IPv6 gets a connection that
// sends IPv4 only.
func OpenIP(cfg *IPConfig) (*IPConn, error) {
	if cfg == nil {
		cfg = &IPConfig{}
	}
	c := &IPConn{dev: cfg.Device}
	if cfg.Device != "" {
		ifi, err := net.InterfaceByName(cfg.Device)
		if err != nil {
			return nil, fmt.Errorf("rawsock: device %q: %w", cfg.Device, err)
		}
		c.devIdx = uint32(ifi.Index)
	}
	var err error
	if c.s4, err = openRaw(unix.AF_INET, unix.IPPROTO_RAW, cfg, false); err != nil {
		return nil, err
	}
	if c.s6, err = openRaw(unix.AF_INET6, unix.IPPROTO_RAW, cfg, false); err != nil {
		if !errors.Is(err, unix.EAFNOSUPPORT) {
			c.s4.close()
			return nil, err
		}
		c.s6 = nil
	}
	return c, nil
}

// openRaw opens a non-blocking raw IP socket of proto.
func openRaw(family, proto int, cfg *IPConfig, recv bool) (*sock, error) {
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if err != nil {
		name := "ip4"
		if family == unix.AF_INET6 {
			name = "ip6"
		}
		return nil, fmt.Errorf("rawsock: raw %s socket: %w", name, err)
	}
	if err := setupRaw(fd, cfg, recv); err != nil {
		unix.Close(fd)
		return nil, err
	}
	s, err := newSock(fd, "raw")
	if err != nil {
		return nil, fmt.Errorf("rawsock: raw socket: %w", err)
	}
	return s, nil
}

func setupRaw(fd int, cfg *IPConfig, recv bool) error {
	if cfg.Device != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, cfg.Device); err != nil {
			return fmt.Errorf("rawsock: bind to device %s: %w", cfg.Device, err)
		}
	}
	if !recv {
		return nil
	}
	if err := setRecvBuffer(fd, cfg.RecvBuffer); err != nil {
		return err
	}
	if err := setsockopt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS"); err != nil {
		return err
	}
	if len(cfg.Filter) == 0 {
		return nil
	}
	if err := attachFilter(fd, cfg.Filter); err != nil {
		return err
	}
	// A raw IP socket receives from the moment it exists: drop what
	// arrived before the filter, so that every packet read passed it.
	var b [1]byte
	for {
		if _, _, err := unix.Recvfrom(fd, b[:], unix.MSG_DONTWAIT|unix.MSG_TRUNC); err != nil {
			return nil
		}
	}
}

// WriteTo sends pkt, a whole IPv4 or IPv6 packet, towards dst (the route
// to dst picks the interface and next hop; normally dst is the packet's
// destination). For IPv4 the kernel fills in the total length and header
// checksum, and the source address and ID when they are zero (raw(7)); an
// IPv6 packet is sent as it is. It allocates nothing unless dst is a
// link-local address with a zone name.
func (c *IPConn) WriteTo(pkt []byte, dst netip.Addr) error {
	if !dst.IsValid() {
		return errors.New("rawsock: write: no destination address")
	}
	dst = dst.Unmap()
	if len(pkt) > 0 && (pkt[0]>>4 == 6) != dst.Is6() {
		return fmt.Errorf("rawsock: write: IPv%d packet to %s", pkt[0]>>4, dst)
	}
	s := c.s4
	if dst.Is6() {
		if c.s6 == nil {
			return errors.New("rawsock: write: this host has no IPv6")
		}
		s = c.s6
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if dst.Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.w.to))
		*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.As4()}
		s.w.tolen = unix.SizeofSockaddrInet4
	} else {
		scope, err := c.scope(dst)
		if err != nil {
			return err
		}
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.w.to))
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: dst.As16(), Scope_id: scope}
		s.w.tolen = unix.SizeofSockaddrInet6
	}
	_, err := s.send(pkt)
	return err
}

// scope returns the interface a link-scoped IPv6 destination is on: its
// zone, or else the configured device.
func (c *IPConn) scope(dst netip.Addr) (uint32, error) {
	if !dst.IsLinkLocalUnicast() && !dst.IsLinkLocalMulticast() && !dst.IsInterfaceLocalMulticast() {
		return 0, nil
	}
	z := dst.Zone()
	if z == "" {
		if c.devIdx == 0 {
			return 0, fmt.Errorf("rawsock: write: link-local %s needs a zone or a device", dst)
		}
		return c.devIdx, nil
	}
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return 0, fmt.Errorf("rawsock: write: zone of %s: %w", dst, err)
	}
	return uint32(ifi.Index), nil
}

// Close closes the sockets.
func (c *IPConn) Close() error {
	err := c.s4.close()
	if c.s6 != nil {
		err = errors.Join(err, c.s6.close())
	}
	return err
}

// ProtoConn is a raw IP socket of one protocol: it receives a copy of every
// packet of that protocol the host receives (ICMP echo replies and errors,
// TCP segments, UDP datagrams), alongside the kernel's own handling.
type ProtoConn struct {
	s      *sock
	family Family
}

// ListenIP opens a raw socket receiving the packets of the IP protocol
// proto (1 for ICMP, 6 for TCP, 17 for UDP, 58 for ICMPv6) of family f,
// configured by cfg (nil means defaults).
func ListenIP(f Family, proto int, cfg *IPConfig) (*ProtoConn, error) {
	if cfg == nil {
		cfg = &IPConfig{}
	}
	if proto <= 0 || proto >= 255 {
		return nil, fmt.Errorf("rawsock: protocol %d: want 1 to 254", proto)
	}
	af := unix.AF_INET
	switch f {
	case IPv4:
	case IPv6:
		af = unix.AF_INET6
	default:
		return nil, fmt.Errorf("rawsock: family %d: want IPv4 or IPv6", int(f))
	}
	s, err := openRaw(af, proto, cfg, true)
	if err != nil {
		return nil, err
	}
	return &ProtoConn{s: s, family: f}, nil
}

// ReadFrom reads the next packet into buf: for IPv4 the whole packet from
// its IP header, for IPv6 the payload after the IPv6 header (as raw(7) and
// ipv6(7) deliver them). It allocates nothing; see PacketConn.ReadFrom
// for deadlines and Close.
func (c *ProtoConn) ReadFrom(buf []byte) (int, IPInfo, error) {
	s := c.s
	s.rmu.Lock()
	defer s.rmu.Unlock()
	n, err := s.recv(buf)
	if err != nil {
		return 0, IPInfo{}, err
	}
	info := IPInfo{Time: s.recvTime()}
	switch s.r.name.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.r.name))
		info.Src = netip.AddrFrom4(sa.Addr)
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.r.name))
		info.Src = netip.AddrFrom16(sa.Addr)
	}
	return n, info, nil
}

// Taken returns how many packets ReadFrom has taken from the socket and
// whether the kernel holds more, observed at one instant: every packet that
// reached the socket before the call is counted or still queued. A reader
// that hands packets on to another goroutine can compare the count with
// what it has handed on to tell the other it has caught up.
func (c *ProtoConn) Taken() (taken uint64, queued bool, err error) {
	taken, queued, err = c.s.queued()
	if err != nil {
		err = fmt.Errorf("rawsock: SIOCINQ: %w", err)
	}
	return taken, queued, err
}

// Family returns the connection's IP family.
func (c *ProtoConn) Family() Family { return c.family }

// SetDeadline sets the read and write deadlines; a zero time means none.
func (c *ProtoConn) SetDeadline(t time.Time) error { return c.s.f.SetDeadline(t) }

// SetReadDeadline sets the deadline of pending and future reads.
func (c *ProtoConn) SetReadDeadline(t time.Time) error { return c.s.f.SetReadDeadline(t) }

// Close closes the connection; a blocked ReadFrom returns net.ErrClosed.
func (c *ProtoConn) Close() error { return c.s.close() }
