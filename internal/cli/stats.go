package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gopacket/gopacket/layers"

	"sonde/analyze"
	"sonde/capfile"
	"sonde/filter"
	"sonde/geo"
)

func init() { register(newStatsCmd, "stats") }

type statsFlags struct {
	conv, endpoints []string
	phs             bool
	io              time.Duration
	follow          string
	hex             bool
	dns, http, tls  bool
	parquetFlows    string
	parquetPackets  string
	json            bool
	filter          string
	geo             bool
}

func newStatsCmd(e *env) *cobra.Command {
	var f statsFlags
	cmd := &cobra.Command{
		Use:   "stats FILE",
		Short: "Statistics of a capture file, like tshark -z",
		Long: `stats reads a pcap or pcapng file once and prints the statistics asked for,
one table after another, formatted as tshark prints them:

  --conv TYPE        conversations (tshark -z conv,TYPE); TYPE is eth, ip, ipv6, tcp or udp
  --endpoints TYPE   endpoints (tshark -z endpoints,TYPE)
  --phs              protocol hierarchy (tshark -z io,phs)
  --io INTERVAL      frames and bytes per interval (tshark -z io,stat,N)
  --follow tcp,N     the payload of TCP stream N (tshark -z follow,tcp,ascii,N)
  --dns, --http, --tls   DNS questions and answers, HTTP requests, TLS server names

Without any of them it prints the number of packets, bytes and the duration.
FILE "-" reads the capture from standard input. --filter counts only the
packets that a tcpdump-style filter expression accepts.
A damaged file is read up to the damage: the statistics of what was read are
printed, then the error, and the exit code is 1.`,
		Example: `  sonde stats --conv tcp --phs capture.pcap
  sonde stats --follow tcp,0 capture.pcapng
  sonde stats --conv tcp --parquet-flows flows.parquet capture.pcap`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStats(cmd, e, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.conv, "conv", nil, "conversation table `TYPE` (eth, ip, ipv6, tcp, udp); repeatable")
	fl.StringSliceVar(&f.endpoints, "endpoints", nil, "endpoint table `TYPE` (eth, ip, ipv6, tcp, udp); repeatable")
	fl.BoolVar(&f.phs, "phs", false, "protocol hierarchy statistics")
	fl.DurationVar(&f.io, "io", 0, "IO statistics per `INTERVAL` (e.g. 1s, 100ms)")
	fl.StringVar(&f.follow, "follow", "", "follow TCP stream `tcp,N` as text")
	fl.BoolVar(&f.hex, "hex", false, "with --follow: print a hex dump instead of text")
	fl.BoolVar(&f.dns, "dns", false, "DNS questions and answers")
	fl.BoolVar(&f.http, "http", false, "HTTP requests and response codes")
	fl.BoolVar(&f.tls, "tls", false, "TLS ClientHello server names (SNI) and ALPN")
	fl.StringVar(&f.parquetFlows, "parquet-flows", "", "also write every conversation to `OUT` as Parquet")
	fl.StringVar(&f.parquetPackets, "parquet-packets", "", "also write one row per packet to `OUT` as Parquet")
	fl.BoolVar(&f.json, "json", false, "print JSON lines instead of tables")
	fl.StringVarP(&f.filter, "filter", "f", "", "count only packets matching the pcap-filter `EXPR` (as tcpdump's)")
	fl.BoolVar(&f.geo, "geo", false, "with --endpoints ip/ipv6: country and AS of each address, from the geo databases (see sonde geo)")
	return cmd
}

// statsConfig checks the flags and maps them to an analyze.Config.
func statsConfig(f *statsFlags) (analyze.Config, []analyze.Kind, []analyze.Kind, error) {
	cfg := analyze.Config{Hierarchy: f.phs, DNS: f.dns, HTTP: f.http, TLS: f.tls}
	kinds := func(flag string, names []string) ([]analyze.Kind, error) {
		var out []analyze.Kind
		for _, n := range names {
			k, ok := analyze.ParseKind(strings.ToLower(strings.TrimSpace(n)))
			if !ok {
				return nil, usagef("--%s: unknown type %q (want eth, ip, ipv6, tcp or udp)", flag, n)
			}
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		return out, nil
	}
	conv, err := kinds("conv", f.conv)
	if err != nil {
		return cfg, nil, nil, err
	}
	eps, err := kinds("endpoints", f.endpoints)
	if err != nil {
		return cfg, nil, nil, err
	}
	for _, k := range conv {
		cfg.Conversations |= k
	}
	for _, k := range eps {
		cfg.Endpoints |= k
	}
	if f.parquetFlows != "" {
		cfg.Conversations |= analyze.AllKinds
	}
	if f.io < 0 || (f.io > 0 && f.io < time.Microsecond) {
		return cfg, nil, nil, usagef("--io: interval %v out of range (at least 1us)", f.io)
	}
	cfg.Interval = f.io
	if f.geo {
		dbs, err := geo.OpenDefault(nil)
		if err != nil {
			return cfg, nil, nil, err
		}
		cfg.Locator = geoLocator{geo.NewEnricher(dbs...)}
	}
	if f.follow != "" {
		proto, num, ok := strings.Cut(f.follow, ",")
		n, err := strconv.Atoi(num)
		if !ok || proto != "tcp" || err != nil || n < 0 {
			return cfg, nil, nil, usagef("--follow: want tcp,N with N a stream number, got %q", f.follow)
		}
		cfg.Follow, cfg.FollowStream = true, n
	} else if f.hex {
		return cfg, nil, nil, usagef("--hex needs --follow")
	}
	return cfg, conv, eps, nil
}

func runStats(cmd *cobra.Command, e *env, f *statsFlags, name string) error {
	cfg, conv, eps, err := statsConfig(f)
	if err != nil {
		return err
	}
	var in io.Reader = e.stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return err
		}
		defer file.Close()
		in = file
	}
	r, err := capfile.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	match, err := statsFilter(f.filter, r.LinkType())
	if err != nil {
		return err
	}
	a := analyze.New(cfg)
	var pw *analyze.PacketWriter
	var pout *os.File
	if f.parquetPackets != "" {
		if pout, err = os.Create(f.parquetPackets); err != nil {
			return err
		}
		defer pout.Close()
		pw = analyze.NewPacketWriter(pout)
	}
	ctx := cmd.Context()
	var readErr error
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if match != nil && !match(data, ci) {
			continue
		}
		a.Add(data, ci.Timestamp, ci.Length, ci.LinkType)
		if pw != nil {
			if err := pw.Add(data, ci.Timestamp, ci.Length, ci.LinkType); err != nil {
				return err
			}
		}
	}
	if pw != nil {
		if err := finishPackets(pw, pout); err != nil {
			return err
		}
	}

	w := bufio.NewWriterSize(e.stdout, 64<<10)
	if f.json {
		err = printStatsJSON(w, a, f, conv, eps)
	} else {
		printStatsText(w, a, f, conv, eps)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if f.parquetFlows != "" {
		out, err := os.Create(f.parquetFlows)
		if err != nil {
			return err
		}
		if _, err := a.WriteFlowsParquet(out); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	if readErr != nil {
		return fmt.Errorf("%s: %w", name, readErr)
	}
	return nil
}

// statsFilter compiles a pcap-filter expression for the file's link type
// (a bad expression is a usage error) and returns a matcher that compiles it
// again for packets of other link types (pcapng interfaces may differ).
// Packets of a link type the compiler does not know never match.
func statsFilter(expr string, first layers.LinkType) (func([]byte, capfile.CaptureInfo) bool, error) {
	if expr == "" {
		return nil, nil
	}
	fs := &filters{expr: expr, progs: map[layers.LinkType]*filter.Program{}, skipUnknown: true}
	if _, err := fs.program(first); err != nil {
		var se *filter.SyntaxError
		if errors.As(err, &se) || first == layers.LinkTypeEthernet {
			return nil, usagef("--filter: %v", err)
		}
		// The expression may still work for the other interfaces' types.
		if _, err := filter.Compile(expr, filter.LinkTypeEthernet, 0); err != nil {
			return nil, usagef("--filter: %v", err)
		}
	}
	return func(data []byte, ci capfile.CaptureInfo) bool {
		ok, _ := fs.match(data, ci.Length, ci.LinkType)
		return ok
	}, nil
}

// finishPackets completes the per-packet Parquet file.
func finishPackets(pw *analyze.PacketWriter, out *os.File) error {
	if err := pw.Close(); err != nil {
		return err
	}
	return out.Close()
}

// printStatsText prints the tables in a fixed order, each as tshark does.
func printStatsText(w io.Writer, a *analyze.Analyzer, f *statsFlags, conv, eps []analyze.Kind) {
	printed := false
	if f.io > 0 {
		printIO(w, a, f.io)
		printed = true
	}
	if f.phs {
		printPHS(w, a.Hierarchy(), f.filter)
		printed = true
	}
	for _, k := range conv {
		printConversations(w, k, a.Conversations(k), f.filter)
		printed = true
	}
	for _, k := range eps {
		printEndpoints(w, k, a.Endpoints(k), f.filter)
		printed = true
	}
	if f.follow != "" {
		printFollow(w, a.Follow(), f)
		printed = true
	}
	if f.dns {
		printDNS(w, a.DNS())
		printed = true
	}
	if f.http {
		printHTTP(w, a.HTTP())
		printed = true
	}
	if f.tls {
		printTLS(w, a.TLS())
		printed = true
	}
	if !printed && f.parquetFlows == "" && f.parquetPackets == "" {
		fmt.Fprintf(w, "Packets:  %d\nBytes:    %d\nDuration: %.6f secs\n", a.Packets(), a.Bytes(), a.Duration().Seconds())
	}
}

// filterText is what tshark's tables show on their Filter: line.
func filterText(expr string) string {
	if expr == "" {
		return "<No Filter>"
	}
	return expr
}

const rule80 = "================================================================================"

// formatSize is Wireshark's format_size with SI prefixes, as its
// conversation tables print bytes.
func formatSize(n uint64) string {
	for _, u := range []struct {
		div  uint64
		unit string
	}{{1e15, "PB"}, {1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if n/u.div >= 10 {
			return strconv.FormatUint(n/u.div, 10) + " " + u.unit
		}
	}
	return strconv.FormatUint(n, 10) + " bytes"
}

func hasPorts(k analyze.Kind) bool { return k == analyze.TCP || k == analyze.UDP }

func addrPort(a analyze.Address, port uint16) string {
	return a.String() + ":" + strconv.Itoa(int(port))
}

func printConversations(w io.Writer, k analyze.Kind, rows []analyze.Conversation, expr string) {
	pad := ""
	if hasPorts(k) {
		pad = "            "
	}
	fmt.Fprintf(w, "%s\n%s Conversations\nFilter:%s\n", rule80, k, filterText(expr))
	fmt.Fprintf(w, "%s                                               |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |\n", pad)
	fmt.Fprintf(w, "%s                                               | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |\n", pad)
	for _, c := range rows {
		if hasPorts(k) {
			fmt.Fprintf(w, "%-26s <-> %-26s", addrPort(c.A, c.PortA), addrPort(c.B, c.PortB))
		} else {
			fmt.Fprintf(w, "%-20s <-> %-20s", c.A, c.B)
		}
		fmt.Fprintf(w, "  %6d %-9s  %6d %-9s  %6d %-9s  %14.9f   %12.4f\n",
			c.FramesBA, formatSize(c.BytesBA), c.FramesAB, formatSize(c.BytesAB),
			c.Frames(), formatSize(c.Bytes()), c.Start.Seconds(),
			// As tshark: the difference of the two times in seconds, which
			// rounds as it does.
			(c.Start+c.Duration).Seconds()-c.Start.Seconds())
	}
	fmt.Fprintln(w, rule80)
}

func printEndpoints(w io.Writer, k analyze.Kind, rows []analyze.Endpoint, expr string) {
	fmt.Fprintf(w, "%s\n%s Endpoints\nFilter:%s\n", rule80, k, filterText(expr))
	port := ""
	if hasPorts(k) {
		port = "Port  ||  "
	}
	located := slices.ContainsFunc(rows, func(e analyze.Endpoint) bool { return e.Country != "" || e.ASN != "" })
	geoHead := ""
	if located {
		geoHead = " Country | AS"
	}
	fmt.Fprintf(w, "                       |  %sPackets  | |  Bytes  | | Tx Packets | | Tx Bytes | | Rx Packets | | Rx Bytes |%s\n", port, geoHead)
	for _, e := range rows {
		if hasPorts(k) {
			fmt.Fprintf(w, "%-20s      %5d     %6d     %9d     %6d       %9d      %6d       %9d   ",
				e.Addr, e.Port, e.Frames(), e.Bytes(), e.TxFrames, e.TxBytes, e.RxFrames, e.RxBytes)
		} else {
			fmt.Fprintf(w, "%-20s      %6d     %9d     %6d       %9d      %6d       %9d   ",
				e.Addr, e.Frames(), e.Bytes(), e.TxFrames, e.TxBytes, e.RxFrames, e.RxBytes)
		}
		if located {
			fmt.Fprintf(w, " %-7s   %s", orDash(e.Country), orDash(e.ASN))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, rule80)
}

const rule67 = "==================================================================="

func printPHS(w io.Writer, nodes []*analyze.ProtocolNode, expr string) {
	fmt.Fprintf(w, "\n%s\nProtocol Hierarchy Statistics\nFilter: %s\n\n", rule67, expr)
	var walk func([]*analyze.ProtocolNode, int)
	walk = func(ns []*analyze.ProtocolNode, depth int) {
		for _, n := range ns {
			fmt.Fprintf(w, "%-40s frames:%d bytes:%d\n", strings.Repeat("  ", depth)+n.Name, n.Frames, n.Bytes)
			walk(n.Children, depth+1)
		}
	}
	walk(nodes, 0)
	fmt.Fprintln(w, rule67)
}

// secondsDecimals is how many decimals show an interval exactly, up to 6.
func secondsDecimals(d time.Duration) int {
	for dec, unit := 0, time.Second; dec < 6; dec, unit = dec+1, unit/10 {
		if d%unit == 0 {
			return dec
		}
	}
	return 6
}

func printIO(w io.Writer, a *analyze.Analyzer, interval time.Duration) {
	dec := secondsDecimals(interval)
	rows := a.IO()
	if dur := a.Duration(); interval > dur {
		// As tshark: one interval as long as the capture, in milliseconds.
		interval, dec = dur.Round(time.Millisecond), 3
		if len(rows) == 1 {
			rows[0].End = interval
		}
	}
	unit := time.Second
	for range dec {
		unit /= 10
	}
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Round(unit).Seconds(), 'f', dec, 64) }
	labels := make([]string, len(rows))
	labelW, framesW, bytesW := len("Interval"), len("Frames"), len("Bytes")
	for i, r := range rows {
		labels[i] = secs(r.Start) + " <> " + secs(r.End)
		labelW = max(labelW, len(labels[i]))
		framesW = max(framesW, len(strconv.FormatUint(r.Frames, 10)))
		bytesW = max(bytesW, len(strconv.FormatUint(r.Bytes, 10)))
	}
	width := 1 + (labelW + 2) + 1 + (framesW + 2) + 1 + (bytesW + 2) + 1
	box := func(s string) { fmt.Fprintf(w, "| %-*s|\n", width-3, s) }
	fmt.Fprintf(w, "\n%s\n", strings.Repeat("=", width))
	box("IO Statistics")
	box("")
	box("Duration: " + secs(a.Duration()) + " secs")
	box("Interval: " + secs(interval) + " secs")
	box("")
	box("Col 1: Frames and bytes")
	rule := "|" + strings.Repeat("-", width-2) + "|"
	fmt.Fprintln(w, rule)
	fmt.Fprintf(w, "|%s|%-*s|\n", strings.Repeat(" ", labelW+2), framesW+bytesW+5, "1")
	fmt.Fprintf(w, "| %-*s | %*s | %*s |\n", labelW, "Interval", framesW, "Frames", bytesW, "Bytes")
	fmt.Fprintln(w, rule)
	for i, r := range rows {
		fmt.Fprintf(w, "| %-*s | %*d | %*d |\n", labelW, labels[i], framesW, r.Frames, bytesW, r.Bytes)
	}
	fmt.Fprintln(w, strings.Repeat("=", width))
}

func printFollow(w io.Writer, s *analyze.Stream, f *statsFlags) {
	mode := "ascii"
	if f.hex {
		mode = "hex"
	}
	fmt.Fprintf(w, "\n%s\nFollow: tcp,%s\nFilter: tcp.stream eq %s\n", rule67, mode, strings.TrimPrefix(f.follow, "tcp,"))
	if s == nil {
		fmt.Fprintf(w, "Node 0: :0\nNode 1: :0\n") // as tshark, for a stream that is not there
	} else {
		fmt.Fprintf(w, "Node 0: %s\nNode 1: %s\n", s.Nodes[0], s.Nodes[1])
		offsets := [2]int{}
		for _, c := range s.Chunks {
			indent := ""
			if c.Node == 1 {
				indent = "\t"
			}
			if f.hex {
				hexDump(w, indent, offsets[c.Node], c.Data)
				offsets[c.Node] += len(c.Data)
				continue
			}
			fmt.Fprintf(w, "%s%d\n", indent, len(c.Data))
			fmt.Fprintf(w, "%s\n", printable(c.Data))
		}
	}
	fmt.Fprintln(w, rule67)
}

// printable replaces what a terminal should not get with '.', keeping
// line ends, as tshark's ascii mode does.
func printable(p []byte) []byte {
	out := make([]byte, len(p))
	for i, c := range p {
		if c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f) {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return out
}

func hexDump(w io.Writer, indent string, offset int, p []byte) {
	for i := 0; i < len(p); i += 16 {
		line := p[i:min(i+16, len(p))]
		var hx strings.Builder
		for j := range 16 {
			if j == 8 {
				hx.WriteByte(' ')
			}
			if j < len(line) {
				fmt.Fprintf(&hx, "%02x ", line[j])
			} else {
				hx.WriteString("   ")
			}
		}
		asc := printable(line)
		for j, c := range asc {
			if c < 0x20 {
				asc[j] = '.'
			}
		}
		if len(asc) > 8 {
			asc = append(asc[:8:8], append([]byte{' '}, asc[8:]...)...)
		}
		// tshark drops one trailing blank of each line.
		fmt.Fprintf(w, "%s%s\n", indent, strings.TrimSuffix(fmt.Sprintf("%08X  %s %s", offset+i, hx.String(), asc), " "))
	}
}

func printDNS(w io.Writer, rows []analyze.DNSQuestion) {
	fmt.Fprintf(w, "%s\nDNS Questions\n", rule80)
	fmt.Fprintf(w, "%-40s %-6s %8s %10s  %-9s %s\n", "Name", "Type", "Queries", "Responses", "RCode", "Answers")
	for _, q := range rows {
		fmt.Fprintf(w, "%-40s %-6s %8d %10d  %-9s %s\n", q.Name, q.Type, q.Queries, q.Responses, q.RCode, strings.Join(q.Answers, ","))
	}
	fmt.Fprintln(w, rule80)
}

func statusText(m map[int]uint64) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d:%d", c, m[c])
	}
	return strings.Join(parts, ",")
}

