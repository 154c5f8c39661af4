package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	htmlreport "sonde/report"
	"sonde/scan"
)

// jsonResult is one line of --json output (and of a resume file): the
// schema the report reads back.
type jsonResult = htmlreport.ScanResult

func toJSON(r scan.Result) jsonResult {
	return jsonResult{Type: "port", Addr: r.Addr, Port: r.Port, Proto: r.Proto.String(), State: r.State.String(), Reason: r.Reason,
		TTL: r.TTL, Service: r.Service, Product: r.Product, Version: r.Version, Info: r.Info}
}

func fromJSON(j jsonResult) (scan.Result, bool) {
	if !j.Addr.IsValid() {
		return scan.Result{}, false
	}
	r := scan.Result{Addr: j.Addr, Port: j.Port, Proto: scan.TCP, Reason: j.Reason, TTL: j.TTL, Service: j.Service, Product: j.Product, Version: j.Version, Info: j.Info}
	if j.Proto == "udp" {
		r.Proto = scan.UDP
	}
	for s := scan.Open; s <= scan.OpenFiltered; s++ {
		if s.String() == j.State {
			r.State = s
		}
	}
	return r, true
}

// collector gathers results from the scan's goroutines, streams them as
// JSON lines when asked, and keeps them for the table and the files.
type collector struct {
	mu      sync.Mutex
	results []scan.Result
	json    *bufio.Writer
	hold    bool // -sV: open TCP ports are printed once named
	found   int
	flushed time.Time
}

func (c *collector) add(r scan.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results = append(c.results, r)
	if r.State == scan.Open || r.State == scan.OpenFiltered {
		c.found++
	}
	if c.json != nil && !(c.hold && r.Proto == scan.TCP && r.State == scan.Open) {
		c.writeJSON(r)
	}
}

func (c *collector) writeJSON(r scan.Result) {
	b, _ := json.Marshal(toJSON(r))
	c.json.Write(b)
	c.json.WriteByte('\n')
	// Streamed, but not a write per line: at most every 100 ms.
	if now := time.Now(); now.Sub(c.flushed) > 100*time.Millisecond {
		c.json.Flush()
		c.flushed = now
	}
}

// writeHost writes a host discovery's verdict as a JSON line ("type":
// "host", state "up" or "down").
func (c *collector) writeHost(h scan.Host) {
	c.mu.Lock()
	defer c.mu.Unlock()
	state := "down"
	if h.Up {
		state = "up"
	}
	b, _ := json.Marshal(jsonResult{Type: "host", Addr: h.Addr, State: state, Reason: h.Reason})
	c.json.Write(b)
	c.json.WriteByte('\n')
}

func (c *collector) snapshot() []scan.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.results)
	slices.SortFunc(out, func(a, b scan.Result) int {
		if x := a.Addr.Compare(b.Addr); x != 0 {
			return x
		}
		if a.Proto != b.Proto {
			return int(a.Proto) - int(b.Proto)
		}
		return int(a.Port) - int(b.Port)
	})
	// A resumed scan may probe again a few ports of the interrupted one.
	return slices.CompactFunc(out, func(a, b scan.Result) bool {
		return a.Addr == b.Addr && a.Proto == b.Proto && a.Port == b.Port
	})
}

// phaseStats is what one phase (TCP or UDP) of a scan reports.
type phaseStats struct {
	name  string
	typ   scan.Type
	ports []uint16
	st    scan.Stats
}

