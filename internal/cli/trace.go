package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"sonde/geo"
	"sonde/trace"
)

func init() {
	register(newTraceCmd, "trace")
	addDemoStep(demoStep{order: 20, title: "trace: the routers on the way to the target (UDP probes, Paris mode)", run: func(ctx context.Context, d *demo) error {
		return d.sonde(ctx, d.lab.Topology.Client, "trace", "-n", d.target().String())
	}})
}

type traceFlags struct {
	icmp, tcp, udp bool
	port           int
	maxTTL         int
	firstTTL       int
	probes         int
	inFlight       int
	wait           time.Duration
	sendGap        time.Duration
	numeric        bool
	ipv4, ipv6     bool
	classic        bool
	noRetry        bool
	ecmp           int
	json           bool
	live           bool
	report         int
	interval       time.Duration
	iface          string
	probesSet      bool
	sport          int
	noGeo          bool
	geoDBs         []string
}

func newTraceCmd(e *env) *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace HOST",
		Short: "Trace the route to HOST, as traceroute and mtr do (UDP, ICMP or TCP; Paris-stable)",
		Long: `Trace the route to HOST: probes with a rising TTL (hop limit), each router on the
way answering "time exceeded", until the destination answers. All hops are probed
at once (-N in flight); the flow stays constant (Paris traceroute) so load
balancers keep one path, unless --classic; --ecmp N enumerates the paths of N flows.
A probe that goes unanswered is sent once more after the others, paced so routers'
ICMP rate limits do not show as loss.

Output: a traceroute table; --json (one JSON document); --report N (mtr -r:
N rounds, then loss and RTT statistics per hop); --live (that table, updated).`,
		Example: `  sonde trace -n 198.18.200.1
  sonde trace -n -I 198.18.200.1          # ICMP echo
  sonde trace -n -T -p 80 198.18.200.1    # TCP SYN
  sonde trace -n --ecmp 8 198.18.200.1    # the distinct paths of 8 flows
  sonde trace -n --report 10 198.18.200.1 # mtr-style statistics of 10 rounds`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.probesSet = cmd.Flags().Changed("queries")
			return runTrace(cmd.Context(), e, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.icmp, "icmp", "I", false, "probe with ICMP echo requests")
	fl.BoolVarP(&f.tcp, "tcp", "T", false, "probe with TCP SYN segments")
	fl.BoolVarP(&f.udp, "udp", "U", false, "probe with UDP datagrams (the default)")
	fl.IntVarP(&f.port, "port", "p", 0, "destination port (UDP: the first, 33434; TCP: 80)")
	fl.IntVarP(&f.maxTTL, "max-hops", "m", 30, "the last TTL probed")
	fl.IntVarP(&f.firstTTL, "first", "f", 1, "the first TTL probed")
	fl.IntVarP(&f.probes, "queries", "q", 3, "probes per hop")
	fl.IntVarP(&f.inFlight, "sim-queries", "N", 16, "probes in flight at once")
	f.wait = 5 * time.Second
	fl.VarP(secondsFlag{&f.wait}, "wait", "w", "longest wait for a probe's answer")
	fl.VarP(secondsFlag{&f.sendGap}, "sendwait", "z", "pause between probes")
	fl.BoolVarP(&f.numeric, "numeric", "n", false, "do not look up host names")
	fl.BoolVarP(&f.ipv4, "ipv4", "4", false, "use IPv4 for a name")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "use IPv6 for a name")
	fl.BoolVar(&f.classic, "classic", false, "vary the flow per probe, as classic traceroute (not Paris)")
	fl.BoolVar(&f.noRetry, "no-retry", false, "do not send a silent probe a second time")
	fl.IntVar(&f.ecmp, "ecmp", 0, "enumerate the paths seen by this many flows (Paris, one probe per hop each)")
	fl.BoolVar(&f.json, "json", false, "print the trace as JSON")
	fl.BoolVar(&f.live, "live", false, "keep probing and show loss and RTT statistics per hop (as mtr)")
	fl.IntVar(&f.report, "report", 0, "probe N rounds, then print loss and RTT statistics per hop (as mtr -r -c N)")
	f.interval = time.Second
	fl.VarP(secondsFlag{&f.interval}, "interval", "i", "gap between rounds of --live and --report")
	fl.StringVar(&f.iface, "interface", "", "send probes out of this interface")
	fl.BoolVar(&f.noGeo, "no-geo", false, "do not look up AS numbers and locations")
	fl.StringSliceVar(&f.geoDBs, "db", nil, `mmdb databases for AS numbers and locations, or "lab" for the lab geography (default: those installed, then the embedded one; in a lab, the lab geography first)`)
	fl.IntVar(&f.sport, "sport", 0, "source port (ICMP identifier) of the flow; --ecmp counts up from it (default: from the process id)")
	return cmd
}

