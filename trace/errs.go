package trace

import "os"

var errDeadline = os.ErrDeadlineExceeded
