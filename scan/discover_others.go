//go:build !linux

package scan

import (
	"context"
	"net/netip"
	"time"
)

func splitOnLink(_ context.Context, targets *Targets) (map[netip.Addr]string, []netip.Addr, error) {
	var off []netip.Addr
	for i := range targets.Len() {
		off = append(off, targets.At(i))
	}
	return nil, off, nil
}

func pingHosts(context.Context, []netip.Addr, sipKey, int, time.Duration) (map[netip.Addr]string, error) {
	return map[netip.Addr]string{}, nil
}