func executeScan(ctx context.Context, e *env, f *scanFlags, p *scanPlan, resumed *resumeState) error {
	if p.cfg.Seed == 0 {
		p.cfg.Seed = uint64(time.Now().UnixNano())
	}
	start := time.Now()
	c := &collector{hold: p.versions}
	if f.jsonOut {
		c.json = bufio.NewWriter(e.stdout)
	}
	skip := ""
	if resumed != nil {
		for _, j := range resumed.Results {
			if r, ok := fromJSON(j); ok {
				c.add(r)
			}
		}
		skip = resumed.Phase
	}
	prog := newProgress(e, f, c)
	var phases []phaseStats
	var runErr error
	phase := ""
	run := func(name string, typ scan.Type, ports []uint16) {
		if runErr != nil || len(ports) == 0 {
			return
		}
		if skip != "" && skip != name {
			return // done before the interruption
		}
		cfg := p.cfg
		cfg.Type = typ
		if resumed != nil && skip == name {
			cfg.Start, cfg.Answered = resumed.Next, resumed.answered
			skip = ""
		}
		cfg.Progress = prog.update
		phase = name
		st, err := scan.Run(ctx, p.targets, ports, &cfg, c.add)
		if errors.Is(err, scan.ErrNeedEthernet) && typ == scan.SYN {
			fmt.Fprintf(e.stderr, "sonde: no Ethernet route to the targets (the host itself?): a connect scan instead\n")
			typ, cfg.Type = scan.Connect, scan.Connect
			st, err = scan.Run(ctx, p.targets, ports, &cfg, c.add)
		}
		phases = append(phases, phaseStats{name: name, typ: typ, ports: ports, st: st})
		if err != nil {
			runErr = err
		}
	}
	if (p.discovery || p.pingOnly) && privileged() && (resumed == nil || resumed.Phase == "") {
		hosts, err := scan.Discover(ctx, p.targets, &p.cfg)
		if err != nil {
			return err
		}
		var up []string
		for _, h := range hosts {
			if c.json != nil {
				c.writeHost(h)
			}
			if h.Up {
				up = append(up, h.Addr.String())
				if p.pingOnly && c.json == nil {
					fmt.Fprintf(e.stdout, "sonde scan report for %s\nHost is up (%s).\n", h.Addr, h.Reason)
				}
			}
		}
		if p.pingOnly {
			if c.json != nil {
				return c.json.Flush()
			}
			fmt.Fprintf(e.stdout, "sonde done: %d IP addresses (%d hosts up) scanned in %.2fs\n", len(hosts), len(up), time.Since(start).Seconds())
			return nil
		}
		if len(up) == 0 {
			fmt.Fprintf(e.stdout, "No host is up (%d scanned). If one is, but blocks discovery probes, try -Pn.\n", len(hosts))
			return nil
		}
		if len(up) < len(hosts) {
			t, err := scan.ParseTargets(ctx, scan.TargetSpec{Include: up})
			if err != nil {
				return err
			}
			p.targets = t
		}
	}
	run("tcp", p.tcpType, p.tcp)
	if p.udpScan {
		run("udp", scan.UDPScan, p.udp)
	}
	prog.done()
	if p.versions && runErr == nil {
		detectVersions(ctx, c)
	}
	if c.json != nil && p.versions {
		for _, r := range c.snapshot() {
			if r.Proto == scan.TCP && r.State == scan.Open {
				c.writeJSON(r)
			}
		}
	}
	elapsed := time.Since(start)
	results := c.snapshot()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	interrupted := errors.Is(runErr, context.Canceled)
	hidden := hiddenState(phases)
	if f.all {
		hidden = ""
	}
	var table bytes.Buffer
	writeTable(&table, p, results, phases, hidden)
	if !f.jsonOut {
		e.stdout.Write(table.Bytes())
	}
	if c.json != nil {
		b, _ := json.Marshal(statsJSON(phases, elapsed))
		c.json.Write(b)
		c.json.WriteByte('\n')
		c.json.Flush()
	}
	for letter, file := range p.outputs {
		var buf bytes.Buffer
		switch letter {
		case "X":
			writeXML(&buf, e.args, p, results, phases, hidden, start, elapsed)
		case "G":
			writeGrepable(&buf, e.args, p, results, phases, hidden, start, elapsed)
		case "N":
			buf.Write(table.Bytes())
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	writeSummary(e.stderr, phases, p.targets.Len(), elapsed)
	if interrupted {
		file := f.resumeFile
		if f.resume != "" {
			file = f.resume
		}
		st := resumeState{Args: savedArgs(e.args, p.cfg.Seed), Phase: phase}
		if n := len(phases); n > 0 {
			st.Next = phases[n-1].st.Next
			st.Answered = encodeAnswered(phases[n-1].st.Answers)
		}
		for _, r := range results {
			st.Results = append(st.Results, toJSON(r))
		}
		b, _ := json.Marshal(st)
		if err := os.WriteFile(file, b, 0o644); err == nil {
			fmt.Fprintf(e.stderr, "sonde: interrupted; continue with: sonde scan --resume %s\n", file)
		}
		return runErr
	}
	return nil
}

// savedArgs is the command line to save for --resume: without the
// subcommand's name and any --resume, with the seed made explicit.
func savedArgs(args []string, seed uint64) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case i == 0 && a == "scan":
		case a == "--resume" || a == "--seed" || a == "--resume-file":
			i++
		case strings.HasPrefix(a, "--resume=") || strings.HasPrefix(a, "--seed=") || strings.HasPrefix(a, "--resume-file="):
		default:
			out = append(out, a)
		}
	}
	return append(out, "--seed", strconv.FormatUint(seed, 10))
}

