//go:build !linux

package trace

import (
	"errors"
	"net/netip"
)

func openTransport(netip.Addr, *Config) (transport, netip.Addr, error) {
	return nil, netip.Addr{}, errors.New("trace: not supported on this operating system")
}
