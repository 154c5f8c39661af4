package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"sonde/geo"
	"sonde/lab"
)

func init() {
	register(newGeoCmd, "geo")
	addDemoStep(demoStep{order: 5, title: "geo: where is an address? (offline: the embedded country database, and in a lab the lab's invented geography, since its reserved range is nowhere)", run: func(ctx context.Context, d *demo) error {
		return d.sonde(ctx, d.lab.Topology.Client, "geo", "198.18.200.1", "1.1.1.1", "9.9.9.9", "2001:4860:4860::8888")
	}})
}

type geoOptions struct {
	dbs       []string
	json, csv bool
	fields    string
	grep      bool
	summarize bool
	top       int
	networks  string
	raw       bool
	file      string
}

func newGeoCmd(e *env) *cobra.Command {
	var o geoOptions
	cmd := &cobra.Command{
		Use:   "geo [flags] [IP...]",
		Short: "Geolocate IP addresses from MaxMind DB (mmdb) files",
		Long: `Geolocate IPv4 and IPv6 addresses: country, region, city, coordinates, AS number
and organisation, from MaxMind DB (mmdb) files such as GeoLite2 City, Country and
ASN, ip-location-db's or ipinfo's databases, or any other mmdb (shown as its raw
record). With no IP arguments, addresses are read from standard input, one per
line (blank lines and lines starting with # are skipped), or from --file, or
pulled out of any text with --grep.

Databases: --db (repeatable; a file, a directory of *.mmdb, "embedded", or
"lab"). Without --db, the files listed in $SONDE_GEOIP (colon-separated files or
directories) are used, else the *.mmdb files in /usr/share/GeoIP, /var/lib/GeoIP
and $XDG_DATA_HOME/sonde; the embedded public-domain country database
(iptoasn-country) always comes last, so a lookup works with no download. Inside
a lab (sonde lab exec, the demo) the lab geography comes first: it places the
lab's reserved addresses in invented cities, from Paris eastwards to Tokyo. Each
field of the answer comes from the first database that has it; the "db" column
says which databases answered.

Output: a table (columns that are empty in the first rows are left out), or
--json (one JSON object per line), or --csv; --fields picks the columns among
ip, network, country, country_name, continent, region, city, postal, timezone,
lat, lon, accuracy_km, asn, org, db (and data: the raw record).

Exit status: 0 when every input line was an address and every lookup worked;
1 when some input lines were not addresses or some lookups failed (each gets
an error line on stderr and the run goes on; their count is printed at the
end); 2 for bad flags, a bad address argument, or a database file that cannot
be opened or is not a valid mmdb.`,
		Example: `  sonde geo 1.1.1.1 2001:4860::8888
  sonde geo --db GeoLite2-City.mmdb --db GeoLite2-ASN.mmdb --json 81.2.69.160
  sonde geo --grep --summarize < access.log
  sonde geo --networks 81.2.69.0/24 --db GeoLite2-City.mmdb`,
		RunE: func(cmd *cobra.Command, args []string) error { return runGeo(e, &o, args) },
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.dbs, "db", nil, `database to use: an mmdb file, a directory of them, "embedded", or "lab" (the lab geography) (repeatable, in order of preference)`)
	f.BoolVar(&o.json, "json", false, "print JSON lines")
	f.BoolVar(&o.csv, "csv", false, "print CSV with a header line")
	f.StringVar(&o.fields, "fields", "", "comma-separated columns to print (see above)")
	f.BoolVar(&o.grep, "grep", false, "find the addresses anywhere in the input text")
	f.BoolVar(&o.summarize, "summarize", false, "print the top countries, ASNs and cities instead of each address")
	f.IntVar(&o.top, "top", 10, "how many entries each --summarize list shows")
	f.StringVar(&o.networks, "networks", "", "list the database networks inside this CIDR prefix")
	f.StringVarP(&o.file, "file", "f", "", "read the addresses from this file instead of standard input")
	f.BoolVar(&o.raw, "raw", false, "add the raw record of the database that answered (field data)")
	return cmd
}

// geoField is a column of the output.
type geoField int

