//go:build !linux

package labsvc

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// pktinfo is a plain UDP socket elsewhere than Linux: replies leave from
// the address the kernel picks.
type pktinfo struct{}

type local struct{}

func enablePktinfo(*net.UDPConn) (pktinfo, error) { return pktinfo{}, nil }

func (pktinfo) read(c *net.UDPConn, buf, _ []byte) (int, local, netip.AddrPort, error) {
	n, from, err := c.ReadFromUDPAddrPort(buf)
	return n, local{}, from, err
}

func (pktinfo) write(c *net.UDPConn, b []byte, _ local, to netip.AddrPort) error {
	_, err := c.WriteToUDPAddrPort(b, to)
	return err
}

func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EINTR)
}
