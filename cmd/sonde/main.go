// The runtime's updater of GOMAXPROCS (Go 1.25), which follows changes of
// the CPU limit of a long-running process, starts a goroutine and has
// sysmon read the cgroup files again on its first tick, in parallel with
// start-up: 0.2 to 0.3 ms of each run of sonde, whose commands mostly last
// milliseconds. GOMAXPROCS still follows the container's CPU limit at start.
//
//go:debug updatemaxprocs=0

// Command sonde is a network reconnaissance and traffic-analysis toolkit.
// See the README and docs/ for the tour; the commands live in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"sonde/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
