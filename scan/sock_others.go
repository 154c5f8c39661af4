//go:build !linux

package scan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

var errNotSupported = errors.New("scan: not supported on this operating system")

func newSocket(netip.Addr, Proto) (int, error) { return -1, errNotSupported }

func connectSocket(context.Context, int, netip.AddrPort, time.Duration) error {
	return errNotSupported
}

func connectUDP(int, netip.AddrPort) (net.Conn, error) { return nil, errNotSupported }
