//go:build linux

package trace_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/trace"
)

// run traces dst from the lab's client.
func run(t *testing.T, l *labtest.Lab, dst netip.Addr, cfg *trace.Config) *trace.Result {
	t.Helper()
	var res *trace.Result
	var err error
	l.Do("client", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err = trace.Run(ctx, dst, cfg, nil)
	})
	if err != nil {
		t.Fatalf("trace %s: %v", dst, err)
	}
	return res
}

// hopList is each hop's answering addresses, "*" for a hop with none, as
// one line per hop.
func hopList(res *trace.Result) []string {
	var out []string
	for _, h := range res.Hops {
		var as []string
		for _, a := range h.Addrs() {
			as = append(as, a.String())
		}
		if len(as) == 0 {
			as = []string{"*"}
		}
		out = append(out, strings.Join(as, " "))
	}
	return out
}

// tracerouteHops runs Linux traceroute -n in the client and returns its hop
// list in the same form.
func tracerouteHops(t *testing.T, l *labtest.Lab, args ...string) []string {
	t.Helper()
	r := l.Command("client", "traceroute", append([]string{"-n"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("traceroute %v: exit %d: %s", args, r.Code, r.Stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:] {
		var as []string
		for _, f := range strings.Fields(line)[1:] {
			if a, err := netip.ParseAddr(f); err == nil && !slices.Contains(as, a.String()) {
				as = append(as, a.String())
			}
		}
		if len(as) == 0 {
			as = []string{"*"}
		}
		out = append(out, strings.Join(as, " "))
	}
	return out
}

var methods = []struct {
	m    trace.Method
	flag string
}{{trace.UDP, "-U"}, {trace.ICMP, "-I"}, {trace.TCP, "-T"}}

func compareWithTraceroute(t *testing.T, l *labtest.Lab, dst netip.Addr, want []string) {
	t.Helper()
	labtest.RequireCommand(t, "traceroute", "traceroute")
	for _, m := range methods {
		res := run(t, l, dst, &trace.Config{Method: m.m})
		got := hopList(res)
		args := []string{m.flag, dst.String()}
		if m.m == trace.UDP {
			args = args[1:]
		}
		peer := tracerouteHops(t, l, args...)
		if !slices.Equal(got, peer) {
			t.Errorf("%s to %s: sonde hops\n%s\ntraceroute -n %v hops\n%s", m.m, dst, strings.Join(got, "\n"), args, strings.Join(peer, "\n"))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s to %s: hops\n%s\nwant\n%s", m.m, dst, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !res.Reached || !res.Hops[len(res.Hops)-1].Final {
			t.Errorf("%s to %s: destination not reached", m.m, dst)
		}
		for _, h := range res.Hops {
			for _, p := range h.Probes {
				if p.Answered() && (p.RTT <= 0 || p.RTT > time.Second) {
					t.Errorf("%s hop %d: RTT %v", m.m, h.TTL, p.RTT)
				}
			}
		}
	}
}

func chainHops(v6 bool, silent int) []string {
	var out []string
	for i := 1; i <= 6; i++ {
		a := fmt.Sprintf("198.18.%d.2", i-1)
		if v6 {
			a = fmt.Sprintf("2001:2:0:%x::2", i-1)
			if i == 1 {
				a = "2001:2::2"
			}
		}
		if i == silent {
			a = "*"
		}
		out = append(out, a)
	}
	if v6 {
		return append(out, "2001:2:0:c8::1")
	}
	return append(out, "198.18.200.1")
}

// TestChainSameHopsAsTraceroute: through 6 routers, each method finds the
// hops Linux traceroute finds, over IPv4 and IPv6.
func TestChainSameHopsAsTraceroute(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 6, NoServices: true, ICMPRateLimit: lab.NoRateLimit})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // Run waits for its readers
	compareWithTraceroute(t, l, l.Addr("far"), chainHops(false, 0))
	compareWithTraceroute(t, l, l.Addr6("far"), chainHops(true, 0))
}

// TestSilentRouter: a router that sends no time-exceeded is a hop of stars,
// exactly there, and every other hop is exact.
func TestSilentRouter(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 6, Silent: []string{"r3"}, NoServices: true, ICMPRateLimit: lab.NoRateLimit})
	compareWithTraceroute(t, l, l.Addr("far"), chainHops(false, 3))
	compareWithTraceroute(t, l, l.Addr6("far"), chainHops(true, 3))
}

