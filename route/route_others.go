//go:build !linux

package route

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
)

var errUnsupported = errors.New("route: not supported on " + runtime.GOOS)

// Resolver looks up routes; it exists only on Linux.
type Resolver struct{}

// NewResolver returns an error: route needs Linux netlink.
func NewResolver(cfg *Config) (*Resolver, error) { return nil, errUnsupported }

// Lookup returns an error.
func (r *Resolver) Lookup(ctx context.Context, dst netip.Addr) (Route, error) {
	return Route{}, errUnsupported
}

// Close returns an error.
func (r *Resolver) Close() error { return errUnsupported }

// Lookup returns an error: route needs Linux netlink.
func Lookup(ctx context.Context, dst netip.Addr) (Route, error) { return Route{}, errUnsupported }

// Stats returns zero counters.
func (r *Resolver) Stats() Stats { return Stats{} }

// Path returns an error: routes are only looked up on Linux.
func (r *Resolver) Path(dst netip.Addr) (Route, error) { return Route{}, errUnsupported }
