package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sonde/geo"
	htmlreport "sonde/report"
)

func init() {
	register(newReportCmd, "report")
	addDemoStep(demoStep{order: 95, title: "report: the capture, the trace and the scan on one HTML page", run: demoReport})
}

type reportFlags struct {
	trace, scan string
	out         string
	dbs         []string
	noGeo       bool
	title       string
	top         int
}

func newReportCmd(e *env) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report CAPTURE",
		Short: "One offline HTML page of a capture: graphs, tables, a world map, a trace and a scan",
		Long: `report reads a pcap or pcapng file once (as stats does) and writes one HTML page
that shows it: a summary, the IO graph per protocol, the protocol hierarchy, the
endpoints on a world map by country, the top conversations and endpoints
(sortable tables), and the DNS, HTTP and TLS names seen. --trace adds a trace
(the JSON of sonde trace --json, or of --report N --json): its path table, and
the path drawn on the map hop by hop. --scan adds a scan (the JSON lines of sonde scan --json): the ports
found per host.

The page needs no network to be viewed: data, styles, script and charts are in
the file, and it forbids itself any load. Countries and places come from the
geo databases (see sonde geo; in a lab, the lab's invented geography).

Output: -o FILE (default: the capture's name with .html, in the current
directory); -o - writes the page to standard output. A bad file or flag is
reported before anything is written. CAPTURE "-" reads standard input.`,
		Example: `  sonde report capture.pcapng
  sonde trace --json 198.18.200.1 > trace.json
  sonde scan -p- --json 198.18.200.1 > scan.json
  sonde report capture.pcapng --trace trace.json --scan scan.json -o report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHTMLReport(cmd.Context(), e, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.trace, "trace", "", "add the trace in `FILE` (written by sonde trace --json, or --report N --json)")
	fl.StringVar(&f.scan, "scan", "", "add the scan in `FILE` (JSON lines written by sonde scan --json)")
	fl.StringVarP(&f.out, "output", "o", "", "write the page to `FILE` (- for standard output; default: CAPTURE.html)")
	fl.StringArrayVar(&f.dbs, "db", nil, `geo database: an mmdb file, a directory of them, "embedded" or "lab" (repeatable; default: as sonde geo)`)
	fl.BoolVar(&f.noGeo, "no-geo", false, "do not locate addresses")
	fl.StringVar(&f.title, "title", "", "title of the page (default: sonde report)")
	fl.IntVar(&f.top, "top", 100, "rows of each table and markers on the map")
	return cmd
}

// reportOutput is where the page goes by default: the capture's name with
// .html, in the current directory.
func reportOutput(capture string) string {
	if capture == "-" {
		return "report.html"
	}
	base := filepath.Base(capture)
	return strings.TrimSuffix(base, filepath.Ext(base)) + ".html"
}

func runHTMLReport(ctx context.Context, e *env, f *reportFlags, name string) error {
	if f.top < 1 || f.top > 100000 {
		return usagef("report: --top %d: want 1 to 100000", f.top)
	}
	cfg := &htmlreport.Config{Title: f.title, Capture: name, Top: f.top}
	if name == "-" {
		cfg.Capture = "standard input"
	}
	// Every input is read and checked before the output is created.
	if f.trace != "" {
		t, err := readInput(f.trace, htmlreport.ReadTrace)
		if err != nil {
			return err
		}
		cfg.Trace = t
	}
	if f.scan != "" {
		s, err := readInput(f.scan, htmlreport.ReadScan)
		if err != nil {
			return err
		}
		cfg.Scan = s
	}
	if !f.noGeo {
		dbs, err := openGeoDBs(f.dbs, nil)
		if err != nil {
			if len(f.dbs) > 0 {
				return asUsage(err)
			}
			fmt.Fprintf(e.stderr, "sonde: report: no countries: %v\n", err)
		}
		defer func() {
			for _, db := range dbs {
				db.Close()
			}
		}()
		if len(dbs) > 0 {
			cfg.Geo = geo.NewEnricher(dbs...)
		}
	}
	r, closeIn, err := openCapture(e, name)
	if err != nil {
		return err
	}
	defer closeIn()
	out := f.out
	if out == "" {
		out = reportOutput(name)
	}

	rep := htmlreport.New(cfg)
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
			readErr = fmt.Errorf("%s: %w", name, err)
			break
		}
		rep.Add(data, ci.Timestamp, ci.Length, ci.LinkType)
	}

	if out == "-" {
		if err := rep.WriteHTML(e.stdout); err != nil {
			return err
		}
		return readErr
	}
	// Written next to its final name and renamed: an interrupted run leaves
	// no half page, and an earlier report stays until the new one is whole.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".sonde-report-*.html")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = rep.WriteHTML(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s\n", out, rep.Stats())
	return readErr
}

// readInput opens and parses a --trace or --scan file; any failure is a
// usage error.
func readInput[T any](name string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(name)
	if err != nil {
		return zero, asUsage(err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, usagef("%s: %v", name, strings.TrimPrefix(err.Error(), "report: "))
	}
	return v, nil
}

// demoReport saves the trace and the scan of the target as JSON, then
// writes the report of the demo's capture with them.
func demoReport(ctx context.Context, d *demo) error {
	if d.capture == "" {
		return errors.New("report: the demo has no capture")
	}
	client, target := d.lab.Topology.Client, d.target().String()
	// ICMP echo probes: the target answers them with echo replies, which no
	// rate limit holds back, while its port unreachables (UDP probes) are
	// limited, and the trace step a moment ago spent that budget.
	if err := d.sondeTo(ctx, client, "trace.json", "trace", "-n", "-I", "--json", target); err != nil {
		return err
	}
	if err := d.sondeTo(ctx, client, "scan.json", "scan", "-p-", "-sV", "--seed", "1", "--json", target); err != nil {
		return err
	}
	if err := d.sonde(ctx, client, "report", d.capture, "--trace", "trace.json", "--scan", "scan.json", "-o", "report.html"); err != nil {
		return err
	}
	path, _ := filepath.Abs(filepath.Join(d.dir, "report.html"))
	if d.keep {
		fmt.Fprintf(d.out, "open %s in a browser\n", path)
	} else {
		fmt.Fprintf(d.out, "(the demo's files are removed at the end: sonde lab demo --dir DIR keeps them, and this report)\n")
	}
	return nil
}
