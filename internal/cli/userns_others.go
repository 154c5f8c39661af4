//go:build !linux

package cli

import "syscall"

// usernsAttr is nil: user namespaces are Linux's; the lab then reports
// that it is not supported.
func usernsAttr() *syscall.SysProcAttr { return nil }