func (f *traceFlags) config() (*trace.Config, error) {
	n := 0
	for _, b := range []bool{f.icmp, f.tcp, f.udp} {
		if b {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, usagef("trace: -I, -T and -U are different methods: give one")
	case f.ipv4 && f.ipv6:
		return nil, usagef("trace: -4 and -6 conflict: give one")
	case f.port < 0 || f.port > 65535:
		return nil, usagef("trace: --port %d: want 1 to 65535", f.port)
	case f.maxTTL < 1 || f.maxTTL > 255:
		return nil, usagef("trace: --max-hops %d: want 1 to 255", f.maxTTL)
	case f.firstTTL < 1 || f.firstTTL > f.maxTTL:
		return nil, usagef("trace: --first %d: want 1 to --max-hops (%d)", f.firstTTL, f.maxTTL)
	case f.probes < 1 || f.probes > 10:
		return nil, usagef("trace: --queries %d: want 1 to 10", f.probes)
	case f.inFlight < 1 || f.inFlight > 1024:
		return nil, usagef("trace: --sim-queries %d: want 1 to 1024", f.inFlight)
	case f.wait <= 0:
		return nil, usagef("trace: --wait %v: must be positive", f.wait)
	case f.ecmp < 0 || f.ecmp > 64:
		return nil, usagef("trace: --ecmp %d: want 1 to 64 flows", f.ecmp)
	case f.report < 0 || f.report > 100000:
		return nil, usagef("trace: --report %d: want 1 to 100000 rounds", f.report)
	case f.live && f.report > 0:
		return nil, usagef("trace: --live and --report conflict: give one")
	case f.ecmp > 0 && (f.live || f.report > 0):
		return nil, usagef("trace: --ecmp does not combine with --live or --report")
	case f.ecmp > 0 && f.classic:
		return nil, usagef("trace: --ecmp needs Paris mode, not --classic")
	case f.sport < 0 || f.sport > 65535-64:
		return nil, usagef("trace: --sport %d: want 1 to 65471", f.sport)
	case f.interval < 0:
		return nil, usagef("trace: --interval %v: must not be negative", f.interval)
	}
	c := &trace.Config{Port: uint16(f.port), FirstTTL: f.firstTTL, MaxTTL: f.maxTTL, Probes: f.probes,
		InFlight: f.inFlight, Wait: f.wait, SendGap: f.sendGap, Classic: f.classic, NoRetry: f.noRetry,
		Interface: f.iface, SrcPort: uint16(f.sport)}
	switch {
	case f.icmp:
		c.Method = trace.ICMP
	case f.tcp:
		c.Method = trace.TCP
	}
	if err := c.Check(); err != nil {
		return nil, asUsage(err)
	}
	return c, nil
}

func runTrace(ctx context.Context, e *env, host string, f *traceFlags) error {
	cfg, err := f.config()
	if err != nil {
		return err
	}
	dst, err := netip.ParseAddr(host)
	if err != nil {
		if dst, err = resolveHost(ctx, host, f.ipv6); err != nil {
			return usagef("trace: cannot resolve %q: %v", host, err)
		}
	} else if (f.ipv6 && dst.Is4()) || (f.ipv4 && dst.Is6()) {
		return usagef("trace: %s is not an IPv%s address", dst, map[bool]string{true: "6", false: "4"}[f.ipv6])
	}
	dst = dst.Unmap()
	var es enrichers
	if !f.numeric {
		es = append(es, dnsEnricher{wait: time.Second})
	}
	switch {
	case f.noGeo:
	case len(f.geoDBs) == 0:
		// The default databases are opened when the first address they
		// may know comes: a trace through private or reserved space
		// (every lab's) opens none.
		g := &lazyGeo{warn: e.stderr, lab: os.Getenv(labEnv) != ""}
		defer g.close()
		es = append(es, g)
	default:
		dbs, err := openGeoDBs(f.geoDBs, nil)
		if err != nil {
			return asUsage(err)
		}
		defer func() {
			for _, db := range dbs {
				db.Close()
			}
		}()
		if len(dbs) > 0 {
			es = append(es, geoEnricher{geo.NewEnricher(dbs...)})
		}
	}
	var names trace.Enricher
	if len(es) > 0 {
		names = es
	}
	switch {
	case f.ecmp > 0:
		return runECMP(ctx, e, host, dst, cfg, f, names)
	case f.report > 0 || f.live:
		return runReport(ctx, e, host, dst, cfg, f, names)
	}
	if f.json {
		res, err := trace.Run(ctx, dst, cfg, nil)
		if res == nil {
			return traceError(err)
		}
		enrich(ctx, res.Hops, names)
		if werr := writeTraceJSON(e.stdout, res); werr != nil {
			return werr
		}
		return traceError(err)
	}
	size := 60
	if dst.Is6() {
		size = 80
	}
	if cfg.Method == trace.TCP {
		size -= 12 // a bare 20-byte header and no data
	}
	fmt.Fprintf(e.stdout, "trace to %s (%s), %d hops max, %d byte packets\n", host, dst, f.maxTTL, size)
	_, err = trace.Run(ctx, dst, cfg, func(h trace.Hop) {
		hs := []trace.Hop{h} // enrich fills hs[0].Info, which h may not share
		enrich(ctx, hs, names)
		fmt.Fprintln(e.stdout, hopLine(hs[0]))
	})
	return traceError(err)
}

func traceError(err error) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, trace.ErrConfig):
		return asUsage(err)
	}
	return err
}