const (
	fIP geoField = iota
	fNetwork
	fCountry
	fCountryName
	fContinent
	fRegion
	fCity
	fPostal
	fTimeZone
	fLat
	fLon
	fAccuracy
	fASN
	fOrg
	fDB
	fData
	numGeoFields
)

var geoFieldNames = [numGeoFields]string{"ip", "network", "country", "country_name", "continent", "region", "city", "postal", "timezone", "lat", "lon", "accuracy_km", "asn", "org", "db", "data"}

// perAddress reports whether a field depends on the address rather than on
// the database record, and so cannot come from the render cache.
func (f geoField) perAddress() bool { return f == fIP || f == fNetwork }

func parseGeoFields(s string) ([]geoField, error) {
	var out []geoField
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		i := slices.Index(geoFieldNames[:], name)
		if i < 0 {
			return nil, fmt.Errorf("geo: unknown field %q (fields: %s)", name, strings.Join(geoFieldNames[:], ", "))
		}
		out = append(out, geoField(i))
	}
	return out, nil
}

// labGeoPath is the --db name of the lab geography (lab.Geography): the
// lab's addresses placed in invented cities.
const labGeoPath = "lab"

// openGeoDBs opens the databases the flags or the environment name. Without
// names, a command run in a lab (SONDE_LAB set) consults the lab geography
// first, then the discovered databases and the embedded one.
func openGeoDBs(names []string, cfg *geo.Config) ([]*geo.DB, error) {
	if len(names) == 0 {
		if os.Getenv(labEnv) == "" {
			return geo.OpenDefault(cfg)
		}
		names = append([]string{labGeoPath}, append(geo.Discover(nil), geo.EmbeddedPath)...)
	}
	var dbs []*geo.DB
	for _, n := range names {
		var more []*geo.DB
		var err error
		if n == labGeoPath {
			var db *geo.DB
			if db, err = geo.OpenBytes(lab.Geography(), lab.GeographyName); err == nil {
				more = []*geo.DB{db}
			}
		} else {
			more, err = geo.OpenPaths([]string{n}, cfg)
		}
		if err != nil {
			for _, d := range dbs {
				d.Close()
			}
			return nil, err
		}
		dbs = append(dbs, more...)
	}
	return dbs, nil
}

