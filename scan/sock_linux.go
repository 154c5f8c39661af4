package scan

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// newSocket makes a non-blocking TCP or UDP socket for a, in the network
// namespace of the calling thread.
func newSocket(a netip.Addr, proto Proto) (int, error) {
	family := unix.AF_INET
	if !a.Is4() {
		family = unix.AF_INET6
	}
	typ := unix.SOCK_STREAM
	if proto == UDP {
		typ = unix.SOCK_DGRAM
	}
	return unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

// connectSocket connects the TCP socket fd to ap within timeout and closes
// it: nil when the handshake completed, the kernel's error otherwise
// (ECONNREFUSED for a reset), os.ErrDeadlineExceeded on silence.
func connectSocket(ctx context.Context, fd int, ap netip.AddrPort, timeout time.Duration) error {
	f := os.NewFile(uintptr(fd), "scan")
	defer f.Close()
	err := unix.Connect(fd, sockaddr(ap))
	if err == nil {
		return nil
	}
	if err != unix.EINPROGRESS {
		return err
	}
	f.SetWriteDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	werr := rc.Write(func(fd uintptr) bool {
		v, e := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case e != nil:
			cerr = e
		case v != 0:
			cerr = syscall.Errno(v)
		default:
			if _, e := unix.Getpeername(int(fd)); e != nil {
				return false // still connecting
			}
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return cerr
}

// connectUDP connects the UDP socket fd to ap and returns it as a
// net.Conn (which then owns the socket).
func connectUDP(fd int, ap netip.AddrPort) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "scan")
	defer f.Close()
	if err := unix.Connect(fd, sockaddr(ap)); err != nil {
		return nil, err
	}
	return net.FileConn(f)
}