// hopLine formats a hop as Linux traceroute does: the TTL, then each probe's
// RTT, with the address (and name) before it when it differs from the
// previous probe's, " *" for no answer.
func hopLine(h trace.Hop) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%2d ", h.TTL)
	var prev netip.Addr
	for _, p := range h.Probes {
		if !p.Answered() {
			b.WriteString(" *")
			prev = netip.Addr{}
			continue
		}
		if p.Addr != prev {
			if name := h.Info[p.Addr]["name"]; name != "" {
				fmt.Fprintf(&b, " %s (%s)", name, p.Addr)
			} else {
				fmt.Fprintf(&b, " %s", p.Addr)
			}
			if extra := infoText(h.Info[p.Addr]); extra != "" {
				fmt.Fprintf(&b, " [%s]", extra)
			}
			if len(p.MPLS) > 0 {
				for _, l := range p.MPLS {
					fmt.Fprintf(&b, " <MPLS:L=%d,E=%d,S=%d,T=%d>", l.Label, l.TC, b2i(l.S), l.TTL)
				}
			}
			prev = p.Addr
		}
		fmt.Fprintf(&b, "  %.3f ms", float64(p.RTT)/float64(time.Millisecond))
		if p.Note != "" {
			fmt.Fprintf(&b, " %s", p.Note)
		}
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// infoText is the enrichment other than the name: "AS64500 Example, DE Berlin".
func infoText(m map[string]string) string {
	var parts []string
	if as := m["asn"]; as != "" {
		s := "AS" + as
		if o := m["as_org"]; o != "" {
			s += " " + o
		}
		parts = append(parts, s)
	}
	loc := strings.TrimSpace(m["country"] + " " + m["city"])
	if loc != "" {
		parts = append(parts, loc)
	}
	return strings.Join(parts, ", ")
}

// enrich fills each hop's Info with what en says of its addresses, all
// addresses at once.
func enrich(ctx context.Context, hops []trace.Hop, en trace.Enricher) {
	if en == nil {
		return
	}
	type job struct {
		h    int
		addr netip.Addr
	}
	var jobs []job
	for i, h := range hops {
		for _, a := range h.Addrs() {
			jobs = append(jobs, job{i, a})
		}
	}
	out := make([]map[string]string, len(jobs))
	if len(jobs) == 1 { // a hop as it comes: no goroutine to wait for
		out[0] = en.Enrich(ctx, jobs[0].addr)
	} else {
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Go(func() { out[i] = en.Enrich(ctx, j.addr) })
		}
		wg.Wait()
	}
	for i, j := range jobs {
		if len(out[i]) == 0 {
			continue
		}
		if hops[j.h].Info == nil {
			hops[j.h].Info = map[netip.Addr]map[string]string{}
		}
		hops[j.h].Info[j.addr] = out[i]
	}
}