func printHTTP(w io.Writer, rows []analyze.HTTPRequest) {
	fmt.Fprintf(w, "%s\nHTTP Requests\n", rule80)
	fmt.Fprintf(w, "%8s  %-7s %-30s %-30s %s\n", "Requests", "Method", "Host", "Path", "Status:Count")
	for _, r := range rows {
		fmt.Fprintf(w, "%8d  %-7s %-30s %-30s %s\n", r.Requests, r.Method, r.Host, r.Path, statusText(r.Status))
	}
	fmt.Fprintln(w, rule80)
}

func printTLS(w io.Writer, rows []analyze.TLSHello) {
	fmt.Fprintf(w, "%s\nTLS Client Hellos\n", rule80)
	fmt.Fprintf(w, "%8s  %-50s %s\n", "Count", "Server Name (SNI)", "ALPN")
	for _, r := range rows {
		fmt.Fprintf(w, "%8d  %-50s %s\n", r.Count, r.ServerName, strings.Join(r.ALPN, ","))
	}
	fmt.Fprintln(w, rule80)
}

// JSON lines: one object per table.

type jsonConv struct {
	A        string  `json:"a"`
	PortA    *uint16 `json:"port_a,omitempty"`
	B        string  `json:"b"`
	PortB    *uint16 `json:"port_b,omitempty"`
	Stream   *int    `json:"stream,omitempty"`
	FramesAB uint64  `json:"frames_ab"`
	BytesAB  uint64  `json:"bytes_ab"`
	FramesBA uint64  `json:"frames_ba"`
	BytesBA  uint64  `json:"bytes_ba"`
	Frames   uint64  `json:"frames"`
	Bytes    uint64  `json:"bytes"`
	Start    float64 `json:"rel_start"`
	Duration float64 `json:"duration"`
}