func runGeo(e *env, o *geoOptions, args []string) error {
	if o.json && o.csv {
		return usagef("geo: --json and --csv exclude each other")
	}
	if o.top < 1 {
		return usagef("geo: --top must be at least 1")
	}
	var prefix netip.Prefix
	if o.networks != "" {
		p, err := netip.ParsePrefix(o.networks)
		if err != nil {
			return usagef("geo: --networks: %q is not a CIDR prefix", o.networks)
		}
		if len(args) > 0 || o.grep || o.summarize {
			return usagef("geo: --networks takes no addresses, --grep or --summarize")
		}
		prefix = p
	}
	var addrs []netip.Addr
	fromStdin := o.networks == "" && (len(args) == 0 || len(args) == 1 && args[0] == "-")
	input := e.stdin
	if fromStdin && o.file == "" && isTerminal(e.stdin) {
		return usagef("geo: give addresses as arguments, with --file, or on standard input (see --help)")
	}
	if o.file != "" {
		if !fromStdin {
			return usagef("geo: --file takes no addresses or --networks")
		}
		f, err := os.Open(o.file)
		if err != nil {
			return usagef("geo: %v", err)
		}
		defer f.Close()
		input = f
	}
	if !fromStdin {
		for _, a := range args {
			ip, ok := geo.ParseAddr([]byte(a))
			if !ok {
				return usagef("geo: %q is not an IP address", a)
			}
			addrs = append(addrs, ip)
		}
	}
	r := &geoRenderer{json: o.json, csv: o.csv, raw: o.raw}
	if o.fields != "" {
		fs, err := parseGeoFields(o.fields)
		if err != nil {
			return asUsage(err)
		}
		r.fields, r.explicit = fs, true
	} else {
		r.fields = []geoField{fIP, fNetwork, fCountry, fCountryName, fContinent, fRegion, fCity, fPostal, fTimeZone, fLat, fLon, fAccuracy, fASN, fOrg, fDB, fData}
		if !o.json && !o.csv {
			r.fields = []geoField{fIP, fCountry, fRegion, fCity, fLat, fLon, fASN, fOrg, fNetwork, fDB, fData}
		}
		if o.csv && !o.raw {
			r.fields = slices.DeleteFunc(r.fields, func(f geoField) bool { return f == fData })
		}
		if o.networks != "" {
			// The network comes first and there is no address.
			r.fields = slices.DeleteFunc(r.fields, func(f geoField) bool { return f == fIP || f == fNetwork })
			r.fields = slices.Insert(r.fields, 0, fNetwork)
		}
	}

	// A long bulk run from a pipe picks up a replaced database file.
	var cfg *geo.Config
	if fromStdin {
		cfg = &geo.Config{ReloadInterval: 5 * time.Second}
	}
	dbs, err := openGeoDBs(o.dbs, cfg)
	if err != nil {
		var pe *fs.PathError
		if errors.Is(err, geo.ErrInvalidDatabase) || errors.As(err, &pe) || errors.Is(err, fs.ErrNotExist) {
			return asUsage(err)
		}
		return err
	}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	r.enr = geo.NewEnricher(dbs...)
	r.init()

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	errw := bufio.NewWriterSize(e.stderr, 4<<10)
	defer errw.Flush()
	if o.csv {
		r.writeCSVHeader(out)
	}

	var st geoStats
	var sum *geoSummary
	switch {
	case o.networks != "":
		r.w = out
		for _, db := range dbs {
			r.enr = geo.NewEnricher(db) // raw records come from the database listed
			for rec, err := range db.Networks(prefix) {
				if err != nil {
					out.Flush()
					return err
				}
				r.row(netip.Addr{}, &rec)
			}
		}
		r.flush()
	case !fromStdin:
		w := newGeoWorker(r, o)
		w.r.w = out
		for i, a := range addrs {
			w.addr(a, i+1)
		}
		w.r.flush()
		errw.Write(w.errs.Bytes())
		st, sum = w.st, w.sum
	default:
		var err error
		st, sum, err = runGeoBulk(input, out, errw, r, o)
		if err != nil {
			out.Flush()
			return err
		}
	}
	if sum != nil {
		sum.write(out, &st, o.top, o.json)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if st.bad > 0 || st.failed > 0 {
		var parts []string
		if st.bad > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d input lines were not IP addresses", st.bad, st.lines))
		}
		if st.failed > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d lookups failed", st.failed, st.total))
		}
		return fmt.Errorf("geo: %s", strings.Join(parts, "; "))
	}
	return nil
}

// isTerminal reports whether r is a terminal, where a bulk run would wait
// for typing that nobody intends.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), getTermios)
	return err == nil
}

type geoStats struct {
	lines, bad, total, failed int
}

func (s *geoStats) add(o geoStats) {
	s.lines += o.lines
	s.bad += o.bad
	s.total += o.total
	s.failed += o.failed
}

// geoWorker looks up and renders addresses. Bulk runs use several, each
// with its own renderer (and so its own render cache) over the shared,
// concurrency-safe Enricher.
type geoWorker struct {
	r     *geoRenderer
	sum   *geoSummary
	grep  bool
	st    geoStats
	errs  bytes.Buffer
	found []netip.Addr
}

func newGeoWorker(proto *geoRenderer, o *geoOptions) *geoWorker {
	r := *proto
	r.init()
	w := &geoWorker{r: &r, grep: o.grep}
	if o.summarize {
		w.sum = newGeoSummary()
	}
	return w
}

// line handles one input line (with or without its newline).
func (w *geoWorker) line(b []byte, n int) {
	w.st.lines++
	if w.grep {
		w.found = geo.AppendAddrs(w.found[:0], b)
		for _, a := range w.found {
			w.addr(a, n)
		}
		return
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] == '#' {
		w.st.lines--
		return
	}
	if a, ok := geo.ParseAddr(t); ok {
		w.addr(a, n)
		return
	}
	w.st.bad++
	if len(t) > 64 {
		t = append(t[:61:61], "..."...)
	}
	fmt.Fprintf(&w.errs, "sonde: line %d: %q is not an IP address\n", n, t)
}