// enrichers asks each enricher in turn and merges what they say (the later
// ones fill keys the earlier left empty): reverse DNS, and package geo's
// ASN and location when a database is at hand.
type enrichers []trace.Enricher

func (es enrichers) Enrich(ctx context.Context, a netip.Addr) map[string]string {
	var out map[string]string
	for _, e := range es {
		for k, v := range e.Enrich(ctx, a) {
			if out == nil {
				out = map[string]string{}
			}
			if out[k] == "" {
				out[k] = v
			}
		}
	}
	return out
}

// geoEnricher says what package geo's databases know of an address: its
// AS number and organisation, country code and city.
type geoEnricher struct{ e *geo.Enricher }

func (g geoEnricher) Enrich(_ context.Context, a netip.Addr) map[string]string {
	r, _ := g.e.Lookup(a) // an error of one database leaves the others' answer
	if !r.Found() {
		return nil
	}
	m := map[string]string{}
	if r.ASN != 0 {
		m["asn"] = strconv.FormatUint(uint64(r.ASN), 10)
	}
	for k, v := range map[string]string{"as_org": r.Org, "country": r.CountryCode, "city": r.City} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// lazyGeo is a geoEnricher over the default databases (in a lab its
// invented geography, then those installed, then the embedded one), opened
// on the first lookup of an address that one of them may place: public
// databases place only globally routable addresses, so a trace that sees
// none opens nothing; in a lab (SONDE_LAB set) the lab geography alone is
// opened for the lab's reserved addresses.
type lazyGeo struct {
	warn io.Writer // where a failure to open is told, once
	lab  bool      // run in a lab: its geography places reserved addresses

	all, labOnly lazyDBs
}

// lazyDBs is a set of databases opened on first use.
type lazyDBs struct {
	once sync.Once
	dbs  []*geo.DB
	en   geoEnricher
}

func (l *lazyDBs) enrich(ctx context.Context, a netip.Addr, names []string, warn io.Writer) map[string]string {
	l.once.Do(func() {
		dbs, err := openGeoDBs(names, nil)
		if err != nil {
			fmt.Fprintf(warn, "sonde: trace: no AS numbers or locations: %v\n", err)
		}
		if len(dbs) > 0 {
			l.dbs, l.en = dbs, geoEnricher{geo.NewEnricher(dbs...)}
		}
	})
	if l.en.e == nil {
		return nil
	}
	return l.en.Enrich(ctx, a)
}

func (g *lazyGeo) Enrich(ctx context.Context, a netip.Addr) map[string]string {
	switch {
	case globalUnicast(a):
		return g.all.enrich(ctx, a, nil, g.warn)
	case g.lab:
		return g.labOnly.enrich(ctx, a, []string{labGeoPath}, g.warn)
	}
	return nil
}

// close closes the databases opened; no Enrich may be running.
func (g *lazyGeo) close() {
	for _, db := range append(g.all.dbs, g.labOnly.dbs...) {
		db.Close()
	}
}

// notGlobal are the special-purpose ranges of the IANA registries (RFC
// 6890 and its updates) that are not globally reachable, besides those
// netip classifies (private, loopback, link-local, multicast).
var notGlobal = [...]netip.Prefix{
	netip.PrefixFrom(netip.AddrFrom4([4]byte{0, 0, 0, 0}), 8),                // "this network"
	netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64, 0, 0}), 10),            // shared address space (CGN)
	netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 0, 0}), 24),             // IETF protocol assignments
	netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, 0}), 24),             // documentation
	netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 0, 0}), 15),            // benchmarking
	netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, 0}), 24),          // documentation
	netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, 113, 0}), 24),           // documentation
	netip.PrefixFrom(netip.AddrFrom4([4]byte{240, 0, 0, 0}), 4),              // reserved, broadcast
	netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0x02}), 48),    // benchmarking
	netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8}), 32), // documentation
	netip.PrefixFrom(netip.AddrFrom16([16]byte{0x01, 0x00}), 64),             // discard-only
}

