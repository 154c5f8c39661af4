package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"sonde/scan"
)

func init() {
	register(newScanCmd, "scan")
	addDemoStep(demoStep{order: 30, title: "scan: every TCP port of the target with SYNs, then name the services (-sV)", run: func(ctx context.Context, d *demo) error {
		return d.sonde(ctx, d.lab.Topology.Client, "scan", "-p-", "-sV", "--seed", "1", d.target().String())
	}})
}

// scanFlags are sonde scan's flags, named as nmap names them where nmap
// has the option.
type scanFlags struct {
	ports                  string
	topPorts               int
	fast                   bool
	types                  []string // -sS -sT -sU -sA -sF -sN -sX -sV -sn: the letters after -s
	pn                     string   // -Pn: "n"
	out                    []string // -oX -oG -oN -oA: the letters after -o
	il                     string   // -iL: "L"
	exclude, excludeFile   string
	rate, maxRate, retries int
	seed                   uint64
	shard                  string
	jsonOut                bool
	all                    bool
	reason                 bool
	resume, resumeFile     string
	timeout                time.Duration
	timing                 string
	noResolve              bool
	noDefaultExclude       bool
	progress               time.Duration
}

func newScanCmd(e *env) *cobra.Command { return newScanCmdResumed(e, nil) }

// newScanCmdResumed builds the command; resumed, when not nil, is the state
// of an interrupted scan whose command line is being run again.
func newScanCmdResumed(e *env, resumed *resumeState) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] TARGET…",
		Short: "Scan ports and hosts as nmap does, at the speed of masscan and zmap",
		Long: `Scan finds which ports of which hosts are open, closed or filtered, and why
(nmap's states and reasons).

Targets in nmap's syntax: 198.18.0.2, 198.18.0.0/24, 198.18.0.1-20,
198.18.1-3.0-255, 2001:2::1, host names; -iL FILE reads them from a file;
--exclude and --exclude-file leave some out. Reserved, multicast, broadcast,
documentation and benchmarking ranges are left out unless the target is a
sonde lab (or --no-default-exclude).

Ports: -p 22,80,1000-2000,U:53,T:443, -p- (all), --top-ports N, -F (top 100);
the default is the top 1000.

Scan types: -sS SYN (the default with privileges), -sT connect (without),
-sU UDP, -sA ACK, -sF FIN, -sN NULL, -sX Xmas; -sV names the services;
-sn only finds the hosts that are up, -Pn skips that step.

The probes go out in a keyed random order (--seed makes it reproducible;
--shard i/n runs part i of n, so n machines cover the scan once), unanswered
probes are retried, and the rate adapts to the loss it measures.

Output: an nmap-like table; --json (JSON lines as results arrive), -oX FILE
(nmap XML), -oG FILE (grepable), -oN FILE (the table), -oA BASE (all three).
Ctrl-C writes what was found and a file to --resume from.`,
		Example: `  sonde scan 198.18.0.2
  sonde scan -p- 198.18.0.2 -oX scan.xml
  sonde scan -sU -p 53,123,161 198.18.0.2
  sonde scan -p80 --rate 200000 198.19.0.0/16 --json > found.jsonl
  sonde scan -p- --seed 42 --shard 0/4 198.18.0.0/24`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.resume != "" && resumed == nil {
				return resumeScan(cmd.Context(), e, f.resume)
			}
			p, err := f.plan(cmd.Context(), e, args)
			if err != nil {
				return err
			}
			return executeScan(cmd.Context(), e, &f, p, resumed)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.ports, "ports", "p", "", "ports: 22,80,1000-2000,U:53,T:443; - for all")
	fl.IntVar(&f.topPorts, "top-ports", 0, "scan the N most common ports")
	fl.BoolVarP(&f.fast, "fast", "F", false, "scan the 100 most common ports")
	fl.StringArrayVarP(&f.types, "scan", "s", nil, "scan type: -sS SYN, -sT connect, -sU UDP, -sA ACK, -sF FIN, -sN NULL, -sX Xmas, -sV versions, -sn hosts only")
	fl.StringVarP(&f.pn, "no-ping", "P", "", "-Pn: treat every target as up (skip host discovery)")
	fl.StringArrayVarP(&f.out, "output", "o", nil, "-oX FILE nmap XML, -oG FILE grepable, -oN FILE table, -oA BASE all three")
	fl.StringVarP(&f.il, "input", "i", "", "-iL FILE: read targets from FILE (- for standard input)")
	fl.StringVar(&f.exclude, "exclude", "", "targets to leave out, comma-separated")
	fl.StringVar(&f.excludeFile, "exclude-file", "", "file of targets to leave out")
	fl.IntVar(&f.rate, "rate", 0, "initial probes per second (default 100000; connect scans: unbounded)")
	fl.IntVar(&f.maxRate, "max-rate", 0, "highest probes per second the rate may adapt to (default 1000000)")
	fl.IntVar(&f.retries, "retries", 6, "send an unanswered probe at most this many more times")
	fl.Uint64Var(&f.seed, "seed", 0, "key of the random order and the probes' cookies (default: from the clock)")
	fl.StringVar(&f.shard, "shard", "", "i/n: scan part i (0-based) of n")
	fl.BoolVar(&f.jsonOut, "json", false, "print JSON lines, one per result as it arrives, and a stats line")
	fl.BoolVar(&f.all, "all", false, "also report closed and unanswered ports")
	fl.BoolVar(&f.reason, "reason", false, "show why each port is in its state (nmap's --reason)")
	fl.StringVar(&f.resume, "resume", "", "continue the interrupted scan saved in FILE")
	fl.StringVar(&f.resumeFile, "resume-file", "sonde-scan.resume", "where an interrupted scan saves its state")
	fl.Var(secondsFlag{&f.timeout}, "timeout", "wait at most this long for replies after each pass (default 1s)")
	fl.StringVarP(&f.timing, "timing", "T", "", "nmap's -T0…-T5, accepted and mapped to --rate")
	fl.BoolVarP(&f.noResolve, "no-resolve", "n", false, "never resolve addresses to names (sonde never does; for nmap's habit)")
	fl.BoolVar(&f.noDefaultExclude, "no-default-exclude", false, "scan reserved, multicast, broadcast and benchmarking ranges too")
	fl.Var(secondsFlag{&f.progress}, "stats-every", "print a status line on stderr this often when it is not a terminal (default 10s)")
	return cmd
}

