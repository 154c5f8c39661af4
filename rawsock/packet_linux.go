//go:build linux

package rawsock

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BatchSize is the most frames WriteBatch hands the kernel in one sendmmsg
// call; longer batches take several calls.
const BatchSize = 64

// PacketConn is an AF_PACKET socket bound to one interface or to all of
// them. See the package documentation for its privileges and concurrency.
type PacketConn struct {
	s        *sock
	ifindex  int
	proto    uint16
	cooked   bool
	sendOnly bool

	bmu     sync.Mutex // one batch at a time
	b       batchState
	batchFn func(fd uintptr) bool

	smu   sync.Mutex
	stats Stats
}

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

type batchState struct {
	hdrs  [BatchSize]mmsghdr
	iovs  [BatchSize]unix.Iovec
	addrs [BatchSize]unix.RawSockaddrLinklayer
	count int // messages in hdrs to send
	n     int
	err   unix.Errno
}

// Listen opens an AF_PACKET socket on the interface with index ifindex (0
// means every interface) configured by cfg (nil means defaults).
//
// The socket is created with no protocol, so it receives nothing until it
// is bound; the options and the filter are set first, so that no frame the
// filter rejects is ever queued.
func Listen(ifindex int, cfg *Config) (*PacketConn, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if ifindex < 0 {
		return nil, fmt.Errorf("rawsock: interface index %d: must not be negative", ifindex)
	}
	if cfg.Promisc && ifindex == 0 {
		return nil, errors.New("rawsock: promiscuous mode needs an interface, not all of them")
	}
	proto := cfg.Protocol
	if proto == 0 {
		proto = ProtoAll
	}
	typ := unix.SOCK_RAW
	if cfg.Cooked {
		typ = unix.SOCK_DGRAM
	}
	flags, bindProto := unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto
	if cfg.SendOnly {
		if ifindex == 0 {
			return nil, errors.New("rawsock: a send-only connection needs an interface, not all of them")
		}
		// Blocking, so os.NewFile leaves it out of the netpoller, and
		// bound to protocol 0, which receives nothing.
		flags, bindProto = unix.SOCK_CLOEXEC, 0
	}
	fd, err := unix.Socket(unix.AF_PACKET, typ|flags, 0)
	if err != nil {
		return nil, fmt.Errorf("rawsock: packet socket: %w", err)
	}
	if err := setupPacket(fd, ifindex, bindProto, cfg); err != nil {
		unix.Close(fd)
		return nil, err
	}
	s, err := newSock(fd, "packet")
	if err != nil {
		return nil, fmt.Errorf("rawsock: packet socket: %w", err)
	}
	c := &PacketConn{s: s, ifindex: ifindex, proto: proto, cooked: cfg.Cooked, sendOnly: cfg.SendOnly}
	c.batchFn = c.doBatch
	for i := range c.b.hdrs {
		h := &c.b.hdrs[i].hdr
		h.Iov = &c.b.iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&c.b.addrs[i]))
		h.Namelen = unix.SizeofSockaddrLinklayer
	}
	return c, nil
}

func setupPacket(fd, ifindex int, proto uint16, cfg *Config) error {
	if err := setRecvBuffer(fd, cfg.RecvBuffer); err != nil {
		return err
	}
	if err := setsockopt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS"); err != nil {
		return err
	}
	if cfg.QdiscBypass {
		if err := setsockopt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS"); err != nil {
			return err
		}
	}
	if cfg.IgnoreOutgoing {
		if err := setsockopt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING (Linux 4.20 or later)"); err != nil {
			return err
		}
	}
	if err := attachFilter(fd, cfg.Filter); err != nil {
		return err
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("rawsock: bind to interface %d: %w", ifindex, err)
	}
	if cfg.Promisc {
		mr := &unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mr); err != nil {
			return fmt.Errorf("rawsock: promiscuous mode: %w", err)
		}
	}
	return nil
}

// Ifindex returns the index of the interface the connection is bound to,
// 0 for all.
func (c *PacketConn) Ifindex() int { return c.ifindex }

// ReadFrom reads the next frame into buf (a cooked connection reads the
// packet without its link-layer header) and says where it came from. A
// frame longer than buf is truncated to len(buf). It allocates nothing.
//
// It blocks until a frame arrives, the read deadline passes (the error
// then satisfies errors.Is(err, os.ErrDeadlineExceeded)) or the connection
// is closed (net.ErrClosed).
func (c *PacketConn) ReadFrom(buf []byte) (int, PacketInfo, error) {
	if c.sendOnly {
		return 0, PacketInfo{}, errors.New("rawsock: read: the connection is send-only")
	}
	s := c.s
	s.rmu.Lock()
	defer s.rmu.Unlock()
	n, err := s.recv(buf)
	if err != nil {
		return 0, PacketInfo{}, err
	}
	sa := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&s.r.name))
	info := PacketInfo{
		Ifindex:  int(sa.Ifindex),
		PktType:  PktType(sa.Pkttype),
		Protocol: ntohs(sa.Protocol),
		Time:     s.recvTime(),
		addrLen:  min(sa.Halen, 8),
	}
	for i := range info.addrLen {
		info.addr[i] = byte(sa.Addr[i])
	}
	return n, info, nil
}

// Write sends one frame (a packet, if cooked) on the interface the
// connection is bound to.
func (c *PacketConn) Write(frame []byte) (int, error) {
	return c.WriteTo(frame, c.ifindex)
}