func (w *geoWorker) addr(a netip.Addr, n int) {
	w.st.total++
	rec, err := w.r.enr.Lookup(a)
	if err != nil {
		w.st.failed++
		fmt.Fprintf(&w.errs, "sonde: line %d: %s: %v\n", n, a, err)
		if !rec.Found() {
			return
		}
	}
	if w.sum != nil {
		w.sum.add(&rec)
		return
	}
	w.r.row(a, &rec)
}

// geoChunk is a piece of the input made of whole lines, and then the output
// of its lines.
type geoChunk struct {
	seq, line int // order; number of its first line
	in        []byte
	out, errs []byte
	st        geoStats
}

const geoChunkSize = 256 << 10

// geoMaxLine bounds the memory a line without a newline can take: longer
// lines are handled in pieces.
const geoMaxLine = 16 << 20

func isAddrRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == ':' || r == '.'
}

// runGeoBulk reads lines from in in chunks, has them looked up and rendered
// by one worker per CPU (one for the table, whose first rows decide its
// columns), and writes their output in input order.
func runGeoBulk(in io.Reader, out, errw io.Writer, proto *geoRenderer, o *geoOptions) (geoStats, *geoSummary, error) {
	nw := runtime.GOMAXPROCS(0)
	if !o.json && !o.csv && !o.summarize {
		nw = 1
	}
	work := make(chan *geoChunk, nw)
	done := make(chan *geoChunk, nw)
	free := make(chan []byte, 2*nw+2)    // input buffers
	outFree := make(chan []byte, 2*nw+2) // output buffers
	stop := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup

	go func() {
		defer close(work)
		readErr = readGeoChunks(in, work, free, stop)
	}()

	workers := make([]*geoWorker, nw)
	for i := range workers {
		w := newGeoWorker(proto, o)
		workers[i] = w
		wg.Go(func() {
			var tb bytes.Buffer // the table's output
			var ob []byte       // JSON or CSV lines, appended in place
			w.r.w, w.r.out = &tb, &ob
			for c := range work {
				select {
				case ob = <-outFree:
				default:
					ob = make([]byte, 0, 4*len(c.in))
				}
				tb.Reset()
				w.errs.Reset()
				before := w.st
				n := c.line
				for b := c.in; len(b) > 0; n++ {
					i := bytes.IndexByte(b, '\n')
					if i < 0 {
						i = len(b) - 1
					}
					w.line(b[:i+1], n)
					b = b[i+1:]
				}
				w.r.flush() // a table prints the rows of each chunk
				c.out = append(ob, tb.Bytes()...)
				ob = nil
				if w.errs.Len() > 0 {
					c.errs = append([]byte(nil), w.errs.Bytes()...)
				}
				c.st = w.st
				c.st.sub(before)
				select {
				case free <- c.in[:0]:
				default:
				}
				c.in = nil
				done <- c
			}
		})
	}
	go func() { wg.Wait(); close(done) }()

	// Writer: put the chunks back in order.
	var st geoStats
	pending := map[int]*geoChunk{}
	next := 0
	var werr error
	for c := range done {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			st.add(c.st)
			if werr == nil {
				_, werr = out.Write(c.out)
				if werr == nil {
					_, werr = errw.Write(c.errs)
				}
				if werr != nil {
					close(stop)
				}
			}
			select {
			case outFree <- c.out[:0]:
			default:
			}
		}
		// Input that trickles in (tail -f) is printed as it comes.
		if werr == nil && len(done) == 0 {
			if werr = flushAll(out, errw); werr != nil {
				close(stop)
			}
		}
	}
	if werr != nil {
		return st, nil, werr
	}
	var sum *geoSummary
	if o.summarize {
		sum = newGeoSummary()
		for _, w := range workers {
			sum.merge(w.sum)
		}
	}
	return st, sum, readErr
}

