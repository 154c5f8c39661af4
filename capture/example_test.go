package capture_test

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"sonde/capture"
)

// Capture on the loopback interface until interrupted, then print the
// kernel's counters.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	defer stop()
	h, err := capture.Open(ctx, capture.Config{Interface: "lo", Snaplen: 128})
	if err != nil {
		fmt.Println(err) // errors.Is(err, os.ErrPermission) without CAP_NET_RAW
		return
	}
	defer h.Close()
	for {
		data, ci, err := h.ZeroCopyReadPacketData()
		if err != nil {
			break // ctx done
		}
		fmt.Println(ci.Timestamp, ci.Length, len(data))
	}
	st, _ := h.Stats()
	fmt.Printf("%d packets, %d dropped by the kernel\n", st.Packets, st.Drops)
}