// scanPlan is a validated scan: everything needed to run it.
type scanPlan struct {
	targets   *scan.Targets
	tcp, udp  []uint16
	tcpType   scan.Type
	udpScan   bool
	versions  bool
	discovery bool
	pingOnly  bool
	reason    bool
	cfg       scan.Config
	outputs   map[string]string // "X", "G", "N" → file
	args      []string
}

// optionFile finds the value of an nmap-style option written as two
// words (-oX FILE, -iL FILE): pflag reads "-oX" as -o with the value X,
// so FILE arrives as a positional argument, which is removed from args.
func optionFile(cmdline []string, opt string, args *[]string) (string, error) {
	for i, a := range cmdline {
		if a == opt && i+1 < len(cmdline) {
			file := cmdline[i+1]
			if k := slices.Index(*args, file); k >= 0 {
				*args = slices.Delete(*args, k, k+1)
			}
			return file, nil
		}
		if v, ok := strings.CutPrefix(a, opt+"="); ok {
			return v, nil
		}
	}
	return "", usagef("%s needs a file name", opt)
}

func (f *scanFlags) plan(ctx context.Context, e *env, args []string) (*scanPlan, error) {
	p := &scanPlan{outputs: map[string]string{}, discovery: true, reason: f.reason, cfg: scan.Config{Seed: f.seed, Retries: f.retries, Rate: f.rate, MaxRate: f.maxRate, All: f.all, Timeout: f.timeout}}
	if f.retries == 0 {
		p.cfg.Retries = -1
	}
	for _, o := range f.out {
		letter, inline, _ := strings.Cut(o, "=")
		switch letter {
		case "X", "G", "N", "A":
		default:
			return nil, usagef("-o%s: want -oX, -oG, -oN or -oA", o)
		}
		file := inline
		if file == "" {
			var err error
			if file, err = optionFile(e.args, "-o"+letter, &args); err != nil {
				return nil, err
			}
		}
		if letter == "A" {
			p.outputs["X"], p.outputs["G"], p.outputs["N"] = file+".xml", file+".gnmap", file+".nmap"
		} else {
			p.outputs[letter] = file
		}
	}
	var include []string
	if f.il != "" {
		if f.il[0] != 'L' {
			return nil, usagef("-i%s: want -iL FILE", f.il)
		}
		file := strings.TrimPrefix(strings.TrimPrefix(f.il, "L"), "=")
		if file == "" {
			var err error
			if file, err = optionFile(e.args, "-iL", &args); err != nil {
				return nil, err
			}
		}
		words, err := readWords(e, file)
		if err != nil {
			return nil, asUsage(fmt.Errorf("-iL %s: %w", file, err))
		}
		include = append(include, words...)
	}
	include = append(include, args...)
	p.args = args
	if len(include) == 0 {
		return nil, usagef("no target: name hosts, prefixes or ranges, or -iL FILE")
	}
	for _, t := range f.types {
		for _, c := range t {
			switch c {
			case 'S':
				p.tcpType = scan.SYN
			case 'T':
				p.tcpType = scan.Connect
			case 'A':
				p.tcpType = scan.ACK
			case 'F':
				p.tcpType = scan.FIN
			case 'N':
				p.tcpType = scan.NULL
			case 'X':
				p.tcpType = scan.Xmas
			case 'U':
				p.udpScan = true
			case 'V':
				p.versions = true
			case 'n':
				p.pingOnly = true
			default:
				return nil, usagef("-s%s: unknown scan type %q (want S, T, U, A, F, N, X, V or n)", t, c)
			}
		}
	}
	explicitTCP := slices.ContainsFunc(f.types, func(t string) bool { return strings.ContainsAny(t, "STAFNX") })
	if !explicitTCP && !privileged() {
		p.tcpType = scan.Connect
	}
	switch f.pn {
	case "":
	case "n":
		p.discovery = false
	default:
		return nil, usagef("-P%s: only -Pn is supported", f.pn)
	}
	switch f.timing {
	case "":
	case "0", "1", "2", "3", "4", "5":
		if f.rate == 0 {
			p.cfg.Rate = []int{100, 1000, 10000, 50000, 100000, 200000}[f.timing[0]-'0']
		}
	default:
		return nil, usagef("-T%s: want -T0 to -T5", f.timing)
	}
	switch {
	case f.rate < 0:
		return nil, usagef("--rate %d: must be positive", f.rate)
	case f.maxRate < 0:
		return nil, usagef("--max-rate %d: must be positive", f.maxRate)
	case f.retries < 0 || f.retries > 50:
		return nil, usagef("--retries %d: want 0 to 50", f.retries)
	case f.timeout < 0:
		return nil, usagef("--timeout %v: must not be negative", f.timeout)
	}
	if f.shard != "" {
		is, ns, ok := strings.Cut(f.shard, "/")
		i, err1 := strconv.ParseUint(is, 10, 64)
		n, err2 := strconv.ParseUint(ns, 10, 64)
		switch {
		case !ok || err1 != nil || err2 != nil || n == 0:
			return nil, usagef("--shard %q: want i/n, as 0/4", f.shard)
		case i >= n:
			return nil, usagef("--shard %s: the index %d must be below the count %d (shards are 0/%d to %d/%d)", f.shard, i, n, n, n-1, n)
		}
		p.cfg.Shard = scan.Shard{I: i, N: n}
	}
	// Ports.
	var ports scan.Ports
	switch {
	case f.ports != "" && (f.topPorts > 0 || f.fast):
		return nil, usagef("-p and --top-ports/-F: give one of them")
	case f.ports != "":
		var err error
		if ports, err = scan.ParsePorts(f.ports); err != nil {
			return nil, asUsage(err)
		}
	case f.topPorts < 0 || f.topPorts > 65535:
		return nil, usagef("--top-ports %d: want 1 to 65535", f.topPorts)
	default:
		n := 1000
		if f.fast {
			n = 100
		}
		if f.topPorts > 0 {
			n = f.topPorts
		}
		ports = scan.Ports{TCP: scan.TopPorts(scan.TCP, n), UDP: scan.TopPorts(scan.UDP, n)}
	}
	tcpWanted := !p.udpScan || explicitTCP
	if tcpWanted {
		p.tcp = ports.For(scan.TCP)
	}
	if p.udpScan {
		p.udp = ports.For(scan.UDP)
	}
	if !p.pingOnly && len(p.tcp)+len(p.udp) == 0 {
		return nil, usagef("-p %s: no port for the scan types asked (T: ports need a TCP scan, U: ports -sU)", f.ports)
	}
	// Targets.
	spec := scan.TargetSpec{Include: include, DefaultExclude: !f.noDefaultExclude, Resolve: func(ctx context.Context, h string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
	}}
	if f.exclude != "" {
		spec.Exclude = strings.Split(f.exclude, ",")
	}
	if f.excludeFile != "" {
		words, err := readWords(e, f.excludeFile)
		if err != nil {
			return nil, asUsage(fmt.Errorf("--exclude-file %s: %w", f.excludeFile, err))
		}
		spec.Exclude = append(spec.Exclude, words...)
	}
	if inSondeLab() {
		spec.Allow = []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("2001:2::/48")}
	}
	t, err := scan.ParseTargets(ctx, spec)
	if errors.Is(err, scan.ErrNoTargets) && !f.noDefaultExclude {
		spec.DefaultExclude = false
		if _, err2 := scan.ParseTargets(ctx, spec); errors.Is(err2, scan.ErrNoTargets) {
			return nil, usagef("no target left after --exclude")
		}
		return nil, usagef("no target left after exclusions (reserved, multicast, broadcast, documentation and benchmarking ranges are excluded outside a sonde lab; --no-default-exclude scans them)")
	}
	if err != nil {
		return nil, asUsage(err)
	}
	p.targets = t
	return p, nil
}

