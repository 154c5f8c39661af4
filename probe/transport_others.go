//go:build !linux

package probe

import (
	"fmt"
	"runtime"
)

var errUnsupported = fmt.Errorf("probe: raw sockets are not supported on %s", runtime.GOOS)

func openL3(*Config) (transport, error)      { return nil, errUnsupported }
func openL2(int, *Config) (transport, error) { return nil, errUnsupported }