// readGeoChunks cuts the input into chunks of whole lines (of about
// geoChunkSize, or less when the input trickles in) and sends them to work,
// numbered, until the end of the input or stop.
func readGeoChunks(in io.Reader, work chan<- *geoChunk, free <-chan []byte, stop <-chan struct{}) error {
	var carry []byte
	seq, line := 0, 1
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, 0, geoChunkSize)
		}
		if cap(buf) > 4*geoChunkSize {
			buf = make([]byte, 0, geoChunkSize) // after a long line
		}
		buf = append(buf[:0], carry...)
		for {
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, cap(buf)) // a line longer than a chunk
			}
			want := cap(buf) - len(buf)
			n, err := in.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			short := n < want
			if err != nil {
				if len(buf) > 0 {
					select {
					case work <- &geoChunk{seq: seq, line: line, in: buf}:
					case <-stop:
					}
				}
				if err != io.EOF {
					return fmt.Errorf("geo: reading input: %w", err)
				}
				return nil
			}
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 && len(buf) >= geoMaxLine {
				// A line this long is not an address; for --grep,
				// cut it where no address can be split.
				i = bytes.LastIndexFunc(buf, func(r rune) bool { return !isAddrRune(r) })
				if i < 0 {
					i = len(buf) - 1
				}
			}
			if i >= 0 && (short || len(buf) >= cap(buf)/2) {
				carry = append(carry[:0], buf[i+1:]...)
				c := &geoChunk{seq: seq, line: line, in: buf[:i+1]}
				line += bytes.Count(c.in, []byte{'\n'})
				seq++
				select {
				case work <- c:
				case <-stop:
					return nil
				}
				break
			}
		}
	}
}

func flushAll(ws ...io.Writer) error {
	for _, w := range ws {
		if f, ok := w.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *geoStats) sub(o geoStats) {
	s.lines -= o.lines
	s.bad -= o.bad
	s.total -= o.total
	s.failed -= o.failed
}

// geoOut is where a renderer writes: a bufio.Writer or a bytes.Buffer.
type geoOut interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
}

// geoRenderer prints records as a table, JSON lines or CSV. The part of a
// line that depends only on the database record is rendered once per
// record (geo.ID) and cached.
type geoRenderer struct {
	enr       *geo.Enricher
	fields    []geoField
	explicit  bool // fields given with --fields: print them even if empty
	json, csv bool
	raw       bool
	w         geoOut

	cache *geoSegCache
	line  []byte
	// out, when set, is where JSON and CSV lines are appended (a bulk
	// worker's chunk output), rather than written to w.
	out *[]byte

	// table: rows are kept in blocks; the first block decides the columns.
	rows    [][]string
	cols    []geoField
	widths  []int // of cols, in runes
	started bool  // CSV header or table columns decided
	header  bool  // table header printed
}

const tableBlock = 256

func (r *geoRenderer) init() {
	if r.cache == nil {
		r.cache = newGeoSegCache()
	}
	if !r.raw && !slices.Contains(r.fields, fData) {
		return
	}
	if r.raw && !slices.Contains(r.fields, fData) {
		r.fields = append(r.fields, fData)
	}
}

// writeCSVHeader writes the header line of the CSV output.
func (r *geoRenderer) writeCSVHeader(w geoOut) {
	for i, f := range r.fields {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(geoFieldNames[f])
	}
	w.WriteByte('\n')
}

