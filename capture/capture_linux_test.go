package capture_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"sonde/capture"
	"sonde/filter"
)

// inNewNetns moves the calling test goroutine, locked to its thread for good,
// into a new network namespace with loopback up. The thread ends with the
// test, and the namespace with it. Sockets opened by this goroutine live in
// the namespace.
func inNewNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("needs root (network namespaces, AF_PACKET) but SONDE_REQUIRE_PRIVILEGED=1")
		}
		t.Skip("needs root for a network namespace and AF_PACKET: run as root, or set CAP_SYS_ADMIN and CAP_NET_RAW")
	}
	runtime.LockOSThread() // never unlocked: the thread is discarded with the test goroutine
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
			t.Fatalf("unshare(CLONE_NEWNET): %v", err)
		}
		t.Skipf("cannot create a network namespace (%v): run as root with CAP_SYS_ADMIN", err)
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
}

// udpDstPort is a filter for Ethernet frames of IPv4 UDP (not fragments)
// to the port, written in the classic BPF assembler.
func udpDstPort(t *testing.T, port uint16) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 8},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 6},
		bpf.LoadAbsolute{Off: 20, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 4},
		bpf.LoadMemShift{Off: 14},
		bpf.LoadIndirect{Off: 16, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// sendUDP sends n datagrams of size bytes from the calling thread to
// 127.0.0.1:port.
func sendUDP(t *testing.T, port, n, size int) {
	t.Helper()
	// Unconnected, so that ICMP port unreachable errors do not fail sends.
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	buf := make([]byte, size)
	for i := range n {
		binary.BigEndian.PutUint32(buf, uint32(i))
		if _, err := c.WriteToUDP(buf, to); err != nil {
			t.Fatal(err)
		}
	}
}

// udpToPort returns the destination port of an Ethernet/IPv4/UDP frame, or 0.
func udpToPort(data []byte) int {
	if len(data) < 14+20+8 || binary.BigEndian.Uint16(data[12:]) != 0x0800 || data[23] != 17 {
		return 0
	}
	ihl := int(data[14]&0xf) * 4
	if len(data) < 14+ihl+4 {
		return 0
	}
	return int(binary.BigEndian.Uint16(data[14+ihl+2:]))
}

// readUntil reads packets until n satisfy match or the timeout passes, and
// returns how many matched and how many did not.
func readUntil(t *testing.T, h *capture.Handle, n int, match func([]byte, capture.CaptureInfo) bool) (matched, other int) {
	t.Helper()
	for matched < n {
		data, ci, err := h.ZeroCopyReadPacketData()
		if err != nil {
			return matched, other
		}
		if len(data) != ci.CaptureLength || ci.LinkType != layers.LinkTypeEthernet {
			t.Errorf("packet of %d bytes, %+v", len(data), ci)
		}
		if match(data, ci) {
			matched++
		} else {
			other++
		}
	}
	return matched, other
}

func TestCaptureLoopback(t *testing.T) {
	inNewNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := capture.Open(ctx, capture.Config{Interface: "lo", RingSize: 1 << 20, RingBlocks: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const n = 200
	sendUDP(t, 9999, n, 100)
	sendUDP(t, 9998, n, 100)
	seen := map[int]int{}
	got, _ := readUntil(t, h, 2*n, func(data []byte, ci capture.CaptureInfo) bool {
		p := udpToPort(data)
		seen[p]++
		return p == 9999 || p == 9998
	})
	if got != 2*n || seen[9999] != n || seen[9998] != n {
		t.Errorf("saw %d UDP datagrams (%v), sent %d to each port", got, seen, n)
	}
	st, err := h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// Each packet crosses lo twice (out and in); ICMP port unreachables too.
	if st.Packets < 2*n || st.Drops != 0 {
		t.Errorf("stats %+v after %d datagrams", st, 2*n)
	}
}

func TestCaptureKernelFilter(t *testing.T) {
	inNewNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	h, err := capture.Open(ctx, capture.Config{Interface: "lo", Filter: udpDstPort(t, 9999), Snaplen: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const n = 100
	sendUDP(t, 9998, n, 500) // filtered out in the kernel
	sendUDP(t, 9999, n, 500)
	sendUDP(t, 9997, n, 500)
	matched, other := readUntil(t, h, n+1, func(data []byte, ci capture.CaptureInfo) bool {
		if len(data) != 64 || ci.Length != 14+20+8+500 {
			t.Errorf("snap: %d of %d bytes", len(data), ci.Length)
		}
		return udpToPort(data) == 9999
	})
	// readUntil asked for one more than was sent, so it read until the
	// deadline: nothing else may have come through.
	if matched != n || other != 0 {
		t.Errorf("filter passed %d datagrams to 9999 and %d others; want %d and 0", matched, other, n)
	}
	st, err := h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// The kernel counts packets that pass the filter: each datagram to 9999
	// out and in, nothing else.
	if st.Packets != 2*n || st.Drops != 0 {
		t.Errorf("stats %+v, want %d packets and no drops", st, 2*n)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("read ended before the deadline: %v", ctx.Err())
	}
}

func TestCaptureCancelIsPrompt(t *testing.T) {
	inNewNetns(t)
	ctx, cancel := context.WithCancel(context.Background())
	h, err := capture.Open(ctx, capture.Config{Interface: "lo"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	done := make(chan error, 1)
	go func() {
		_, _, err := h.ZeroCopyReadPacketData()
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("read returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("read took %v to notice the cancellation", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read still blocked 5s after cancellation")
	}
}

func TestCaptureAllInterfaces(t *testing.T) {
	inNewNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := capture.Open(ctx, capture.Config{Filter: udpDstPort(t, 9999)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sendUDP(t, 9999, 10, 20)
	lo, _ := net.InterfaceByName("lo")
	matched, _ := readUntil(t, h, 10, func(data []byte, ci capture.CaptureInfo) bool {
		return udpToPort(data) == 9999 && ci.InterfaceIndex == lo.Index
	})
	if matched != 10 {
		t.Errorf("saw %d of 10 datagrams on all interfaces", matched)
	}
}

func TestOpenErrors(t *testing.T) {
	inNewNetns(t)
	if _, err := capture.Open(context.Background(), capture.Config{Interface: "no-such-if0"}); err == nil {
		t.Error("opened a missing interface")
	}
}

func TestReadAllocations(t *testing.T) {
	inNewNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := capture.Open(ctx, capture.Config{Interface: "lo", Filter: udpDstPort(t, 9999)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sendUDP(t, 9999, 300, 20)
	allocs := testing.AllocsPerRun(200, func() {
		if _, _, err := h.ZeroCopyReadPacketData(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}

func TestCaptureDropsCounted(t *testing.T) {
	inNewNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A ring of two pages holds a handful of 1000-byte datagrams; the rest
	// must be counted as drops while nobody reads.
	h, err := capture.Open(ctx, capture.Config{Interface: "lo", Filter: udpDstPort(t, 9999), Snaplen: 1500, RingSize: 8192, RingBlocks: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const n = 300
	sendUDP(t, 9999, n, 1000)
	st, err := h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 2*n || st.Drops == 0 || st.Drops >= st.Packets {
		t.Errorf("stats %+v after %d datagrams into a tiny ring, want %d packets, some dropped", st, n, 2*n)
	}
	// The counters accumulate across calls (the kernel resets them on read).
	again, _ := h.Stats()
	if again.Packets < st.Packets || again.Drops < st.Drops {
		t.Errorf("counters went back: %+v then %+v", st, again)
	}
	// What the ring kept is still readable.
	got, _ := readUntil(t, h, 1, func(data []byte, _ capture.CaptureInfo) bool { return udpToPort(data) == 9999 })
	if got != 1 {
		t.Error("nothing readable from the full ring")
	}
}

// TestCaptureCompiledFilter attaches a program compiled from a pcap-filter
// expression by package filter.
func TestCaptureCompiledFilter(t *testing.T) {
	inNewNetns(t)
	prog, err := filter.Compile("udp dst port 9999 and greater 100", filter.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := prog.RawInstructions()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h, err := capture.Open(ctx, capture.Config{Interface: "lo", Filter: raw})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sendUDP(t, 9999, 20, 10)  // too small: 52-byte frames
	sendUDP(t, 9999, 20, 200) // pass
	sendUDP(t, 9998, 20, 200) // wrong port
	matched, other := readUntil(t, h, 21, func(data []byte, ci capture.CaptureInfo) bool {
		return udpToPort(data) == 9999 && ci.Length > 100 && prog.Match(data, ci.Length)
	})
	if matched != 20 || other != 0 {
		t.Errorf("kernel passed %d matching packets and %d others, want 20 and 0", matched, other)
	}
}