// hiddenState names the state the table leaves out, as nmap's "Not shown"
// line does: the most frequent state other than open when more than 25
// ports are in it, else closed (closed ports are only reported with
// --all).
func hiddenState(phases []phaseStats) string {
	best, n := "closed", uint64(0)
	for _, ph := range phases {
		for k, v := range ph.st.ByState {
			if k == "open" || k == "open|filtered" && ph.typ != scan.UDPScan {
				continue
			}
			if v > n && v > 25 {
				best, n = k, v
			}
		}
	}
	return best
}

// byHost groups sorted results by address.
func byHost(results []scan.Result) [][]scan.Result {
	var out [][]scan.Result
	for i := 0; i < len(results); {
		j := i
		for j < len(results) && results[j].Addr == results[i].Addr {
			j++
		}
		out = append(out, results[i:j])
		i = j
	}
	return out
}

func shown(r scan.Result, hidden string) bool { return r.State.String() != hidden }

func hostReason(rs []scan.Result) (string, uint8) {
	for _, r := range rs {
		if r.Reason != "no-response" {
			return r.Reason, r.TTL
		}
	}
	return "user-set", 0
}

type hiddenPorts struct {
	count                uint64
	state, proto, reason string
}

// notShown counts a host's ports left out of its table, by state: from
// the scan's counters when it scanned one host, else all in the hidden
// state.
func notShown(rows []scan.Result, phases []phaseStats, nports, hosts int, hidden string) []hiddenPorts {
	var out []hiddenPorts
	if hosts > 1 {
		if hidden == "" {
			return out
		}
		for _, ph := range phases {
			proto := "tcp"
			if ph.typ == scan.UDPScan {
				proto = "udp"
			}
			rest := len(ph.ports)
			for _, r := range rows {
				if r.Proto.String() == proto {
					rest--
				}
			}
			if rest > 0 {
				out = append(out, hiddenPorts{uint64(rest), hidden, proto, hiddenReason(hidden, ph.typ)})
			}
		}
		return out
	}
	for _, ph := range phases {
		proto := "tcp"
		if ph.typ == scan.UDPScan {
			proto = "udp"
		}
		for st := scan.Open; st <= scan.OpenFiltered; st++ {
			n := ph.st.ByState[st.String()]
			for _, r := range rows {
				if r.State == st && r.Proto.String() == proto {
					n--
				}
			}
			if n > 0 && n < 1<<62 {
				out = append(out, hiddenPorts{n, st.String(), proto, hiddenReason(st.String(), ph.typ)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b hiddenPorts) int { return int(b.count) - int(a.count) })
	return out
}

func hiddenReason(state string, typ scan.Type) string {
	switch {
	case state == "closed" && typ == scan.UDPScan:
		return "port-unreach"
	case state == "closed" && typ == scan.Connect:
		return "conn-refused"
	case state == "filtered" || state == "open|filtered":
		return "no-response"
	}
	return "reset"
}

// writeTable writes nmap's normal output, per host: the ports not in the
// hidden state, then a line of what was left out.
func writeTable(w io.Writer, p *scanPlan, results []scan.Result, phases []phaseStats, hidden string) {
	hosts := byHost(results)
	nports := 0
	for _, ph := range phases {
		nports += len(ph.ports)
	}
	for _, rs := range hosts {
		fmt.Fprintf(w, "sonde scan report for %s\n", rs[0].Addr)
		fmt.Fprintf(w, "Host is up.\n")
		var rows []scan.Result
		for _, r := range rs {
			if shown(r, hidden) {
				rows = append(rows, r)
			}
		}
		if ns := notShown(rows, phases, nports, len(hosts), hidden); len(ns) > 0 {
			var parts []string
			for _, n := range ns {
				parts = append(parts, fmt.Sprintf("%d %s %s ports (%s)", n.count, n.state, n.proto, n.reason))
			}
			fmt.Fprintf(w, "Not shown: %s\n", strings.Join(parts, ", "))
		}
		if len(rows) == 0 {
			fmt.Fprintln(w)
			continue
		}
		versions := slices.ContainsFunc(rows, func(r scan.Result) bool { return r.Product != "" || r.Version != "" })
		pw, sw, svw, rw := len("PORT"), len("STATE"), len("SERVICE"), len("REASON")
		for _, r := range rows {
			pw = max(pw, len(portName(r)))
			sw = max(sw, len(r.State.String()))
			svw = max(svw, len(r.Service))
			rw = max(rw, len(reasonText(r)))
		}
		row := func(port, state, service, reason, version string) {
			line := fmt.Sprintf("%-*s %-*s %-*s", pw, port, sw, state, svw, service)
			if p.reason {
				line += fmt.Sprintf(" %-*s", rw, reason)
			}
			if versions {
				line += " " + version
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
		row("PORT", "STATE", "SERVICE", "REASON", "VERSION")
		for _, r := range rows {
			row(portName(r), r.State.String(), r.Service, reasonText(r), versionText(r))
		}
		fmt.Fprintln(w)
	}
	if len(hosts) == 0 {
		fmt.Fprintf(w, "No port found open (%d hosts scanned).\n", p.targets.Len())
	}
}

// reasonText is nmap's reason column: the reason and the reply's TTL.
func reasonText(r scan.Result) string {
	if r.TTL == 0 {
		return r.Reason
	}
	return fmt.Sprintf("%s ttl %d", r.Reason, r.TTL)
}

func portName(r scan.Result) string { return strconv.Itoa(int(r.Port)) + "/" + r.Proto.String() }

func versionText(r scan.Result) string {
	return strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{r.Product, r.Version, paren(r.Info)}, func(s string) bool { return s == "" }), " "))
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// writeSummary prints the counters of each phase on stderr.
func writeSummary(w io.Writer, phases []phaseStats, hosts uint64, elapsed time.Duration) {
	for _, ph := range phases {
		st := ph.st
		if ph.typ == scan.UDPScan {
			fmt.Fprintf(w, "sonde: %s scan: %d probes, %d sent (%d retries), %d answered, %d of them only to a retry (ICMP rate limits, loss); coverage %.1f%%\n",
				ph.typ, st.Probes, st.Sent, st.Retried, st.Answered, st.Recovered, 100*st.Coverage())
			continue
		}
		fmt.Fprintf(w, "sonde: %s scan: %d probes, %d sent (%d retries), %d answered; estimated loss %.1f%%, coverage %.1f%%\n",
			ph.typ, st.Probes, st.Sent, st.Retried, st.Answered, 100*st.Loss(), 100*st.Coverage())
	}
	fmt.Fprintf(w, "sonde: %d host(s) scanned in %.2fs\n", hosts, elapsed.Seconds())
}

func statsJSON(phases []phaseStats, elapsed time.Duration) map[string]any {
	m := map[string]any{"type": "stats", "elapsed": elapsed.Round(time.Millisecond).String()}
	var ps []map[string]any
	for _, ph := range phases {
		st := ph.st
		ps = append(ps, map[string]any{"scan": ph.typ.String(), "probes": st.Probes, "sent": st.Sent, "retried": st.Retried,
			"answered": st.Answered, "loss": st.Loss(), "coverage": st.Coverage(), "states": st.ByState})
	}
	m["phases"] = ps
	return m
}

func xmlEsc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

// scanInfoType names a scan type as nmap's XML does.
func scanInfoType(t scan.Type) string {
	return map[scan.Type]string{scan.SYN: "syn", scan.Connect: "connect", scan.ACK: "ack", scan.FIN: "fin", scan.NULL: "null", scan.Xmas: "xmas", scan.UDPScan: "udp"}[t]
}

// portRanges writes ports as nmap's services attribute: 1-3,7.
func portRanges(ports []uint16) string {
	ps := slices.Clone(ports)
	slices.Sort(ps)
	var b strings.Builder
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ps[i], ps[j])
		} else {
			fmt.Fprintf(&b, "%d", ps[i])
		}
		i = j + 1
	}
	return b.String()
}