// WriteTo sends one frame on the interface ifindex. A raw connection sends
// frame as it is, link-layer header included. A cooked connection lets the
// kernel add the header, with an all-zero destination address (right for
// loopback and point-to-point links; use WriteToHW on Ethernet).
// It allocates nothing.
func (c *PacketConn) WriteTo(frame []byte, ifindex int) (int, error) {
	return c.WriteToHW(frame, ifindex, nil)
}

// WriteToHW is WriteTo with the link-layer destination address dst, which
// the kernel puts in the header of a cooked connection's packet.
func (c *PacketConn) WriteToHW(frame []byte, ifindex int, dst net.HardwareAddr) (int, error) {
	if ifindex <= 0 {
		return 0, errors.New("rawsock: write: no interface (the connection is bound to all: use WriteTo with an index)")
	}
	if len(dst) > 8 {
		return 0, fmt.Errorf("rawsock: write: hardware address of %d bytes", len(dst))
	}
	s := c.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	sa := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&s.w.to))
	if err := c.fillAddr(sa, frame, ifindex, dst); err != nil {
		return 0, err
	}
	s.w.tolen = unix.SizeofSockaddrLinklayer
	return s.send(frame)
}

// fillAddr fills a destination for frame.
func (c *PacketConn) fillAddr(sa *unix.RawSockaddrLinklayer, frame []byte, ifindex int, dst net.HardwareAddr) error {
	proto, err := c.frameProto(frame)
	if err != nil {
		return err
	}
	*sa = unix.RawSockaddrLinklayer{Family: unix.AF_PACKET, Protocol: htons(proto), Ifindex: int32(ifindex), Halen: uint8(len(dst))}
	for i, b := range dst {
		sa.Addr[i] = b
	}
	return nil
}

// frameProto returns the EtherType to send frame with. A raw frame carries
// its own; a cooked packet takes the connection's protocol, or, on an
// all-protocols connection, the one its IP version says.
func (c *PacketConn) frameProto(frame []byte) (uint16, error) {
	if !c.cooked {
		if len(frame) >= 14 {
			return uint16(frame[12])<<8 | uint16(frame[13]), nil
		}
		return c.proto, nil
	}
	if c.proto != ProtoAll {
		return c.proto, nil
	}
	if len(frame) > 0 {
		switch frame[0] >> 4 {
		case 4:
			return ProtoIPv4, nil
		case 6:
			return ProtoIPv6, nil
		}
	}
	return 0, errors.New("rawsock: write: cooked packet is not IP: bind the connection to its protocol")
}

// WriteBatch sends frames on the interface the connection is bound to, up
// to BatchSize per sendmmsg call, and returns how many were sent: all of
// them, or those before the error. It allocates nothing.
func (c *PacketConn) WriteBatch(frames [][]byte) (int, error) {
	if c.ifindex <= 0 {
		return 0, errors.New("rawsock: write batch: the connection is bound to all interfaces: bind it to one")
	}
	c.bmu.Lock()
	defer c.bmu.Unlock()
	b := &c.b
	sent := 0
	for sent < len(frames) {
		chunk := frames[sent:min(len(frames), sent+BatchSize)]
		for i, f := range chunk {
			if err := c.fillAddr(&b.addrs[i], f, c.ifindex, nil); err != nil {
				return sent, err
			}
			if len(f) > 0 {
				b.iovs[i].Base = &f[0]
			} else {
				b.iovs[i].Base = nil
			}
			b.iovs[i].SetLen(len(f))
		}
		b.count, b.n, b.err = len(chunk), 0, 0
		err := c.s.rc.Write(c.batchFn)
		for i := range chunk {
			b.iovs[i].Base = nil
		}
		if err != nil {
			return sent, c.s.opErr("write batch", err)
		}
		if b.err != 0 {
			return sent, c.s.opErr("write batch", b.err)
		}
		sent += b.n
	}
	return sent, nil
}

func (c *PacketConn) doBatch(fd uintptr) bool {
	b := &c.b
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(b.count), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		b.n, b.err = int(n), e
		return true
	}
}

// SetDeadline sets the read and write deadlines; a zero time means none.
func (c *PacketConn) SetDeadline(t time.Time) error { return c.s.f.SetDeadline(t) }

// SetReadDeadline sets the deadline of pending and future reads; a past
// deadline unblocks a pending ReadFrom at once.
func (c *PacketConn) SetReadDeadline(t time.Time) error { return c.s.f.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of pending and future writes.
func (c *PacketConn) SetWriteDeadline(t time.Time) error { return c.s.f.SetWriteDeadline(t) }

// Stats returns the kernel's counters since the connection was opened.
// The kernel resets its counters each time they are read, so the
// connection accumulates them.
func (c *PacketConn) Stats() (Stats, error) {
	c.smu.Lock()
	defer c.smu.Unlock()
	err := c.s.control(func(fd int) error {
		st, err := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err != nil {
			return fmt.Errorf("rawsock: statistics: %w", err)
		}
		// tp_packets already includes tp_drops (net/packet/af_packet.c).
		c.stats.Packets += uint64(st.Packets)
		c.stats.Drops += uint64(st.Drops)
		return nil
	})
	return c.stats, err
}

// Close closes the connection; a blocked ReadFrom returns net.ErrClosed.
func (c *PacketConn) Close() error { return c.s.close() }
