package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"sonde/packet"
	"sonde/probe"
)

func init() {
	register(newPingCmd, "ping")
	addDemoStep(demoStep{order: 10, title: "ping: is the target there, and how far? (ICMP echo)", run: func(ctx context.Context, d *demo) error {
		return d.sonde(ctx, d.lab.Topology.Client, "ping", "-c", "3", "-i", "0.2", d.target().String())
	}})
}

type pingFlags struct {
	count    int
	interval time.Duration
	size     int
	ttl      int
	wait     time.Duration
	ipv6     bool
}

func newPingCmd(e *env) *cobra.Command {
	var f pingFlags
	cmd := &cobra.Command{
		Use:   "ping HOST",
		Short: "Send ICMP echo requests and show the replies, as ping does",
		Long: `Send ICMP (or ICMPv6) echo requests to HOST and print each reply as it comes,
then the statistics: loss and round-trip times. Errors that quote a request
(time exceeded, unreachable) are shown against it.`,
		Example: `  sonde ping -c 3 198.18.200.1
  sonde ping -6 -c 3 2001:2:0:c8::1
  sonde ping -c 5 -t 2 198.18.200.1     # TTL 2: a router answers "time to live exceeded"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPing(cmd.Context(), e, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.count, "count", "c", 0, "stop after this many requests (default: until Ctrl-C)")
	f.interval, f.wait = time.Second, 2*time.Second
	fl.VarP(secondsFlag{&f.interval}, "interval", "i", "gap between requests, in seconds or as a duration")
	fl.IntVarP(&f.size, "size", "s", 56, "bytes of data in each request")
	fl.IntVarP(&f.ttl, "ttl", "t", 64, "time to live (hop limit)")
	fl.VarP(secondsFlag{&f.wait}, "wait", "W", "how long to wait for the last replies")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "use IPv6 (ICMPv6) even for a name")
	return cmd
}

func (f *pingFlags) check() error {
	switch {
	case f.count < 0 || f.count > 65535:
		return usagef("--count %d: want 1 to 65535 (0: until interrupted)", f.count)
	case f.interval < 0:
		return usagef("--interval %v: must not be negative", f.interval)
	case f.size < 0 || f.size > 65000:
		return usagef("--size %d: want 0 to 65000", f.size)
	case f.ttl < 1 || f.ttl > 255:
		return usagef("--ttl %d: want 1 to 255", f.ttl)
	case f.wait <= 0:
		return usagef("--wait %v: must be positive", f.wait)
	}
	return nil
}

func runPing(ctx context.Context, e *env, host string, f *pingFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	dst, err := netip.ParseAddr(host)
	if err != nil {
		if dst, err = resolveHost(ctx, host, f.ipv6); err != nil {
			return usagef("ping: cannot resolve %q: %v", host, err)
		}
	}
	dst = dst.Unmap()
	count := f.count
	if count == 0 {
		count = 65535
	}
	id := os.Getpid() & 0xffff
	payload := pingPayload(f.size)
	expr := fmt.Sprintf(`IP(dst="%s",ttl=%d)/ICMP(id=%d,seq=(1,%d))/Raw(load="%s")`, dst, f.ttl, id, count, payload)
	if dst.Is6() {
		expr = fmt.Sprintf(`IPv6(dst="%s",hlim=%d)/ICMPv6EchoRequest(id=%d,seq=(1,%d))/Raw(load="%s")`, dst, f.ttl, id, count, payload)
	}
	t, err := packet.Parse(expr)
	if err != nil {
		return err // built above from checked values: a bug, not bad input
	}
	hdr := 20 + 8
	if dst.Is6() {
		hdr = 40 + 8
	}
	fmt.Fprintf(e.stdout, "PING %s (%s) %d(%d) bytes of data.\n", host, dst, f.size, f.size+hdr)
	st := &pingStats{}
	var mu sync.Mutex
	cfg := &probe.Config{Inter: f.interval, Timeout: f.wait, OnAnswer: func(p probe.Pair) {
		mu.Lock()
		defer mu.Unlock()
		st.line(e.stdout, p)
	}}
	start := time.Now()
	res, err := probe.SR(ctx, t, cfg)
	if res == nil {
		return probeError(err)
	}
	mu.Lock()
	defer mu.Unlock()
	st.summary(e.stdout, host, res, time.Since(start))
	if err := probeError(err); err != nil {
		return err
	}
	if st.replies == 0 {
		return exitStatus(1) // as ping: no reply is a failure
	}
	return nil
}

// pingPayload is the request's data: bytes counting up from 0x10, as
// iputils' ping fills it after its timestamp, written as an expression
// string.
func pingPayload(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `\x%02x`, byte(0x10+i))
	}
	return b.String()
}

type pingStats struct {
	replies, errors int
	rtts            []float64
}

// line prints one answer as ping does.
func (s *pingStats) line(w io.Writer, p probe.Pair) {
	d := packet.NewDecoder(p.Received.Link)
	d.Decode(p.Received.Data)
	q := packet.NewDecoder(p.Sent.Link)
	q.Decode(p.Sent.Data)
	seq := q.ICMPv4.Seq
	if q.Has(layers.LayerTypeICMPv6Echo) {
		seq = q.ICMPv6Echo.SeqNumber
	}
	src, ttl, n := replySource(d)
	if kind, ok := icmpError(d); ok {
		s.errors++
		fmt.Fprintf(w, "From %s icmp_seq=%d %s\n", src, seq, kind)
		return
	}
	s.replies++
	ms := float64(p.RTT().Nanoseconds()) / 1e6
	s.rtts = append(s.rtts, ms)
	fmt.Fprintf(w, "%d bytes from %s: icmp_seq=%d ttl=%d time=%s ms\n", n, src, seq, ttl, formatMS(ms))
}

func formatMS(ms float64) string {
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.3f", ms)
}

func (s *pingStats) summary(w io.Writer, host string, res *probe.Result, elapsed time.Duration) {
	sent := res.Stats.Sent
	fmt.Fprintf(w, "\n--- %s ping statistics ---\n", host)
	loss := 0.0
	if sent > 0 {
		loss = 100 * float64(sent-uint64(s.replies)) / float64(sent)
	}
	errs := ""
	if s.errors > 0 {
		errs = fmt.Sprintf(", +%d errors", s.errors)
	}
	fmt.Fprintf(w, "%d packets transmitted, %d received%s, %.4g%% packet loss, time %dms\n", sent, s.replies, errs, loss, elapsed.Milliseconds())
	if len(s.rtts) == 0 {
		return
	}
	min, max, sum, sq := math.Inf(1), 0.0, 0.0, 0.0
	for _, r := range s.rtts {
		min, max, sum, sq = math.Min(min, r), math.Max(max, r), sum+r, sq+r*r
	}
	avg := sum / float64(len(s.rtts))
	mdev := math.Sqrt(math.Max(0, sq/float64(len(s.rtts))-avg*avg))
	fmt.Fprintf(w, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", min, avg, max, mdev)
	if res.Stats.Duplicates > 0 {
		fmt.Fprintf(w, "%d duplicate replies\n", res.Stats.Duplicates)
	}
}

// replySource returns a reply's source address, its TTL (hop limit) and
// the length of its ICMP message.
func replySource(d *packet.Decoder) (netip.Addr, uint8, int) {
	if d.Has(layers.LayerTypeIPv6) {
		a, _ := netip.AddrFromSlice(d.IPv6.SrcIP)
		return a, d.IPv6.HopLimit, int(d.IPv6.Length)
	}
	a, _ := netip.AddrFromSlice(d.IPv4.SrcIP)
	return a.Unmap(), d.IPv4.TTL, int(d.IPv4.Length) - int(d.IPv4.IHL)*4
}

// icmpError names an ICMP error as ping does, or reports false for an
// echo reply.
func icmpError(d *packet.Decoder) (string, bool) {
	if d.Has(layers.LayerTypeICMPv6) {
		t, c := d.ICMPv6.TypeCode.Type(), d.ICMPv6.TypeCode.Code()
		switch t {
		case layers.ICMPv6TypeEchoReply:
			return "", false
		case layers.ICMPv6TypeTimeExceeded:
			return "Time exceeded: Hop limit", true
		case layers.ICMPv6TypeDestinationUnreachable:
			return [...]string{"Destination unreachable: No route", "Destination unreachable: Administratively prohibited",
				"Destination unreachable: Beyond scope", "Destination unreachable: Address unreachable",
				"Destination unreachable: Port unreachable"}[min(int(c), 4)], true
		}
		return fmt.Sprintf("ICMPv6 type %d code %d", t, c), true
	}
	t, c := d.ICMPv4.TypeCode.Type(), d.ICMPv4.TypeCode.Code()
	switch t {
	case layers.ICMPv4TypeEchoReply:
		return "", false
	case layers.ICMPv4TypeTimeExceeded:
		return "Time to live exceeded", true
	case layers.ICMPv4TypeDestinationUnreachable:
		names := map[uint8]string{0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
			2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable", 4: "Frag needed",
			9: "Destination Net Prohibited", 10: "Destination Host Prohibited", 13: "Packet filtered"}
		if n, ok := names[c]; ok {
			return n, true
		}
	}
	return fmt.Sprintf("ICMP type %d code %d", t, c), true
}