// row renders one address (invalid for --networks) and its record.
func (r *geoRenderer) row(a netip.Addr, rec *geo.Record) {
	if !r.json && !r.csv {
		r.tableRow(a, rec)
		return
	}
	segs := r.segments(rec)
	b := r.line[:0]
	if r.out != nil {
		b = *r.out
	}
	if r.json {
		b = append(b, '{')
	}
	first := true
	for i, f := range r.fields {
		switch f {
		case fIP:
			if r.json && !a.IsValid() {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			if r.json {
				b = append(b, `"ip":`...)
			}
			if a.IsValid() {
				b = appendQuoted(b, a.AppendTo, r.json)
			}
		case fNetwork:
			if r.json && !rec.Network.IsValid() {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			if r.json {
				b = append(b, `"network":`...)
			}
			if rec.Network.IsValid() {
				b = appendQuoted(b, rec.Network.AppendTo, r.json)
			}
		default:
			v := segs.field(i)
			if r.json && len(v) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, v...)
		}
	}
	if r.json {
		if !rec.Found() {
			if !first {
				b = append(b, ',')
			}
			b = append(b, `"found":false`...)
		}
		b = append(b, '}')
	}
	b = append(b, '\n')
	if r.out != nil {
		*r.out = b
		return
	}
	r.w.Write(b)
	r.line = b
}

// appendQuoted appends what app appends, in double quotes when q.
func appendQuoted(b []byte, app func([]byte) []byte, q bool) []byte {
	if q {
		b = append(b, '"')
	}
	b = app(b)
	if q {
		b = append(b, '"')
	}
	return b
}

// geoSegments holds the rendering of each field of a record: field i is
// buf[ends[i]:ends[i+1]].
type geoSegments struct {
	id   geo.ID
	buf  []byte
	ends [numGeoFields + 1]uint32
}

// geoSegCache is a direct-mapped, lock-free cache of rendered records by
// geo.ID, shared by the bulk workers: each distinct record is rendered
// about once, whatever worker meets it first.
type geoSegCache struct {
	slots []atomic.Pointer[geoSegments]
	shift uint
}

const geoSegCacheBits = 18

func newGeoSegCache() *geoSegCache {
	return &geoSegCache{slots: make([]atomic.Pointer[geoSegments], 1<<geoSegCacheBits), shift: 64 - geoSegCacheBits}
}

func (c *geoSegCache) slot(id geo.ID) *atomic.Pointer[geoSegments] {
	return &c.slots[id.Hash()>>c.shift]
}

func (s *geoSegments) field(i int) []byte { return s.buf[s.ends[i]:s.ends[i+1]] }

// segments returns the rendering of each field of rec (empty for the
// per-address fields), from the cache when rec's ID was seen before.
func (r *geoRenderer) segments(rec *geo.Record) *geoSegments {
	id := rec.ID()
	var slot *atomic.Pointer[geoSegments]
	if id != (geo.ID{}) {
		slot = r.cache.slot(id)
		if s := slot.Load(); s != nil && s.id == id {
			return s
		}
	}
	var raw any
	if slices.Contains(r.fields, fData) && rec.Found() && (r.raw || !rec.Known()) {
		raw = r.rawRecord(rec)
	}
	s := &geoSegments{id: id}
	var tmp [512]byte
	b := tmp[:0]
	for i, f := range r.fields {
		if !f.perAddress() {
			b = r.renderField(b, f, rec, raw)
		}
		s.ends[i+1] = uint32(len(b))
	}
	s.buf = bytes.Clone(b)
	if slot != nil {
		slot.Store(s)
	}
	return s
}

// rawRecord decodes the whole record of the first database that has data
// for the record's network.
func (r *geoRenderer) rawRecord(rec *geo.Record) any {
	for _, db := range r.enr.DBs() {
		var v any
		if _, ok, err := db.Decode(rec.Network.Addr(), &v); err == nil && ok {
			return v
		}
	}
	return nil
}

// renderField appends the JSON member (`"key":value`) or CSV cell of field
// f; nothing for an empty JSON value.
func (r *geoRenderer) renderField(b []byte, f geoField, rec *geo.Record, raw any) []byte {
	var s string
	num := false
	switch f {
	case fCountry:
		s = rec.CountryCode
	case fCountryName:
		s = rec.Country
	case fContinent:
		s = rec.ContinentCode
	case fRegion:
		s = rec.Region
	case fCity:
		s = rec.City
	case fPostal:
		s = rec.Postal
	case fTimeZone:
		s = rec.TimeZone
	case fLat, fLon:
		if rec.HasLocation {
			v := rec.Lat
			if f == fLon {
				v = rec.Lon
			}
			s, num = strconv.FormatFloat(v, 'f', -1, 64), true
		}
	case fAccuracy:
		if rec.AccuracyRadius != 0 {
			s, num = strconv.Itoa(int(rec.AccuracyRadius)), true
		}
	case fASN:
		if rec.ASN != 0 {
			s, num = strconv.FormatUint(uint64(rec.ASN), 10), true
		}
	case fOrg:
		s = rec.Org
	case fDB:
		s = rec.Database
	case fData:
		if raw != nil {
			j, err := json.Marshal(raw)
			if err == nil {
				s, num = string(j), true
			}
		}
	}
	if r.csv {
		return appendCSV(b, s)
	}
	if s == "" {
		return b
	}
	b = append(b, '"')
	b = append(b, geoFieldNames[f]...)
	b = append(b, `":`...)
	if num {
		return append(b, s...)
	}
	return appendJSONString(b, s)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			rn, size := utf8.DecodeRuneInString(s[i:])
			if rn == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendCSV(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\",\r\n") && (s == "" || s[0] != ' ') {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// tableRow keeps a row of the table; the first block of rows decides which
// columns are printed.
func (r *geoRenderer) tableRow(a netip.Addr, rec *geo.Record) {
	var raw any
	if rec.Found() && (r.raw || !rec.Known()) && slices.Contains(r.fields, fData) {
		raw = r.rawRecord(rec)
	}
	row := make([]string, numGeoFields)
	row[fIP] = "-"
	if a.IsValid() {
		row[fIP] = a.String()
	}
	if rec.Network.IsValid() {
		row[fNetwork] = rec.Network.String()
	}
	row[fCountry] = strings.TrimSpace(rec.CountryCode + " " + rec.Country)
	row[fCountryName] = rec.Country
	row[fContinent] = rec.ContinentCode
	row[fRegion] = rec.Region
	row[fCity] = rec.City
	row[fPostal] = rec.Postal
	row[fTimeZone] = rec.TimeZone
	if rec.HasLocation {
		row[fLat] = strconv.FormatFloat(rec.Lat, 'f', -1, 64)
		row[fLon] = strconv.FormatFloat(rec.Lon, 'f', -1, 64)
	}
	if rec.AccuracyRadius != 0 {
		row[fAccuracy] = strconv.Itoa(int(rec.AccuracyRadius))
	}
	if rec.ASN != 0 {
		row[fASN] = "AS" + strconv.FormatUint(uint64(rec.ASN), 10)
	}
	row[fOrg] = rec.Org
	row[fDB] = rec.Database
	if raw != nil {
		if j, err := json.Marshal(raw); err == nil {
			row[fData] = string(j)
		}
	}
	r.rows = append(r.rows, row)
	if len(r.rows) >= tableBlock {
		r.flush()
	}
}

// flush prints the rows kept for the table.
func (r *geoRenderer) flush() {
	if r.json || r.csv || len(r.rows) == 0 && r.started {
		return
	}
	if !r.started {
		r.started = true
		for _, f := range r.fields {
			used := r.explicit || f == fIP
			for _, row := range r.rows {
				used = used || row[f] != ""
			}
			if used {
				r.cols = append(r.cols, f)
			}
		}
		if len(r.rows) == 0 {
			return
		}
	}
	// Columns only grow, so that the rows of later chunks line up with
	// the first ones.
	if r.widths == nil {
		r.widths = make([]int, len(r.cols))
		for i, f := range r.cols {
			r.widths[i] = len(geoFieldNames[f])
		}
	}
	for _, row := range r.rows {
		for i, f := range r.cols {
			r.widths[i] = max(r.widths[i], max(1, utf8.RuneCountInString(row[f])))
		}
	}
	var b []byte
	cell := func(i int, v string) {
		if v == "" {
			v = "-"
		}
		b = append(b, v...)
		if i < len(r.cols)-1 {
			for range r.widths[i] - utf8.RuneCountInString(v) + 2 {
				b = append(b, ' ')
			}
		}
	}
	if !r.header {
		r.header = true
		for i, f := range r.cols {
			cell(i, strings.ToUpper(geoFieldNames[f]))
		}
		b = append(b, '\n')
	}
	for _, row := range r.rows {
		for i, f := range r.cols {
			cell(i, row[f])
		}
		b = append(b, '\n')
	}
	r.w.Write(b)
	r.rows = r.rows[:0]
}

// geoSummary counts what --summarize prints.
type geoSummary struct {
	found     int
	countries map[string]*geoCount
	asns      map[uint32]*geoCount
	cities    map[string]*geoCount
}

type geoCount struct {
	key, name string
	n         int
}

func newGeoSummary() *geoSummary {
	return &geoSummary{countries: map[string]*geoCount{}, asns: map[uint32]*geoCount{}, cities: map[string]*geoCount{}}
}

func (s *geoSummary) add(rec *geo.Record) {
	if !rec.Found() {
		return
	}
	s.found++
	if rec.CountryCode != "" {
		c := s.countries[rec.CountryCode]
		if c == nil {
			c = &geoCount{key: rec.CountryCode, name: rec.Country}
			s.countries[rec.CountryCode] = c
		}
		c.n++
	}
	if rec.ASN != 0 {
		c := s.asns[rec.ASN]
		if c == nil {
			c = &geoCount{key: "AS" + strconv.FormatUint(uint64(rec.ASN), 10), name: rec.Org}
			s.asns[rec.ASN] = c
		}
		c.n++
	}
	if rec.City != "" {
		k := rec.City + "\x00" + rec.Region + "\x00" + rec.CountryCode
		c := s.cities[k]
		if c == nil {
			name := rec.City
			for _, p := range []string{rec.Region, rec.CountryCode} {
				if p != "" {
					name += ", " + p
				}
			}
			c = &geoCount{key: name}
			s.cities[k] = c
		}
		c.n++
	}
}

// merge adds the counts of o to s.
func (s *geoSummary) merge(o *geoSummary) {
	s.found += o.found
	for _, m := range []struct{ dst, src map[string]*geoCount }{{s.countries, o.countries}, {s.cities, o.cities}} {
		for k, c := range m.src {
			if d := m.dst[k]; d != nil {
				d.n += c.n
			} else {
				m.dst[k] = c
			}
		}
	}
	for k, c := range o.asns {
		if d := s.asns[k]; d != nil {
			d.n += c.n
		} else {
			s.asns[k] = c
		}
	}
}

func topCounts[K comparable](m map[K]*geoCount, n int) []*geoCount {
	var out []*geoCount
	for _, c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *geoCount) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return cmp.Compare(a.key, b.key)
	})
	return out[:min(n, len(out))]
}