// globalUnicast reports whether a can be a globally routable unicast
// address, one that a public geolocation database may place.
func globalUnicast(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range notGlobal {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// dnsEnricher looks up reverse names, each within wait.
type dnsEnricher struct{ wait time.Duration }

func (d dnsEnricher) Enrich(ctx context.Context, a netip.Addr) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, a.String())
	if err != nil || len(names) == 0 {
		return nil
	}
	return map[string]string{"name": strings.TrimSuffix(names[0], ".")}
}

// The JSON form of a trace.
type traceJSON struct {
	Dst     netip.Addr `json:"dst"`
	Src     netip.Addr `json:"src"`
	Method  string     `json:"method"`
	Reached bool       `json:"reached"`
	Hops    []hopJSON  `json:"hops"`
	Sent    int        `json:"sent"`
	Retried int        `json:"retried"`
}

type hopJSON struct {
	TTL    int         `json:"ttl"`
	Final  bool        `json:"final,omitempty"`
	Probes []probeJSON `json:"probes"`
}

type probeJSON struct {
	Addr    *netip.Addr       `json:"addr"`
	RTTms   *float64          `json:"rtt_ms"`
	Note    string            `json:"note,omitempty"`
	MPLS    []trace.MPLSLabel `json:"mpls,omitempty"`
	Retried bool              `json:"retried,omitempty"`
	SentTTL int               `json:"sent_ttl,omitempty"` // an answer placed by the TTL it quoted (trace.Probe.SentTTL)
	Info    map[string]string `json:"info,omitempty"`
}

func hopsJSON(hops []trace.Hop) []hopJSON {
	out := []hopJSON{}
	for _, h := range hops {
		hj := hopJSON{TTL: h.TTL, Final: h.Final, Probes: []probeJSON{}}
		for _, p := range h.Probes {
			pj := probeJSON{Note: p.Note, MPLS: p.MPLS, Retried: p.Retried, SentTTL: p.SentTTL}
			if p.Answered() {
				a := p.Addr
				ms := math.Round(float64(p.RTT)/float64(time.Microsecond)) / 1000
				pj.Addr, pj.RTTms, pj.Info = &a, &ms, h.Info[a]
			}
			hj.Probes = append(hj.Probes, pj)
		}
		out = append(out, hj)
	}
	return out
}

