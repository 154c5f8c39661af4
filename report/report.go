package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/gopacket/gopacket/layers"

	"sonde/analyze"
	"sonde/geo"
)

// Config says what a report shows besides the capture. The zero value is a
// report of the capture alone, without countries.
type Config struct {
	// Title heads the page (zero: "sonde report").
	Title string
	// Capture names the capture file on the page (zero: none shown).
	Capture string
	// Trace, when not nil, adds the path table and draws the path on the map.
	Trace *Trace
	// Scan, when not nil, adds the ports found per host.
	Scan *Scan
	// Geo, when not nil, places endpoints and trace hops: their country
	// (code and flag), city, AS and position on the map.
	Geo *geo.Enricher
	// Top is the number of rows of each table and of markers on the map
	// (zero: 100); the rest is counted in a line under the table.
	Top int
	// Intervals bounds the IO graph's resolution (zero: 300): the interval
	// is chosen from the capture's span as it is read.
	Intervals int
}

const (
	defaultTop       = 100
	defaultIntervals = 300
	// maxLocated bounds the endpoints looked up in Geo to fill the map's
	// countries; the rest (the least active) are counted as not looked up.
	maxLocated = 20000
	// maxPHSRows bounds the protocol hierarchy's rows.
	maxPHSRows = 200
	// maxSeries is the number of protocols the IO graph plots; the others
	// are summed into one "other" series.
	maxSeries = 8
	// maxScanRows bounds the ports listed per host.
	maxScanRows = 1000
)

func (c *Config) top() int {
	if c.Top > 0 {
		return c.Top
	}
	return defaultTop
}

// Report accumulates a capture's statistics, one packet at a time, and
// writes them as one HTML page. Create one with New.
type Report struct {
	cfg  Config
	a    *analyze.Analyzer
	page *page // built by Stats or WriteHTML; nil after Add
}

// AnalyzerConfig returns the analyze.Config a report computes: IP and
// TCP/UDP conversations and endpoints, the protocol hierarchy, IO per
// protocol in at most cfg.Intervals intervals, and DNS, HTTP and TLS names.
func AnalyzerConfig(cfg *Config) analyze.Config {
	n := defaultIntervals
	if cfg != nil && cfg.Intervals > 0 {
		n = cfg.Intervals
	}
	ip := analyze.IPv4 | analyze.IPv6
	return analyze.Config{
		Conversations: ip | analyze.TCP | analyze.UDP,
		Endpoints:     ip,
		Hierarchy:     true,
		IOLimit:       n,
		IOProtocols:   true,
		DNS:           true, HTTP: true, TLS: true,
	}
}

// New returns a Report of what cfg (nil: the zero Config) adds to the
// capture.
func New(cfg *Config) *Report {
	r := &Report{}
	if cfg != nil {
		r.cfg = *cfg
	}
	r.a = analyze.New(AnalyzerConfig(&r.cfg))
	return r
}

// Add accounts one packet, as analyze.Analyzer.Add does: data as captured,
// its capture time, its length on the wire and its link type.
func (r *Report) Add(data []byte, ts time.Time, wireLen int, link layers.LinkType) {
	r.a.Add(data, ts, wireLen, link)
	r.page = nil
}

// built returns the page of what was added so far.
func (r *Report) built() *page {
	if r.page == nil {
		r.page = r.build()
	}
	return r.page
}

// Stats counts what the page shows, element by element.
type Stats struct {
	Packets, Bytes      uint64
	IPConversations     int // IPv4 and IPv6 conversations (the table shows at most Config.Top)
	TCPUDPConversations int
	Endpoints           int // IP endpoints
	Located             int // endpoints with a place on the map
	Markers             int // endpoint markers drawn (circle.endpoint): Located, at most Config.Top
	Countries           int // countries with endpoints (path.country.active)
	MapCountries        int // countries of the map (path.country)
	Series              int // protocols plotted in each IO chart (polyline.io-series)
	Protocols           int // rows of the protocol hierarchy (g.phs-row)
	Hops                int // rows of the trace's path table (tr.hop-row)
	MapHops             int // hops located and drawn on the map (g.hop)
	Hosts               int // hosts of the scan (div.scan-host)
}