func (s *geoSummary) write(w io.Writer, st *geoStats, top int, asJSON bool) {
	share := func(n int) float64 {
		if st.total == 0 {
			return 0
		}
		return math.Round(float64(n)*1000/float64(st.total)) / 10
	}
	lists := []struct {
		title, key string
		items      []*geoCount
	}{
		{"Top countries", "countries", topCounts(s.countries, top)},
		{"Top ASNs", "asns", topCounts(s.asns, top)},
		{"Top cities", "cities", topCounts(s.cities, top)},
	}
	if asJSON {
		type item struct {
			Key     string  `json:"key"`
			Name    string  `json:"name,omitempty"`
			Count   int     `json:"count"`
			Percent float64 `json:"percent"`
		}
		obj := map[string]any{"addresses": st.total, "found": s.found, "not_found": st.total - s.found - st.failed, "bad_lines": st.bad, "failed": st.failed}
		for _, l := range lists {
			items := []item{}
			for _, c := range l.items {
				items = append(items, item{c.key, c.name, c.n, share(c.n)})
			}
			obj[l.key] = items
		}
		j, _ := json.Marshal(obj)
		w.Write(append(j, '\n'))
		return
	}
	fmt.Fprintf(w, "Addresses: %d\nFound:     %d (%.1f%%)\n", st.total, s.found, share(s.found))
	if st.bad > 0 {
		fmt.Fprintf(w, "Bad lines: %d\n", st.bad)
	}
	for _, l := range lists {
		if len(l.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", l.title)
		width, cw := 0, 0
		names := make([]string, len(l.items))
		for i, c := range l.items {
			names[i] = c.key
			if c.name != "" {
				names[i] += " " + c.name
			}
			width = max(width, utf8.RuneCountInString(names[i]))
			cw = max(cw, len(strconv.Itoa(c.n)))
		}
		for i, c := range l.items {
			pad := width - utf8.RuneCountInString(names[i])
			fmt.Fprintf(w, "  %s%s  %*d  %5.1f%%\n", names[i], strings.Repeat(" ", pad), cw, c.n, share(c.n))
		}
	}
}