// writeXML writes nmap's XML output (valid against nmap.dtd).
func writeXML(w io.Writer, args []string, p *scanPlan, results []scan.Result, phases []phaseStats, hidden string, start time.Time, elapsed time.Duration) {
	end := start.Add(elapsed)
	cmdline := "sonde " + strings.Join(args, " ")
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n")
	fmt.Fprintf(w, "<nmaprun scanner=\"nmap\" args=\"%s\" start=\"%d\" startstr=\"%s\" version=\"%s\" xmloutputversion=\"1.05\">\n",
		xmlEsc(cmdline), start.Unix(), start.Format(time.ANSIC), xmlEsc("sonde-"+buildVersion()))
	for _, ph := range phases {
		proto := "tcp"
		if ph.typ == scan.UDPScan {
			proto = "udp"
		}
		fmt.Fprintf(w, "<scaninfo type=\"%s\" protocol=\"%s\" numservices=\"%d\" services=\"%s\"/>\n", scanInfoType(ph.typ), proto, len(ph.ports), portRanges(ph.ports))
	}
	fmt.Fprintf(w, "<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n")
	hosts := byHost(results)
	nports := 0
	for _, ph := range phases {
		nports += len(ph.ports)
	}
	for _, rs := range hosts {
		reason, ttl := hostReason(rs)
		fmt.Fprintf(w, "<host starttime=\"%d\" endtime=\"%d\"><status state=\"up\" reason=\"%s\" reason_ttl=\"%d\"/>\n", start.Unix(), end.Unix(), xmlEsc(reason), ttl)
		fam := "ipv4"
		if rs[0].Addr.Is6() {
			fam = "ipv6"
		}
		fmt.Fprintf(w, "<address addr=\"%s\" addrtype=\"%s\"/>\n<hostnames>\n</hostnames>\n<ports>", rs[0].Addr, fam)
		var rows []scan.Result
		for _, r := range rs {
			if shown(r, hidden) {
				rows = append(rows, r)
			}
		}
		if rest := nports - len(rows); rest > 0 {
			reason := "resets"
			switch {
			case hidden == "filtered" || hidden == "open|filtered":
				reason = "no-responses"
			case len(phases) == 1 && phases[0].typ == scan.UDPScan:
				reason = "port-unreaches"
			}
			fmt.Fprintf(w, "<extraports state=\"%s\" count=\"%d\">\n<extrareasons reason=\"%s\" count=\"%d\"/>\n</extraports>\n", xmlEsc(hidden), rest, reason, rest)
		}
		for _, r := range rows {
			fmt.Fprintf(w, "<port protocol=\"%s\" portid=\"%d\"><state state=\"%s\" reason=\"%s\" reason_ttl=\"%d\"/>", r.Proto, r.Port, xmlEsc(r.State.String()), xmlEsc(r.Reason), r.TTL)
			method, conf := "table", 3
			if r.Product != "" || r.Version != "" {
				method, conf = "probed", 10
			}
			fmt.Fprintf(w, "<service name=\"%s\"", xmlEsc(r.Service))
			if r.Product != "" {
				fmt.Fprintf(w, " product=\"%s\"", xmlEsc(r.Product))
			}
			if r.Version != "" {
				fmt.Fprintf(w, " version=\"%s\"", xmlEsc(r.Version))
			}
			if r.Info != "" {
				fmt.Fprintf(w, " extrainfo=\"%s\"", xmlEsc(r.Info))
			}
			fmt.Fprintf(w, " method=\"%s\" conf=\"%d\"/></port>\n", method, conf)
		}
		fmt.Fprintf(w, "</ports>\n</host>\n")
	}
	total := p.targets.Len()
	fmt.Fprintf(w, "<runstats><finished time=\"%d\" timestr=\"%s\" summary=\"sonde done at %s; %d IP addresses (%d hosts up) scanned in %.2f seconds\" elapsed=\"%.2f\" exit=\"success\"/><hosts up=\"%d\" down=\"%d\" total=\"%d\"/>\n</runstats>\n</nmaprun>\n",
		end.Unix(), end.Format(time.ANSIC), end.Format(time.ANSIC), total, len(hosts), elapsed.Seconds(), elapsed.Seconds(), len(hosts), total-uint64(len(hosts)), total)
}