// Stats returns the counts of the page that WriteHTML writes.
func (r *Report) Stats() Stats {
	p := r.built()
	s := Stats{Packets: p.Summary.Packets, Bytes: p.Summary.Bytes,
		IPConversations: p.Summary.IPConversations, TCPUDPConversations: p.Summary.TCPUDPConversations,
		Endpoints: p.Summary.Endpoints, Located: p.Map.Located, Markers: len(p.Map.Markers),
		Countries: p.Map.FilledCount, MapCountries: len(p.Map.Countries), Protocols: len(p.PHS),
		MapHops: len(p.Map.Hops), Hosts: len(p.Scan)}
	if p.IO != nil {
		s.Series = len(p.IO.Legend)
	}
	if p.Trace != nil {
		s.Hops = len(p.Trace.Rows)
	}
	return s
}

// String summarises s in one line, as sonde report prints it.
func (s Stats) String() string {
	out := fmt.Sprintf("%d packets, %d IP conversations, %d IP endpoints (%d located in %d countries)",
		s.Packets, s.IPConversations, s.Endpoints, s.Located, s.Countries)
	if s.Hops > 0 {
		out += fmt.Sprintf(", a trace of %d hops (%d on the map)", s.Hops, s.MapHops)
	}
	if s.Hosts > 0 {
		out += fmt.Sprintf(", a scan of %d host(s)", s.Hosts)
	}
	return out
}

// Packets returns the number of packets added.
func (r *Report) Packets() uint64 { return r.a.Packets() }

// WriteHTML writes the report as one HTML document that needs nothing
// else to be viewed: styles, script and charts (SVG) are inline, and its
// Content-Security-Policy forbids the page any network access.
func (r *Report) WriteHTML(w io.Writer) error {
	p := r.built()
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate().Execute(bw, p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// place is where geo puts an address.
type place struct {
	Country, CountryName, City, ASN string
	Pos                             mapPoint
	Located                         bool // Pos is valid
}

// locate looks addr up in the Enricher (or in the trace's own
// annotations when there is no Enricher).
func (r *Report) locate(addr netip.Addr, info map[string]string) place {
	var pl place
	if r.cfg.Geo != nil {
		rec, _ := r.cfg.Geo.Lookup(addr) // an error of one database leaves the others' answer
		pl.Country, pl.CountryName, pl.City = rec.CountryCode, rec.Country, rec.City
		if rec.ASN != 0 {
			pl.ASN = "AS" + strconv.FormatUint(uint64(rec.ASN), 10)
		}
		if rec.HasLocation {
			pl.Pos, pl.Located = project(rec.Lat, rec.Lon), true
		}
	} else if info != nil {
		pl.Country, pl.City = info["country"], info["city"]
		if as := info["asn"]; as != "" {
			pl.ASN = "AS" + as
		}
	}
	if !pl.Located && pl.Country != "" {
		if c, ok := lookupCountry(pl.Country); ok {
			pl.Pos, pl.Located = c.Pos, true
			if pl.CountryName == "" {
				pl.CountryName = c.Name
			}
		}
	}
	return pl
}

// flag returns the emoji flag of an ISO 3166-1 alpha-2 code (two regional
// indicator symbols), or "" for anything else.
func flag(code string) string {
	if len(code) != 2 {
		return ""
	}
	var b []rune
	for i := range 2 {
		c := code[i]
		if c < 'A' || c > 'Z' {
			return ""
		}
		b = append(b, rune(0x1F1E6+int(c-'A')))
	}
	return string(b)
}

// topBy returns (a copy of) the n rows with the most bytes, most first,
// equal ones in their order: the rows' indices are sorted, not the rows,
// which for tens of thousands of conversations is several times faster.
func topBy[T any](rows []T, n int, bytes func(T) uint64) []T {
	idx := make([]int32, len(rows))
	keys := make([]uint64, len(rows))
	for i := range rows {
		idx[i], keys[i] = int32(i), bytes(rows[i])
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(keys[b], keys[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out := make([]T, min(n, len(rows)))
	for i := range out {
		out[i] = rows[idx[i]]
	}
	return out
}