func writeTraceJSON(w io.Writer, res *trace.Result) error {
	enc := json.NewEncoder(w)
	return enc.Encode(traceJSON{Dst: res.Dst, Src: res.Src, Method: res.Method.String(), Reached: res.Reached,
		Hops: hopsJSON(res.Hops), Sent: res.Stats.Sent, Retried: res.Stats.Retried})
}

// runECMP traces f.ecmp flows and prints each distinct path with the flows
// that took it.
func runECMP(ctx context.Context, e *env, host string, dst netip.Addr, cfg *trace.Config, f *traceFlags, names trace.Enricher) error {
	if !f.probesSet {
		cfg.Probes = 1
	}
	paths, err := trace.ECMP(ctx, dst, cfg, f.ecmp)
	if err != nil && len(paths) == 0 {
		return traceError(err)
	}
	if f.json {
		type pathJSON struct {
			Flows []uint16  `json:"flows"`
			Hops  []hopJSON `json:"hops"`
		}
		var out []pathJSON
		for _, p := range paths {
			enrich(ctx, p.Trace.Hops, names)
			out = append(out, pathJSON{Flows: p.Flows, Hops: hopsJSON(p.Trace.Hops)})
		}
		if werr := json.NewEncoder(e.stdout).Encode(map[string]any{"dst": dst, "method": cfg.Method.String(), "flows": f.ecmp, "paths": out}); werr != nil {
			return werr
		}
		return traceError(err)
	}
	fmt.Fprintf(e.stdout, "trace to %s (%s): %d flows, %d distinct paths\n", host, dst, f.ecmp, len(paths))
	for i, p := range paths {
		fmt.Fprintf(e.stdout, "path %d: %d of %d flows (source ports %s)\n", i+1, len(p.Flows), f.ecmp, portList(p.Flows))
		enrich(ctx, p.Trace.Hops, names)
		for _, h := range p.Trace.Hops {
			fmt.Fprintln(e.stdout, hopLine(h))
		}
	}
	return traceError(err)
}

func portList(ps []uint16) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprint(p))
	}
	return strings.Join(s, ",")
}

// hopStats are mtr's statistics of one hop over rounds.
type hopStats struct {
	ttl        int
	addrs      []netip.Addr
	sent, recv int
	last, best time.Duration
	worst      time.Duration
	sum, sumSq float64 // in ms
	info       map[netip.Addr]map[string]string
}

func (s *hopStats) add(h trace.Hop) {
	for _, p := range h.Probes {
		s.sent++
		if !p.Answered() {
			continue
		}
		s.recv++
		if !slicesContains(s.addrs, p.Addr) {
			s.addrs = append(s.addrs, p.Addr)
		}
		s.last = p.RTT
		if s.recv == 1 || p.RTT < s.best {
			s.best = p.RTT
		}
		s.worst = max(s.worst, p.RTT)
		ms := float64(p.RTT) / float64(time.Millisecond)
		s.sum += ms
		s.sumSq += ms * ms
	}
	for a, m := range h.Info {
		if s.info == nil {
			s.info = map[netip.Addr]map[string]string{}
		}
		s.info[a] = m
	}
}

func slicesContains(s []netip.Addr, a netip.Addr) bool {
	for _, x := range s {
		if x == a {
			return true
		}
	}
	return false
}

func (s *hopStats) loss() float64 {
	if s.sent == 0 {
		return 0
	}
	return 100 * float64(s.sent-s.recv) / float64(s.sent)
}

func (s *hopStats) avg() float64 {
	if s.recv == 0 {
		return 0
	}
	return s.sum / float64(s.recv)
}

func (s *hopStats) stdev() float64 {
	if s.recv < 2 {
		return 0
	}
	m := s.avg()
	v := (s.sumSq - float64(s.recv)*m*m) / float64(s.recv-1)
	return math.Sqrt(max(v, 0))
}