// writeGrepable writes nmap's grepable output (-oG).
func writeGrepable(w io.Writer, args []string, p *scanPlan, results []scan.Result, phases []phaseStats, hidden string, start time.Time, elapsed time.Duration) {
	fmt.Fprintf(w, "# sonde %s scan initiated %s as: sonde %s\n", buildVersion(), start.Format(time.ANSIC), strings.Join(args, " "))
	nports := 0
	for _, ph := range phases {
		nports += len(ph.ports)
	}
	hosts := byHost(results)
	for _, rs := range hosts {
		fmt.Fprintf(w, "Host: %s ()\tStatus: Up\n", rs[0].Addr)
		var parts []string
		for _, r := range rs {
			if shown(r, hidden) {
				parts = append(parts, fmt.Sprintf("%d/%s/%s//%s//%s/", r.Port, r.State, r.Proto, r.Service, strings.ReplaceAll(versionText(r), "/", "|")))
			}
		}
		line := fmt.Sprintf("Host: %s ()\tPorts: %s", rs[0].Addr, strings.Join(parts, ", "))
		if rest := nports - len(parts); rest > 0 {
			line += fmt.Sprintf("\tIgnored State: %s (%d)", hidden, rest)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "# sonde done at %s -- %d IP addresses (%d hosts up) scanned in %.2f seconds\n", start.Add(elapsed).Format(time.ANSIC), p.targets.Len(), len(hosts), elapsed.Seconds())
}

// progress shows a scan's progress: a line redrawn in place on a terminal,
// a status line every --stats-every otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	c     *collector
	drawn bool
}