// readWords reads whitespace-separated words from a file (or "-", standard
// input), skipping # comments.
func readWords(e *env, file string) ([]string, error) {
	var r io.Reader
	if file == "-" {
		r = e.stdin
	} else {
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		out = append(out, strings.Fields(line)...)
	}
	return out, sc.Err()
}

// privileged reports whether raw scans can run: root, or CAP_NET_RAW.
func privileged() bool {
	if os.Geteuid() == 0 {
		return true
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<13) != 0 // CAP_NET_RAW
		}
	}
	return false
}

// inSondeLab reports whether the process runs in the network namespace of
// a node of a sonde lab (published as /run/netns/sonde-*): there the lab's
// benchmarking range is the legal target.
func inSondeLab() bool {
	var self syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &self); err != nil {
		return false
	}
	names, _ := filepath.Glob("/run/netns/sonde-*")
	for _, n := range names {
		var st syscall.Stat_t
		if syscall.Stat(n, &st) == nil && st.Ino == self.Ino && st.Dev == self.Dev {
			return true
		}
	}
	// In a user namespace (sonde lab without root), the namespace is not
	// published; a namespace with no default route and an address in the
	// lab's range is one of ours.
	if os.Getenv("SONDE_LAB") != "" {
		return true
	}
	return false
}

