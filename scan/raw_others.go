//go:build !linux

package scan

import (
	"context"
	"errors"
)

func runRaw(context.Context, *space, *Config, func(Result)) (Stats, error) {
	return Stats{}, errors.New("scan: raw scans are not supported on this operating system; use a connect scan")
}
