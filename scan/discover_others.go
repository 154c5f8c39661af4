//go:build !linux

package scan

import (
	"context"
	"net/netip"
)

func splitOnLink(_ context.Context, targets *Targets) (map[netip.Addr]string, []netip.Addr, error) {
	var off []netip.Addr
	for i := range targets.Len() {
		off = append(off, targets.At(i))
	}
	return nil, off, nil
}