// rounds keeps the statistics of repeated traces.
type rounds struct {
	hops []*hopStats
	n    int
}

func (r *rounds) add(res *trace.Result) {
	r.n++
	for _, h := range res.Hops {
		for len(r.hops) < h.TTL {
			r.hops = append(r.hops, &hopStats{ttl: len(r.hops) + 1})
		}
		r.hops[h.TTL-1].add(h)
	}
}

// table renders the statistics as mtr's report does.
func (r *rounds) table(w io.Writer, first int) {
	host, _ := os.Hostname() // mtr's header names the tracing host
	fmt.Fprintf(w, "HOST: %-30s Loss%%   Snt   Last    Avg   Best   Wrst  StDev\n", host)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, s := range r.hops {
		if s.ttl < first {
			continue
		}
		name := "???"
		if len(s.addrs) > 0 {
			name = s.addrs[0].String()
			if n := s.info[s.addrs[0]]["name"]; n != "" {
				name = n
			}
		}
		fmt.Fprintf(w, "%3d.|-- %-30s %5.1f%% %5d %6.3f %6.3f %6.3f %6.3f %6.3f\n", s.ttl, name, s.loss(), s.sent,
			ms(s.last), s.avg(), ms(s.best), ms(s.worst), s.stdev())
		for _, a := range s.addrs[min(1, len(s.addrs)):] {
			fmt.Fprintf(w, "    |   %s\n", a)
		}
	}
}

// runReport probes rounds of one probe per hop, f.interval apart, and
// prints mtr's table at the end (--report N) or keeps it on screen
// (--live).
func runReport(ctx context.Context, e *env, host string, dst netip.Addr, cfg *trace.Config, f *traceFlags, names trace.Enricher) error {
	if !f.probesSet {
		cfg.Probes = 1
	}
	if f.live {
		return runLive(ctx, e, host, dst, cfg, f, names)
	}
	var r rounds
	for i := 0; i < f.report; i++ {
		if i > 0 && !sleepCtx(ctx, f.interval) {
			break
		}
		res, err := trace.Run(ctx, dst, cfg, nil)
		if res != nil {
			if i == 0 {
				enrich(ctx, res.Hops, names)
			}
			r.add(res)
			if res.Reached && len(res.Hops) > 0 {
				// Known distance: later rounds probe no further and
				// need no distance probe, so the destination's ICMP
				// budget goes to the round's own probe (as mtr).
				cfg.MaxTTL, cfg.NoHint = res.Hops[len(res.Hops)-1].TTL, true
			}
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				break
			}
			return traceError(err)
		}
	}
	if f.json {
		type statJSON struct {
			TTL   int          `json:"ttl"`
			Addrs []netip.Addr `json:"addrs"`
			Loss  float64      `json:"loss_pct"`
			Sent  int          `json:"sent"`
			Last  float64      `json:"last_ms"`
			Avg   float64      `json:"avg_ms"`
			Best  float64      `json:"best_ms"`
			Worst float64      `json:"worst_ms"`
			StDev float64      `json:"stdev_ms"`
		}
		ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
		var out []statJSON
		for _, s := range r.hops {
			if s.ttl < cfg.FirstTTL {
				continue
			}
			out = append(out, statJSON{TTL: s.ttl, Addrs: append([]netip.Addr{}, s.addrs...), Loss: s.loss(), Sent: s.sent,
				Last: ms(s.last), Avg: math.Round(s.avg()*1000) / 1000, Best: ms(s.best), Worst: ms(s.worst), StDev: math.Round(s.stdev()*1000) / 1000})
		}
		return json.NewEncoder(e.stdout).Encode(map[string]any{"dst": dst, "rounds": r.n, "hops": out})
	}
	r.table(e.stdout, cfg.FirstTTL)
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
