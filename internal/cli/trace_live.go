package cli

import (
	"context"
	"net/netip"

	"sonde/trace"
)

func runLive(ctx context.Context, e *env, host string, dst netip.Addr, cfg *trace.Config, f *traceFlags, names trace.Enricher) error {
	return usagef("trace: --live is not done yet")
}
