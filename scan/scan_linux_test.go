package scan_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/scan"
)

var labOpen = []uint16{21, 22, 25, 80, 443, 3306, 8080}

func allPorts() []uint16 {
	out := make([]uint16, 65536)
	for i := range out {
		out[i] = uint16(i)
	}
	return out
}

func targets(t *testing.T, specs ...string) *scan.Targets {
	t.Helper()
	tg, err := scan.ParseTargets(context.Background(), scan.TargetSpec{Include: specs})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// runIn runs a scan in node of l and returns its results sorted.
func runIn(t *testing.T, l *labtest.Lab, node string, tg *scan.Targets, ports []uint16, cfg *scan.Config) ([]scan.Result, scan.Stats) {
	t.Helper()
	var mu sync.Mutex
	var got []scan.Result
	var st scan.Stats
	var err error
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l.Do(node, func() {
		st, err = scan.Run(ctx, tg, ports, cfg, func(r scan.Result) {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
		})
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	slices.SortFunc(got, func(a, b scan.Result) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return int(a.Port) - int(b.Port)
	})
	return got, st
}

func openPorts(rs []scan.Result) []uint16 {
	var out []uint16
	for _, r := range rs {
		if r.State == scan.Open {
			out = append(out, r.Port)
		}
	}
	return out
}

func TestSYNPairAllPorts(t *testing.T) {
	for _, loss := range []float64{0, 5} {
		l := labtest.New(t, "pair", lab.Options{Loss: loss})
		for run := range 3 {
			rs, st := runIn(t, l, "client", targets(t, "198.18.0.2"), allPorts(), &scan.Config{Seed: uint64(run + 1)})
			if got := openPorts(rs); !slices.Equal(got, labOpen) {
				t.Errorf("loss %v%% run %d: open %v, want %v (stats %+v)", loss, run, got, labOpen, st)
			}
			if st.ByState["closed"] < 65536-7-200 {
				t.Errorf("loss %v%% run %d: only %d closed", loss, run, st.ByState["closed"])
			}
			t.Logf("loss %v%%: %v, rate %.0f, sent %d, retried %d, answered %d/%d, est. loss %.1f%%", loss, st.Elapsed, st.Rate, st.Sent, st.Retried, st.Answered, st.Probes, 100*st.Loss())
		}
	}
}

func TestShardsCoverOnce(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	tg := targets(t, "198.18.0.2")
	ports := allPorts()[:4000]
	var all []uint16
	for i := range uint64(3) {
		rs, st := runIn(t, l, "client", tg, ports, &scan.Config{Seed: 7, Shard: scan.Shard{I: i, N: 3}, All: true})
		for _, r := range rs {
			all = append(all, r.Port)
		}
		if st.Probes != 4000/3+boolInt(i < 4000%3) {
			t.Errorf("shard %d/3: %d probes", i, st.Probes)
		}
	}
	slices.Sort(all)
	if len(all) != 4000 || !slices.Equal(slices.Compact(all), ports) {
		t.Errorf("3 shards reported %d results, want each of 4000 ports once", len(all))
	}
}

func boolInt(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

var _ = netip.Addr{}

// TestScanTypes: ACK, FIN, NULL and Xmas scans of the pair's target give
// nmap's states: Linux answers every ACK with RST (unfiltered), and a FIN,
// NULL or Xmas probe with RST on a closed port and silence on an open
// one (open|filtered).
func TestScanTypes(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	tg := targets(t, "198.18.0.2")
	ports := []uint16{20, 21, 22, 23, 25, 80, 81}
	for _, tg := range []*scan.Targets{tg, targets(t, l.Addr6("target").String())} {
		for _, typ := range []scan.Type{scan.FIN, scan.NULL, scan.Xmas} {
			rs, st := runIn(t, l, "client", tg, ports, &scan.Config{Type: typ, Seed: 1, Retries: 2})
			var of []uint16
			for _, r := range rs {
				if r.State == scan.OpenFiltered && r.Reason == "no-response" {
					of = append(of, r.Port)
				}
			}
			if want := []uint16{21, 22, 25, 80}; !slices.Equal(of, want) || st.ByState["closed"] != 3 {
				t.Errorf("%v %v: open|filtered %v, want %v; states %v", tg.At(0), typ, of, want, st.ByState)
			}
		}
		_, st := runIn(t, l, "client", tg, ports, &scan.Config{Type: scan.ACK, Seed: 1})
		if st.ByState["unfiltered"] != uint64(len(ports)) {
			t.Errorf("%v ACK: states %v, want all unfiltered", tg.At(0), st.ByState)
		}
	}
}

// TestResume: a scan cancelled part way and resumed from Stats.Next finds
// what an uninterrupted one does.
func TestResume(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	tg := targets(t, "198.18.0.2")
	ports := allPorts()
	var found []uint16
	var next uint64
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &scan.Config{Seed: 9, Rate: 50000, MaxRate: 50000}
	l.Do("client", func() {
		st, err := scan.Run(ctx, tg, ports, cfg, func(r scan.Result) {
			if r.State == scan.Open {
				found = append(found, r.Port)
				if len(found) == 2 {
					cancel()
				}
			}
		})
		if err == nil || st.Next == 0 || st.Next >= st.Probes {
			t.Errorf("cancelled run: err %v, next %d of %d", err, st.Next, st.Probes)
		}
		next = st.Next
	})
	cfg.Start = next
	rs, _ := runIn(t, l, "client", tg, ports, cfg)
	found = append(found, openPorts(rs)...)
	slices.Sort(found)
	if !slices.Equal(slices.Compact(found), labOpen) {
		t.Errorf("cancelled and resumed: open %v, want %v", found, labOpen)
	}
}

// TestResumeRetriesEarlierProbes: a scan interrupted in its retries,
// after a whole first pass in which port 22 was dropped, resumes with its
// record of what was answered: the retries cover the whole space again,
// and find port 22 once the drop is gone. Resumed from its position alone,
// there is nothing left to send and port 22 stays unfound.
func TestResumeRetriesEarlierProbes(t *testing.T) {
	labtest.RequireCommand(t, "nft", "nftables")
	l := labtest.New(t, "pair", lab.Options{})
	rules := filepath.Join(t.TempDir(), "drop22.nft")
	nft := "table inet drop22 {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ttcp dport 22 drop\n\t}\n}\n"
	if err := os.WriteFile(rules, []byte(nft), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := l.Command("target", "nft", "-f", rules); r.Code != 0 {
		t.Fatalf("nft: %s", r.Stderr)
	}
	tg := targets(t, "198.18.0.2")
	ports := allPorts()
	var found []uint16
	var st scan.Stats
	var err error
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &scan.Config{Seed: 5, ProgressEvery: time.Millisecond, Progress: func(s scan.Stats) {
		if s.Retried > 0 {
			cancel() // retrying port 22, the only probe not answered
		}
	}}
	l.Do("client", func() {
		st, err = scan.Run(ctx, tg, ports, cfg, func(r scan.Result) {
			if r.State == scan.Open {
				found = append(found, r.Port)
			}
		})
	})
	if !errors.Is(err, context.Canceled) || st.Next != st.Probes || st.Answers == nil {
		t.Fatalf("interrupted in the retries: err %v, next %d of %d, record %v", err, st.Next, st.Probes, st.Answers != nil)
	}
	if slices.Contains(found, 22) {
		t.Fatal("port 22 answered through the drop")
	}
	if r := l.Command("target", "nft", "delete", "table", "inet", "drop22"); r.Code != 0 {
		t.Fatalf("nft: %s", r.Stderr)
	}
	resume := func(answered []uint64) []uint16 {
		c := &scan.Config{Seed: 5, Start: st.Next, Answered: answered}
		rs, _ := runIn(t, l, "client", tg, ports, c)
		out := append(slices.Clone(found), openPorts(rs)...)
		slices.Sort(out)
		return slices.Compact(out)
	}
	if got := resume(st.Answers); !slices.Equal(got, labOpen) {
		t.Errorf("resumed with the record: open %v, want %v", got, labOpen)
	}
	if got := resume(nil); slices.Contains(got, 22) {
		t.Errorf("resumed from the position alone: open %v: port 22 found, so the test above proves nothing", got)
	}
	// A record of another space is refused.
	l.Do("client", func() {
		_, err = scan.Run(context.Background(), tg, ports[:100], &scan.Config{Seed: 5, Answered: st.Answers}, func(scan.Result) {})
	})
	if err == nil {
		t.Error("a record for 65,536 probes accepted for 100")
	}
}

// TestSweep: one port over the /16 the sweep lab's target answers for:
// every host found, and at 5% loss each way at least 99.9%.
func TestSweep(t *testing.T) {
	for _, loss := range []float64{0, 5} {
		l := labtest.New(t, "sweep", lab.Options{Loss: loss, NoServices: false})
		rs, st := runIn(t, l, "client", targets(t, "198.19.0.0/16"), []uint16{80}, &scan.Config{Seed: 3})
		open := len(openPorts(rs))
		want := 65536
		if loss > 0 {
			want = 65536 * 999 / 1000
		}
		if open < want {
			t.Errorf("loss %v%%: %d of 65536 hosts found (stats %+v)", loss, open, st)
		}
		t.Logf("loss %v%%: %d found in %v, %d sent, %d retried", loss, open, st.Elapsed, st.Sent, st.Retried)
	}
}

// TestDiscover: on a LAN, ARP finds the hosts that are there and only
// them; beyond a router, the SYN and ACK probes do.
func TestDiscover(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{Hosts: 3})
	var hosts []scan.Host
	var err error
	l.Do("client", func() {
		hosts, err = scan.Discover(context.Background(), targets(t, "198.18.0.8-15"), &scan.Config{Seed: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	var up []string
	for _, h := range hosts {
		if h.Up {
			up = append(up, h.Addr.String()+" "+h.Reason)
		}
	}
	want := []string{"198.18.0.11 arp-response", "198.18.0.12 arp-response", "198.18.0.13 arp-response"}
	if !slices.Equal(up, want) {
		t.Errorf("up %q, want %q", up, want)
	}
}

// TestConnect: a connect scan of 20,000 ports with at most 256 sockets
// open finds the lab's ports, IPv4 and IPv6.
func TestConnect(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	ports := allPorts()[1:20001]
	for _, target := range []string{"198.18.0.2", "2001:2::2"} {
		rs, st := runIn(t, l, "client", targets(t, target), ports, &scan.Config{Type: scan.Connect, Parallel: 256, Seed: 1})
		if got := openPorts(rs); !slices.Equal(got, labOpen) {
			t.Errorf("%s: open %v, want %v (stats %+v)", target, got, labOpen, st)
		}
		if st.ByState["closed"] != uint64(len(ports)-len(labOpen)) {
			t.Errorf("%s: states %v", target, st.ByState)
		}
	}
}

// TestDiscoverBeyondRouters: behind routers, hosts answer the ICMP echo;
// a silent address is down.
func TestDiscoverBeyondRouters(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 2, NoServices: true})
	var hosts []scan.Host
	var err error
	l.Do("client", func() {
		hosts, err = scan.Discover(context.Background(), targets(t, "198.18.200.1", "198.18.2.1", "198.18.2.77"), &scan.Config{Seed: 1, Timeout: 300 * time.Millisecond})
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hosts {
		got = append(got, fmt.Sprintf("%s %v %s", h.Addr, h.Up, h.Reason))
	}
	want := []string{"198.18.2.1 true echo-reply", "198.18.2.77 false no-response", "198.18.200.1 true echo-reply"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// portStates renders results as "port state reason" lines, closed ports
// left out (nmap lists them only as a count).
func portStates(rs []scan.Result) []string {
	var out []string
	for _, r := range rs {
		if r.State != scan.Closed {
			out = append(out, fmt.Sprintf("%d/%s %s %s", r.Port, r.Proto, r.State, r.Reason))
		}
	}
	slices.Sort(out)
	return out
}

// nmapStates runs nmap in node with args (its -oX - output) and returns
// its port lines as portStates renders ours.
func nmapStates(t *testing.T, l *labtest.Lab, node string, args ...string) ([]string, time.Duration) {
	t.Helper()
	t0 := time.Now()
	r := l.Command(node, "nmap", append(args, "-oX", "-")...)
	d := time.Since(t0)
	if r.Code != 0 {
		t.Fatalf("nmap %q: %d %s", args, r.Code, r.Stderr)
	}
	var out []string
	re := regexp.MustCompile(`<port protocol="(\w+)" portid="(\d+)"><state state="([\w|]+)" reason="([\w-]+)"`)
	for _, m := range re.FindAllStringSubmatch(r.Stdout, -1) {
		if m[3] != "closed" {
			out = append(out, fmt.Sprintf("%s/%s %s %s", m[2], m[1], m[3], m[4]))
		}
	}
	slices.Sort(out)
	return out, d
}

// TestSYNIPv6: a SYN scan of every port of the pair's target over IPv6
// finds the 7 open ports, the rest closed (reset) but a dropped port
// (filtered, no-response) and a rejected one (filtered, admin-prohibited,
// from the ICMPv6 error); nmap -6 -sS says the same of every port.
func TestSYNIPv6(t *testing.T) {
	labtest.RequireCommand(t, "nmap", "nmap")
	l := labtest.New(t, "pair", lab.Options{Drop: []uint16{8081}, Reject: []uint16{8082}})
	a6 := l.Addr6("target")
	want := []string{"21/tcp open syn-ack", "22/tcp open syn-ack", "25/tcp open syn-ack", "3306/tcp open syn-ack",
		"443/tcp open syn-ack", "80/tcp open syn-ack", "8080/tcp open syn-ack", "8081/tcp filtered no-response", "8082/tcp filtered admin-prohibited"}
	for run := range 2 {
		rs, st := runIn(t, l, "client", targets(t, a6.String()), allPorts(), &scan.Config{Seed: uint64(run + 1)})
		if got := portStates(rs); !slices.Equal(got, want) {
			t.Errorf("run %d: %q, want %q (stats %+v)", run, got, want, st)
		}
		if st.ByState["closed"] != 65536-9 {
			t.Errorf("run %d: %d closed, want %d", run, st.ByState["closed"], 65536-9)
		}
		for _, r := range rs {
			if r.Addr != a6 || r.Reason != "no-response" && r.TTL != 64 {
				t.Errorf("run %d: result %+v: want address %v, hop limit 64", run, r, a6)
				break
			}
		}
		t.Logf("run %d: %v, sent %d, retried %d", run, st.Elapsed, st.Sent, st.Retried)
	}
	// nmap on the same ports (not port 0, which it refuses).
	rs, _ := runIn(t, l, "client", targets(t, a6.String()), allPorts()[1:], &scan.Config{Seed: 5})
	got := portStates(rs)
	theirs, d := nmapStates(t, l, "client", "-6", "-n", "-Pn", "-sS", "-p-", "-T4", "--reason", a6.String())
	if !slices.Equal(got, theirs) {
		t.Errorf("sonde %q, nmap %q", got, theirs)
	}
	t.Logf("nmap -6 -sS -p- -T4: %v", d)
}

// TestMixedFamilies: one scan of an IPv4 and an IPv6 target finds the
// open ports of both.
func TestMixedFamilies(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	tg := targets(t, l.Addr("target").String(), l.Addr6("target").String())
	ports := allPorts()[1:10001]
	rs, st := runIn(t, l, "client", tg, ports, &scan.Config{Seed: 2})
	byAddr := map[netip.Addr][]uint16{}
	for _, r := range rs {
		if r.State == scan.Open {
			byAddr[r.Addr] = append(byAddr[r.Addr], r.Port)
		}
	}
	for _, a := range []netip.Addr{l.Addr("target"), l.Addr6("target")} {
		if !slices.Equal(byAddr[a], labOpen) {
			t.Errorf("%v: open %v, want %v", a, byAddr[a], labOpen)
		}
	}
	if st.ByState["closed"] != 2*uint64(len(ports)-len(labOpen)) {
		t.Errorf("states %v", st.ByState)
	}
}

// TestUDPRateLimited: a UDP scan with the kernel's default ICMP rate
// limits on (a burst of 6 errors, then one a second over IPv4) finds DNS,
// NTP and echo open, every one of 30 closed ports closed (port-unreach, not
// open|filtered: the retries are paced to the target's ICMP rate), and a
// dropped port open|filtered; nmap -sU says the same of every port.
func TestUDPRateLimited(t *testing.T) {
	labtest.RequireCommand(t, "nmap", "nmap")
	l := labtest.New(t, "pair", lab.Options{Drop: []uint16{5000}})
	ports := []uint16{7, 53, 123, 5000}
	for p := uint16(1000); p < 1030; p++ {
		ports = append(ports, p)
	}
	spec := "7,53,123,1000-1029,5000"
	want := []string{"123/udp open udp-response", "5000/udp open|filtered no-response", "53/udp open udp-response", "7/udp open udp-response"}
	for _, a := range []netip.Addr{l.Addr("target"), l.Addr6("target")} {
		rs, st := runIn(t, l, "client", targets(t, a.String()), ports, &scan.Config{Type: scan.UDPScan, Seed: 1})
		if got := portStates(rs); !slices.Equal(got, want) {
			t.Errorf("%v: %q, want %q (stats %+v)", a, got, want, st)
		}
		if st.ByState["closed"] != 30 {
			t.Errorf("%v: %d closed, want 30 (states %v)", a, st.ByState["closed"], st.ByState)
		}
		for _, r := range rs {
			if r.Port == 53 && r.Service != "domain" || r.Port == 123 && r.Service != "ntp" {
				t.Errorf("%v: port %d named %q", a, r.Port, r.Service)
			}
		}
		t.Logf("%v: sonde -sU %v: sent %d, retried %d, answered %d/%d", a, st.Elapsed.Round(time.Millisecond), st.Sent, st.Retried, st.Answered, st.Probes)
		args := []string{"-n", "-Pn", "-sU", "-p", spec, "--reason", a.String()}
		if a.Is6() {
			args = append([]string{"-6"}, args...)
		}
		// nmap gives up on some rate-limited closed ports now and then
		// (open|filtered, in about half its runs over IPv4 here): those
		// are counted, not compared; every other port must agree.
		theirs, d := nmapStates(t, l, "client", args...)
		var gaveUp int
		theirs = slices.DeleteFunc(theirs, func(s string) bool {
			port, _ := strconv.Atoi(s[:strings.Index(s, "/")])
			if port >= 1000 && port < 1030 && strings.HasSuffix(s, " open|filtered no-response") {
				gaveUp++
				return true
			}
			return false
		})
		if !slices.Equal(portStates(rs), theirs) {
			t.Errorf("%v: sonde %q, nmap %q", a, portStates(rs), theirs)
		}
		t.Logf("%v: nmap -sU %v, %d of 30 closed ports left open|filtered", a, d.Round(time.Millisecond), gaveUp)
	}
}

// TestRateLimitedResets: the target sends at most 500 RSTs a second (an
// nftables limit on its output; then 100), and a scan of 3,000 closed
// ports (600) at the default rate (100,000 a second) loses most answers at
// first. The scan
// must find that the answers per second hold at the cap whatever it sends,
// bring its rate under the cap, and so report every port closed; with
// the adaptation off (FixedRate) the same scan reports most of them
// filtered.
func TestRateLimitedResets(t *testing.T) {
	labtest.RequireCommand(t, "nft", "nftables")
	for _, tc := range []struct{ limit, ports int }{{500, 3000}, {100, 600}} {
		l := labtest.New(t, "pair", lab.Options{NoServices: true})
		rules := filepath.Join(t.TempDir(), "rst.nft")
		nft := fmt.Sprintf("table inet rstlimit {\n\tchain out {\n\t\ttype filter hook output priority 0; policy accept;\n"+
			"\t\ttcp flags & rst == rst limit rate over %d/second drop\n\t}\n}\n", tc.limit)
		if err := os.WriteFile(rules, []byte(nft), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := l.Command("target", "nft", "-f", rules); r.Code != 0 {
			t.Fatalf("nft: %s", r.Stderr)
		}
		tg := targets(t, l.Addr("target").String())
		ports := allPorts()[1 : tc.ports+1]
		_, st := runIn(t, l, "client", tg, ports, &scan.Config{Seed: 1})
		t.Logf("limit %d/s, adaptive: %v, closed %d, rate at the end %.0f/s, sent %d, retried %d, est. loss %.0f%%", tc.limit, st.Elapsed.Round(time.Millisecond), st.ByState["closed"], st.Rate, st.Sent, st.Retried, 100*st.Loss())
		if st.ByState["closed"] != uint64(len(ports)) {
			t.Errorf("limit %d/s, adaptive: states %v, want all %d closed", tc.limit, st.ByState, len(ports))
		}
		// The rate came down from 100,000 to near the cap, and answers
		// needed retries (the loss estimate shows it).
		if st.Rate > float64(2*tc.limit) || st.Retried == 0 || st.Loss() < 0.5 {
			t.Errorf("limit %d/s, adaptive: rate %.0f/s (want at most %d), retried %d, estimated loss %.2f: the rate did not adapt", tc.limit, st.Rate, 2*tc.limit, st.Retried, st.Loss())
		}
		_, fixed := runIn(t, l, "client", tg, ports, &scan.Config{Seed: 2, FixedRate: true})
		t.Logf("limit %d/s, fixed: %v, closed %d, sent %d, retried %d", tc.limit, fixed.Elapsed.Round(time.Millisecond), fixed.ByState["closed"], fixed.Sent, fixed.Retried)
		if fixed.ByState["closed"] > uint64(len(ports))/2 {
			t.Errorf("limit %d/s, fixed rate: %d closed: the limit did not bite, so the test proves nothing", tc.limit, fixed.ByState["closed"])
		}
	}
}

// TestIPv6BeyondRouters: behind two routers, host discovery finds the far
// host's IPv6 address up (its SYN and ACK probes go out raw now), and a
// SYN scan through the routers' next hop, resolved by neighbour
// discovery, finds its open ports with the hop limit the routers left.
func TestIPv6BeyondRouters(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 2})
	far := l.Addr6("far")
	var hosts []scan.Host
	var err error
	l.Do("client", func() {
		hosts, err = scan.Discover(context.Background(), targets(t, far.String()), &scan.Config{Seed: 1, Timeout: 300 * time.Millisecond})
	})
	if err != nil || len(hosts) != 1 || !hosts[0].Up {
		t.Fatalf("Discover %v: %+v, %v", far, hosts, err)
	}
	rs, st := runIn(t, l, "client", targets(t, far.String()), []uint16{20, 21, 22, 23, 80}, &scan.Config{Seed: 1})
	want := []string{"21/tcp open syn-ack", "22/tcp open syn-ack", "80/tcp open syn-ack"}
	if got := portStates(rs); !slices.Equal(got, want) || st.ByState["closed"] != 2 {
		t.Errorf("%v: %q (states %v), want %q and 2 closed", far, got, st.ByState, want)
	}
	for _, r := range rs {
		if r.TTL != 62 {
			t.Errorf("%v port %d: hop limit %d, want 62 (two routers)", far, r.Port, r.TTL)
		}
	}
}
