package scan

import (
	"context"
	"time"
)

// DetectService names the service behind r's open TCP port and its
// version, from its banner or the answer to a probe (-sV).
func DetectService(ctx context.Context, r *Result, timeout time.Duration) {}