type jsonEndpoint struct {
	Addr     string  `json:"addr"`
	Port     *uint16 `json:"port,omitempty"`
	Frames   uint64  `json:"frames"`
	Bytes    uint64  `json:"bytes"`
	TxFrames uint64  `json:"tx_frames"`
	TxBytes  uint64  `json:"tx_bytes"`
	RxFrames uint64  `json:"rx_frames"`
	RxBytes  uint64  `json:"rx_bytes"`
	Country  string  `json:"country,omitempty"`
	ASN      string  `json:"asn,omitempty"`
}

type jsonInterval struct {
	Start  float64 `json:"start"`
	End    float64 `json:"end"`
	Frames uint64  `json:"frames"`
	Bytes  uint64  `json:"bytes"`
}

type jsonChunk struct {
	Node int    `json:"node"`
	Data []byte `json:"data"`
}

var kindFlag = map[analyze.Kind]string{analyze.Eth: "eth", analyze.IPv4: "ip", analyze.IPv6: "ipv6", analyze.TCP: "tcp", analyze.UDP: "udp"}

func printStatsJSON(w io.Writer, a *analyze.Analyzer, f *statsFlags, conv, eps []analyze.Kind) error {
	enc := json.NewEncoder(w)
	var errs []error
	emit := func(v any) { errs = append(errs, enc.Encode(v)) }
	emit(map[string]any{"type": "summary", "packets": a.Packets(), "bytes": a.Bytes(), "duration": a.Duration().Seconds()})
	if f.io > 0 {
		var rows []jsonInterval
		for _, r := range a.IO() {
			rows = append(rows, jsonInterval{r.Start.Seconds(), r.End.Seconds(), r.Frames, r.Bytes})
		}
		emit(map[string]any{"type": "io", "interval": f.io.Seconds(), "rows": rows})
	}
	if f.phs {
		emit(map[string]any{"type": "phs", "protocols": a.Hierarchy()})
	}
	for _, k := range conv {
		rows := []jsonConv{}
		for _, c := range a.Conversations(k) {
			j := jsonConv{A: c.A.String(), B: c.B.String(), FramesAB: c.FramesAB, BytesAB: c.BytesAB, FramesBA: c.FramesBA, BytesBA: c.BytesBA,
				Frames: c.Frames(), Bytes: c.Bytes(), Start: c.Start.Seconds(), Duration: c.Duration.Seconds()}
			if hasPorts(k) {
				j.PortA, j.PortB = &c.PortA, &c.PortB
			}
			if k == analyze.TCP {
				j.Stream = &c.Stream
			}
			rows = append(rows, j)
		}
		emit(map[string]any{"type": "conv", "kind": kindFlag[k], "rows": rows})
	}
	for _, k := range eps {
		rows := []jsonEndpoint{}
		for _, e := range a.Endpoints(k) {
			j := jsonEndpoint{Addr: e.Addr.String(), Frames: e.Frames(), Bytes: e.Bytes(), TxFrames: e.TxFrames, TxBytes: e.TxBytes, RxFrames: e.RxFrames, RxBytes: e.RxBytes, Country: e.Country, ASN: e.ASN}
			if hasPorts(k) {
				j.Port = &e.Port
			}
			rows = append(rows, j)
		}
		emit(map[string]any{"type": "endpoints", "kind": kindFlag[k], "rows": rows})
	}
	if f.follow != "" {
		m := map[string]any{"type": "follow", "stream": a.Follow() != nil}
		if s := a.Follow(); s != nil {
			chunks := []jsonChunk{}
			for _, c := range s.Chunks {
				chunks = append(chunks, jsonChunk{c.Node, c.Data})
			}
			m = map[string]any{"type": "follow", "stream": s.Number, "nodes": []string{s.Nodes[0].String(), s.Nodes[1].String()}, "chunks": chunks}
		}
		emit(m)
	}
	if f.dns {
		emit(map[string]any{"type": "dns", "rows": a.DNS()})
	}
	if f.http {
		emit(map[string]any{"type": "http", "rows": a.HTTP()})
	}
	if f.tls {
		emit(map[string]any{"type": "tls", "rows": a.TLS()})
	}
	return errors.Join(errs...)
}

// geoLocator gives analyze the country and AS of an address from the geo
// databases.
type geoLocator struct{ e *geo.Enricher }

func (g geoLocator) Locate(a netip.Addr) (country, asn string) {
	r, err := g.e.Lookup(a)
	if err != nil {
		return "", ""
	}
	if r.ASN != 0 {
		asn = "AS" + strconv.FormatUint(uint64(r.ASN), 10)
	}
	return r.CountryCode, asn
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
