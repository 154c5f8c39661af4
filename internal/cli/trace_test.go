package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"sonde/lab"
	"sonde/lab/labtest"
)

// TestTraceBadInputSendsNothing: bad input is one line, exit 2, and no
// packet leaves the client.
func TestTraceBadInputSendsNothing(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "no-such-host.invalid"}, `cannot resolve`},
		{[]string{"trace", "-m", "0", "198.18.0.2"}, `--max-hops 0`},
		{[]string{"trace", "-m", "256", "198.18.0.2"}, `--max-hops 256`},
		{[]string{"trace", "-f", "9", "-m", "5", "198.18.0.2"}, `--first 9`},
		{[]string{"trace", "-I", "-T", "198.18.0.2"}, `give one`},
		{[]string{"trace", "-q", "0", "198.18.0.2"}, `--queries 0`},
		{[]string{"trace", "-N", "0", "198.18.0.2"}, `--sim-queries 0`},
		{[]string{"trace", "-w", "0", "198.18.0.2"}, `--wait`},
		{[]string{"trace", "-p", "70000", "198.18.0.2"}, `--port 70000`},
		{[]string{"trace", "-6", "198.18.0.2"}, `not an IPv6 address`},
		{[]string{"trace", "--live", "--report", "3", "198.18.0.2"}, `conflict`},
		{[]string{"trace", "--ecmp", "8", "--classic", "198.18.0.2"}, `Paris`},
		{[]string{"trace", "--db", "/nonexistent.mmdb", "198.18.0.2"}, `nonexistent.mmdb`},
	} {
		before := txPackets(t, l)
		r := l.Sonde("client", tc.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if r.Code != ExitUsage || !strings.Contains(lines[0], tc.want) || len(lines) > 1 || r.Stdout != "" {
			t.Errorf("sonde %q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
		}
		if after := txPackets(t, l); after != before {
			t.Errorf("sonde %q sent %d packets", tc.args, after-before)
		}
	}
}

// TestTraceReportNoLossUnderRateLimits: with the kernel's default ICMP rate
// limits on the routers, --report 10 shows 0% loss on every hop, where mtr
// shows loss (logged, for comparison).
func TestTraceReportNoLossUnderRateLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("10 rounds a second apart")
	}
	l := labtest.New(t, "chain", lab.Options{Routers: 6, NoServices: true})
	far := l.Addr("far").String()
	r := l.Sonde("client", "trace", "-n", "--report", "10", "-i", "0.2", far)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 8 {
		t.Fatalf("want a header and 7 hops:\n%s", r.Stdout)
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || f[2] != "0.0%" || f[3] != "10" {
			t.Errorf("hop %q: want 0.0%% loss of 10", line)
		}
	}
	t.Logf("sonde --report 10 -i 0.2:\n%s", r.Stdout)
	if mtr := l.Command("client", "mtr", "-n", "-r", "-c", "10", "-i", "0.2", far); mtr.Code == 0 {
		t.Logf("mtr -n -r -c 10 -i 0.2:\n%s", mtr.Stdout)
	}
}

// TestTraceJSON: --json is one document with every hop and probe.
func TestTraceJSON(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 2, NoServices: true, ICMPRateLimit: lab.NoRateLimit})
	r := l.Sonde("client", "trace", "-n", "--json", "-I", l.Addr("far").String())
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var doc traceJSON
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, r.Stdout)
	}
	if !doc.Reached || doc.Method != "icmp" || len(doc.Hops) != 3 || !doc.Hops[2].Final {
		t.Fatalf("document: %+v", doc)
	}
	for _, h := range doc.Hops {
		if len(h.Probes) != 3 {
			t.Errorf("hop %d: %d probes", h.TTL, len(h.Probes))
		}
		for _, p := range h.Probes {
			if p.Addr == nil || p.RTTms == nil || *p.RTTms <= 0 {
				t.Errorf("hop %d: probe %+v", h.TTL, p)
			}
		}
	}
	if got := doc.Hops[2].Probes[0].Addr.String(); got != l.Addr("far").String() {
		t.Errorf("last hop %s, want far", got)
	}
}