// resumeState is what --resume reads and an interrupted scan writes: the
// command line (with its seed, so the permutation is the same), the phase
// and position it stopped at, and the results found so far.
type resumeState struct {
	Args    []string     `json:"args"`
	Phase   string       `json:"phase"` // "discovery", "tcp", "udp"
	Next    uint64       `json:"next"`
	Results []jsonResult `json:"results"`
	// Answered is the phase's record of the probes answered (a bit per
	// probe, little-endian 64-bit words, base64): the resumed run retries
	// the others from the start of the space.
	Answered string `json:"answered,omitempty"`
	answered []uint64
}

// encodeAnswered packs a scan's record of answered probes for the file.
func encodeAnswered(words []uint64) string {
	if words == nil {
		return ""
	}
	b := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// decodeAnswered unpacks encodeAnswered's string (nil for "").
func decodeAnswered(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%8 != 0 {
		return nil, errors.New("its record of answered probes is damaged")
	}
	words := make([]uint64, len(b)/8)
	for i := range words {
		words[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return words, nil
}

// resumeScan runs the saved command line again from where it stopped.
func resumeScan(ctx context.Context, e *env, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return asUsage(fmt.Errorf("--resume: %w", err))
	}
	var st resumeState
	if err := json.Unmarshal(b, &st); err != nil || len(st.Args) == 0 {
		return usagef("--resume %s: not a file an interrupted sonde scan wrote", file)
	}
	if st.answered, err = decodeAnswered(st.Answered); err != nil {
		return usagef("--resume %s: %v", file, err)
	}
	e2 := *e
	e2.args = append([]string{"scan"}, st.Args...)
	cmd := newScanCmdResumed(&e2, &st)
	cmd.SetArgs(st.Args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd.ExecuteContext(ctx)
}
