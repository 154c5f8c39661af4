//go:build linux

package rawsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// sock is a non-blocking socket registered with Go's netpoller (through
// os.NewFile), so reads and writes park the goroutine and honour deadlines
// and Close. It keeps one preallocated msghdr, iovec, address and control
// buffer for reads and one address for writes, and the functions handed to
// RawConn are method values built once: a read or a write allocates nothing.
type sock struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool

	rmu    sync.Mutex // one reader at a time: the read state below is shared
	r      recvState
	readFn func(fd uintptr) bool

	// tmu makes a read and its count one step, which queued observes
	// whole (see ProtoConn.Taken).
	tmu   sync.Mutex
	taken uint64

	wmu     sync.Mutex // one writer at a time
	w       sendState
	writeFn func(fd uintptr) bool
}

type recvState struct {
	msg  unix.Msghdr
	iov  unix.Iovec
	_    [0]uint64 // align name and oob for the casts below
	name unix.RawSockaddrAny
	_    [0]uint64
	oob  [128]byte
	n    int
	err  syscall.Errno
}

type sendState struct {
	_     [0]uint64
	to    unix.RawSockaddrAny
	tolen uint32
	buf   []byte
	n     int
	err   syscall.Errno
}

// newSock wraps the non-blocking socket fd. On failure fd is closed.
func newSock(fd int, name string) (*sock, error) {
	s := &sock{f: os.NewFile(uintptr(fd), name)}
	rc, err := s.f.SyscallConn()
	if err != nil {
		s.f.Close()
		return nil, err
	}
	s.rc = rc
	s.r.msg.Name = (*byte)(unsafe.Pointer(&s.r.name))
	s.r.msg.Iov = &s.r.iov
	s.r.msg.SetIovlen(1)
	s.r.msg.Control = &s.r.oob[0]
	s.readFn = s.doRecv
	s.writeFn = s.doSend
	return s, nil
}

func (s *sock) doRecv(fd uintptr) bool {
	r := &s.r
	r.msg.Namelen = unix.SizeofSockaddrAny
	r.msg.SetControllen(len(r.oob))
	r.msg.Flags = 0
	s.tmu.Lock()
	defer s.tmu.Unlock()
	for {
		n, _, e := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		case 0:
			s.taken++
		}
		r.n, r.err = int(n), e
		return true
	}
}

// queued returns how many packets reads have taken and whether the kernel
// holds more, at one instant: no read is half counted.
func (s *sock) queued() (taken uint64, more bool, err error) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	var next int
	err = s.control(func(fd int) error {
		var err error
		next, err = unix.IoctlGetInt(fd, unix.SIOCINQ)
		return err
	})
	return s.taken, next > 0, err
}

func (s *sock) doSend(fd uintptr) bool {
	w := &s.w
	var p unsafe.Pointer
	if len(w.buf) > 0 {
		p = unsafe.Pointer(&w.buf[0])
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDTO, fd, uintptr(p), uintptr(len(w.buf)), 0,
			uintptr(unsafe.Pointer(&w.to)), uintptr(w.tolen))
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		// ENOBUFS (a full device queue) is reported, not waited on: the
		// netpoller would not say when the queue drains.
		w.n, w.err = int(n), e
		return true
	}
}

// recv reads one packet into buf; the caller holds rmu and then reads
// s.r.name, s.r.oob and s.r.msg.
func (s *sock) recv(buf []byte) (int, error) {
	if len(buf) > 0 {
		s.r.iov.Base = &buf[0]
	} else {
		s.r.iov.Base = nil
	}
	s.r.iov.SetLen(len(buf))
	err := s.rc.Read(s.readFn)
	s.r.iov.Base = nil // do not keep the caller's buffer alive
	if err != nil {
		return 0, s.opErr("read", err)
	}
	if s.r.err != 0 {
		return 0, s.opErr("read", s.r.err)
	}
	return min(s.r.n, len(buf)), nil
}

// send writes buf to the address in s.w.to; the caller holds wmu.
func (s *sock) send(buf []byte) (int, error) {
	s.w.buf = buf
	s.w.err = 0
	err := s.rc.Write(s.writeFn)
	s.w.buf = nil
	if err != nil {
		return 0, s.opErr("write", err)
	}
	if s.w.err != 0 {
		return 0, s.opErr("write", s.w.err)
	}
	return s.w.n, nil
}

// opErr wraps err from op; after Close it is net.ErrClosed.
func (s *sock) opErr(op string, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("rawsock: %s: %w", op, net.ErrClosed)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("rawsock: %s: %w", op, os.ErrDeadlineExceeded)
	}
	return fmt.Errorf("rawsock: %s: %w", op, err)
}

// recvTime returns the kernel's receive timestamp from the control
// messages of the last read, or now. It parses in place: no allocation.
func (s *sock) recvTime() time.Time {
	oob := s.r.oob[:min(int(s.r.msg.Controllen), len(s.r.oob))]
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdr]))
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		next := unix.CmsgSpace(l - hdr)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return time.Now()
}

func (s *sock) close() error {
	if s.closed.Swap(true) {
		return fmt.Errorf("rawsock: close: %w", net.ErrClosed)
	}
	return s.f.Close()
}

func (s *sock) control(fn func(fd int) error) error {
	var ferr error
	if err := s.rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return s.opErr("control", err)
	}
	return ferr
}

// htons converts a 16-bit value to network byte order as stored in a
// sockaddr field read natively.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

func ntohs(v uint16) uint16 { return htons(v) }

// setsockopt applies an option, naming it in the error.
func setsockopt(fd, level, opt, v int, name string) error {
	if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
		return fmt.Errorf("rawsock: setsockopt %s: %w", name, err)
	}
	return nil
}

// setRecvBuffer forces the receive buffer when allowed, else asks for it.
func setRecvBuffer(fd, size int) error {
	if size == 0 {
		size = DefaultRecvBuffer
	}
	if size < 0 {
		return fmt.Errorf("rawsock: receive buffer %d: must not be negative", size)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) == nil {
		return nil
	}
	return setsockopt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size, "SO_RCVBUF")
}

// attachFilter attaches a classic BPF program to fd.
func attachFilter(fd int, prog []bpf.RawInstruction) error {
	if len(prog) == 0 {
		return nil
	}
	if len(prog) > maxFilterLen {
		return fmt.Errorf("rawsock: filter of %d instructions: at most %d", len(prog), maxFilterLen)
	}
	f := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		f[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fp := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		return fmt.Errorf("rawsock: attach filter: %w", err)
	}
	return nil
}

// maxFilterLen is BPF_MAXINSNS, the longest classic BPF program the kernel
// takes.
const maxFilterLen = 4096