// TestNoFalseStarsUnderRateLimits: with the kernel's default ICMP rate
// limits (a burst of 6, then one a second, per source), traces run back to
// back show every probe of every hop answered: silent probes are retried,
// paced, after the others.
func TestNoFalseStarsUnderRateLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("20 traces paced by the routers' rate limits take a minute or two")
	}
	l := labtest.New(t, "chain", lab.Options{Routers: 6, NoServices: true})
	want := chainHops(false, 0)
	for i := range 20 {
		res := run(t, l, l.Addr("far"), &trace.Config{Probes: 3})
		if got := hopList(res); !slices.Equal(got, want) {
			t.Fatalf("run %d: hops\n%s\nwant\n%s", i+1, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, h := range res.Hops {
			for j, p := range h.Probes {
				if !p.Answered() {
					t.Errorf("run %d: hop %d probe %d: a false star", i+1, h.TTL, j+1)
				}
			}
		}
		t.Logf("run %d: %v, %d sent, %d retried", i+1, res.Elapsed.Round(time.Millisecond), res.Stats.Sent, res.Stats.Retried)
	}
}

// TestParisOnePathECMPBoth: through two equal-cost paths, a Paris trace
// takes the same one every time, and ECMP finds both.
func TestParisOnePathECMPBoth(t *testing.T) {
	l := labtest.New(t, "ecmp", lab.Options{NoServices: true, ICMPRateLimit: lab.NoRateLimit})
	dst := l.Addr("far")
	for _, m := range methods {
		var first []string
		for i := range 5 {
			res := run(t, l, dst, &trace.Config{Method: m.m})
			got := hopList(res)
			if len(got) != 4 || strings.Contains(strings.Join(got, " "), "*") {
				t.Fatalf("%s run %d: hops %q, want 4 hops, one address each", m.m, i, got)
			}
			if first == nil {
				first = got
			} else if !slices.Equal(got, first) {
				t.Errorf("%s run %d: path %q, first run %q", m.m, i, got, first)
			}
		}
	}
	// Classic mode varies the destination port: its probes spread over
	// both paths, and hop 2 or 3 shows two routers (the 10 probes of each
	// hop take one path with a chance of 2^-9; both hops, 2^-18).
	res := run(t, l, dst, &trace.Config{Classic: true, Probes: 10})
	if len(res.Hops) != 4 || len(res.Hops[1].Addrs()) != 2 && len(res.Hops[2].Addrs()) != 2 {
		t.Errorf("classic: hops %q, want both routers of hop 2 or of hop 3", hopList(res))
	}
	var paths []trace.Path
	var err error
	l.Do("client", func() {
		paths, err = trace.ECMP(context.Background(), dst, &trace.Config{Probes: 1}, 8)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("ECMP found %d paths, want 2: %+v", len(paths), paths)
	}
	seconds := map[netip.Addr]bool{}
	for _, p := range paths {
		if len(p.Hops) != 4 {
			t.Errorf("path %v: want 4 hops", p.Hops)
			continue
		}
		seconds[p.Hops[1]] = true
	}
	t.Logf("paths: %v (%v) and %v (%v)", paths[0].Hops, paths[0].Flows, paths[1].Hops, paths[1].Flows)
	if len(seconds) != 2 {
		t.Errorf("the two paths do not differ at hop 2: %v", seconds)
	}
}

// TestDestinationByQuotedTTL: a destination that never answers the probes
// arriving with one TTL left (here an nftables rule drops them, as a rate
// limit would drop their answers) is still found at its hop: the answer to
// the next hop's probes quotes the TTL they had left, which places it.
func TestDestinationByQuotedTTL(t *testing.T) {
	labtest.RequireCommand(t, "nft", "nftables")
	l := labtest.New(t, "chain", lab.Options{Routers: 3, NoServices: true, ICMPRateLimit: lab.NoRateLimit})
	for _, args := range [][]string{
		{"add", "table", "ip", "ttltest"},
		{"add", "chain", "ip", "ttltest", "in", "{ type filter hook input priority 0; }"},
		{"add", "rule", "ip", "ttltest", "in", "ip", "ttl", "1", "udp", "dport", "33434-33534", "drop"},
	} {
		if r := l.Command("far", "nft", args...); r.Code != 0 {
			t.Fatalf("nft %q: %s", args, r.Stderr)
		}
	}
	want := []string{"198.18.0.2", "198.18.1.2", "198.18.2.2", "198.18.200.1"}
	res := run(t, l, l.Addr("far"), &trace.Config{Probes: 3, RetryPause: 50 * time.Millisecond})
	if got := hopList(res); !slices.Equal(got, want) {
		t.Fatalf("hops\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	last := res.Hops[len(res.Hops)-1]
	if !res.Reached || !last.Final || last.TTL != 4 {
		t.Errorf("last hop %+v, reached %v: want the destination final at TTL 4", last, res.Reached)
	}
	for _, p := range last.Probes {
		if p.Answered() && p.SentTTL <= 4 {
			t.Errorf("hop 4 probe %+v: an answer to a TTL-4 probe, which the rule drops; want one placed by its quoted TTL", p)
		}
	}
	// Linux traceroute, which does not read the quoted TTL, shows the drop
	// as stars and the destination a hop too far: the control that the
	// rule bites.
	r := l.Command("client", "traceroute", "-n", "-q", "1", "-w", "0.2", l.Addr("far").String())
	if !strings.Contains(r.Stdout, " 4  *") || !strings.Contains(r.Stdout, " 5  198.18.200.1") {
		t.Errorf("traceroute did not see the drop (the test proves nothing):\n%s", r.Stdout)
	}
}