func newProgress(e *env, f *scanFlags, c *collector) *progress {
	p := &progress{w: e.stderr, c: c, every: f.progress, last: time.Now()}
	if p.every <= 0 {
		p.every = 10 * time.Second
	}
	if fh, ok := e.stderr.(*os.File); ok {
		if st, err := fh.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(st scan.Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	c.mu.Lock()
	found := c.found
	c.mu.Unlock()
	done := float64(st.Answered)
	frac := 0.0
	if st.Probes > 0 {
		frac = min(float64(st.Sent-st.Retried)/float64(st.Probes), 1)
	}
	eta := "?"
	if frac > 0.01 {
		eta = (time.Duration(float64(st.Elapsed)*(1/frac-1)) / time.Second * time.Second).String()
	}
	_ = done
	if p.tty {
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r[%s%s] %5.1f%%  %7.0f probes/s  found %d  ETA %s   ", strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, st.Rate, found, eta)
		p.drawn = true
		return
	}
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "sonde: %.1f%% sent, %d answered, %d found, %.0f probes/s, ETA %s\n", 100*frac, st.Answered, found, st.Rate, eta)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 90))
	}
}

// detectVersions names the services of the open TCP ports (-sV), a few at
// a time.
func detectVersions(ctx context.Context, c *collector) {
	c.mu.Lock()
	var idx []int
	for i, r := range c.results {
		if r.Proto == scan.TCP && r.State == scan.Open {
			idx = append(idx, i)
		}
	}
	rs := slices.Clone(c.results)
	c.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, i := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			scan.DetectService(ctx, &rs[i], 3*time.Second)
		}()
	}
	wg.Wait()
	c.mu.Lock()
	for _, i := range idx {
		c.results[i] = rs[i]
	}
	c.mu.Unlock()
}
