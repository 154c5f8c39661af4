package report

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"sonde/analyze"
)

// page is what the template renders.
type page struct {
	Title, Capture string
	CSP            string
	Summary        summaryView
	IO             *ioView // nil without packets
	PHS            []phsRow
	PHSMore        int
	PHSHeight      int
	IPConvs        convTable
	L4Convs        convTable
	Endpoints      []endpointRow
	EndpointsMore  int
	Countries      []countryRow
	NotLookedUp    int
	Map            mapView
	DNS            []dnsRow
	DNSMore        int
	HTTP           []httpRow
	HTTPMore       int
	TLS            []tlsRow
	TLSMore        int
	Dropped        uint64
	Trace          *traceView
	Scan           []hostView
	ScanGiven      bool
	ScanPhases     []string
	Geo            bool
}

type summaryView struct {
	Start, Duration     string
	Packets, Bytes      uint64
	BytesText           string
	Rate                string
	Endpoints           int
	IPConversations     int
	TCPUDPConversations int
	TopProtocols        []protoShare
}

type protoShare struct {
	Name          string
	Frames, Bytes uint64
	Pct           string
	Color         string
}

type phsRow struct {
	Name, Path    string
	Depth         int
	Frames, Bytes uint64
	Pct           string
	Y, LabelX     float64
	BarW          float64
}

type convTable struct {
	ID   string // of the table element
	Rows []convRow
	More int
}

type convRow struct {
	Proto                   string
	A, B                    string
	PortA, PortB            string
	FramesAB, FramesBA      uint64
	BytesAB, BytesBA        uint64
	Frames, Bytes           uint64
	Start, Duration         string
	StartSort, DurationSort int64
	CountryA, CountryB      string
	FlagA, FlagB            string
}

type endpointRow struct {
	Addr                                  string
	Frames, Bytes                         uint64
	TxFrames, TxBytes, RxFrames, RxBytes  uint64
	Country, CountryName, Flag, City, ASN string
}

type countryRow struct {
	Code, Name, Flag string
	Endpoints        int
	Bytes            uint64
}

type dnsRow struct {
	Name, Type, RCode, Answers string
	Queries, Responses         uint64
}

type httpRow struct {
	Method, Host, Path, Status string
	Requests                   uint64
}

type tlsRow struct {
	ServerName, ALPN string
	Count            uint64
}

type traceView struct {
	Dst, Src, Method string
	Reached          bool
	Sent, Retried    int
	Rows             []hopRow
}

type hopRow struct {
	TTL                                   int
	Addr, Name                            string
	Country, CountryName, Flag, City, ASN string
	RTTs                                  string
	MinRTT                                float64 // -1: none
	Loss                                  string
	LossSort                              int
}

type hostView struct {
	Addr                             string
	Country, CountryName, Flag, City string
	State                            string // from discovery, if it ran
	Ports                            []portRow
	More                             int
	Hidden                           string // "65528 closed, 2 filtered"
}

type portRow struct {
	Port                                   uint16
	Proto, State, Reason, Service, Version string
}

// build computes the page from the analysis and the Config's inputs.
func (r *Report) build() *page {
	a := r.a
	top := r.cfg.top()
	p := &page{Title: r.cfg.Title, Capture: r.cfg.Capture, CSP: csp(), Geo: r.cfg.Geo != nil}
	if p.Title == "" {
		p.Title = "sonde report"
	}
	protos := a.IOProtocols()
	p.Summary = r.summary(protos)
	if a.Packets() > 0 {
		p.IO = ioChart(a.IO(), protos)
	}
	p.PHS, p.PHSMore = phsRows(a.Hierarchy(), a.Packets())
	p.PHSHeight = phsTop + len(p.PHS)*phsRowH + 4

	p.IPConvs = convRows(top, a.Conversations(analyze.IPv4), a.Conversations(analyze.IPv6))
	p.L4Convs = convRows(top, a.Conversations(analyze.TCP), a.Conversations(analyze.UDP))
	p.IPConvs.ID, p.L4Convs.ID = "ip-conversations", "l4-conversations"

	all := append(a.Endpoints(analyze.IPv4), a.Endpoints(analyze.IPv6)...)
	// The busiest endpoints are looked up, tabled and drawn; the rest only
	// counted.
	eps := topBy(all, maxLocated, analyze.Endpoint.Bytes)
	places := make([]place, len(eps))
	countries := map[string]*countryRow{}
	for i := range places {
		places[i] = r.locate(eps[i].Addr.IP, nil)
		if c := places[i].Country; c != "" {
			cr := countries[c]
			if cr == nil {
				cr = &countryRow{Code: c, Name: places[i].CountryName, Flag: flag(c)}
				countries[c] = cr
			}
			cr.Endpoints++
			cr.Bytes += eps[i].Bytes()
		}
	}
	p.NotLookedUp = len(all) - len(eps)
	for _, c := range countries {
		p.Countries = append(p.Countries, *c)
	}
	slices.SortFunc(p.Countries, func(x, y countryRow) int {
		if c := cmp.Compare(y.Bytes, x.Bytes); c != 0 {
			return c
		}
		return strings.Compare(x.Code, y.Code)
	})
	for i, e := range eps[:min(top, len(eps))] {
		row := endpointRow{Addr: e.Addr.String(), Frames: e.Frames(), Bytes: e.Bytes(), TxFrames: e.TxFrames, TxBytes: e.TxBytes, RxFrames: e.RxFrames, RxBytes: e.RxBytes}
		pl := places[i]
		row.Country, row.CountryName, row.Flag, row.City, row.ASN = pl.Country, pl.CountryName, flag(pl.Country), pl.City, pl.ASN
		p.Endpoints = append(p.Endpoints, row)
	}
	p.EndpointsMore = len(all) - len(p.Endpoints)
	// Countries of the conversations' addresses, from the same lookups.
	where := map[string]string{}
	for i := range places {
		where[eps[i].Addr.String()] = places[i].Country
	}
	for _, t := range []*convTable{&p.IPConvs, &p.L4Convs} {
		for i := range t.Rows {
			row := &t.Rows[i]
			row.CountryA, row.CountryB = where[row.A], where[row.B]
			row.FlagA, row.FlagB = flag(row.CountryA), flag(row.CountryB)
		}
	}

	p.Map = r.worldMap(eps, places, countries, top)
	p.DNS, p.DNSMore = dnsRows(a.DNS(), top)
	p.HTTP, p.HTTPMore = httpRows(a.HTTP(), top)
	p.TLS, p.TLSMore = tlsRows(a.TLS(), top)
	p.Dropped = a.Dropped()
	if r.cfg.Trace != nil {
		p.Trace = r.traceRows(r.cfg.Trace)
		r.tracePath(&p.Map, r.cfg.Trace)
	}
	if r.cfg.Scan != nil {
		p.ScanGiven = true
		p.Scan = r.scanHosts(r.cfg.Scan.Results)
		for _, ph := range r.cfg.Scan.Phases {
			p.ScanPhases = append(p.ScanPhases, phaseText(ph))
		}
	}
	p.Summary.Endpoints = len(all)
	p.Summary.IPConversations = len(p.IPConvs.Rows) + p.IPConvs.More
	p.Summary.TCPUDPConversations = len(p.L4Convs.Rows) + p.L4Convs.More
	return p
}

func (r *Report) summary(protos []analyze.ProtocolIO) summaryView {
	a := r.a
	s := summaryView{Packets: a.Packets(), Bytes: a.Bytes(), BytesText: humanBytes(a.Bytes()), Duration: fmtDuration(a.Duration())}
	if a.Packets() > 0 {
		s.Start = a.First().UTC().Format("2006-01-02 15:04:05.000 UTC")
		if d := a.Duration().Seconds(); d > 0 {
			s.Rate = fmt.Sprintf("%.1f packets/s, %s/s", float64(a.Packets())/d, humanBytes(uint64(float64(a.Bytes())/d)))
		}
	}
	for i, pr := range protos {
		if i == 5 {
			break
		}
		s.TopProtocols = append(s.TopProtocols, protoShare{Name: pr.Name, Frames: pr.Frames, Bytes: pr.Bytes,
			Pct: pct(pr.Bytes, a.Bytes()), Color: palette[i%len(palette)]})
	}
	return s
}

func convRows(top int, tables ...[]analyze.Conversation) convTable {
	var all []analyze.Conversation
	for _, t := range tables {
		all = append(all, t...)
	}
	var t convTable
	for _, c := range topBy(all, top, analyze.Conversation.Bytes) {
		row := convRow{Proto: c.Kind.String(), A: c.A.String(), B: c.B.String(),
			FramesAB: c.FramesAB, FramesBA: c.FramesBA, BytesAB: c.BytesAB, BytesBA: c.BytesBA,
			Frames: c.Frames(), Bytes: c.Bytes(),
			Start: fmtSeconds(c.Start), Duration: fmtSeconds(c.Duration), StartSort: int64(c.Start), DurationSort: int64(c.Duration)}
		if c.Kind == analyze.TCP || c.Kind == analyze.UDP {
			row.PortA, row.PortB = strconv.Itoa(int(c.PortA)), strconv.Itoa(int(c.PortB))
		}
		t.Rows = append(t.Rows, row)
	}
	t.More = len(all) - len(t.Rows)
	return t
}

// Protocol hierarchy bars.
const (
	phsTop    = 8
	phsRowH   = 18
	phsLabelW = 220
	phsBarW   = 520
)

func phsRows(nodes []*analyze.ProtocolNode, total uint64) ([]phsRow, int) {
	var rows []phsRow
	more := 0
	var walk func(ns []*analyze.ProtocolNode, depth int, prefix string)
	walk = func(ns []*analyze.ProtocolNode, depth int, prefix string) {
		for _, n := range ns {
			path := n.Name
			if prefix != "" {
				path = prefix + ":" + n.Name
			}
			if len(rows) == maxPHSRows {
				more++
			} else {
				w := 0.0
				if total > 0 {
					w = float64(n.Frames) / float64(total) * phsBarW
				}
				rows = append(rows, phsRow{Name: n.Name, Path: path, Depth: depth, Frames: n.Frames, Bytes: n.Bytes,
					Pct: pct(n.Frames, total), Y: float64(phsTop + len(rows)*phsRowH), LabelX: float64(4 + 14*depth), BarW: round1(max(w, 1))})
			}
			walk(n.Children, depth+1, path)
		}
	}
	walk(nodes, 0, "")
	return rows, more
}

func dnsRows(qs []analyze.DNSQuestion, top int) ([]dnsRow, int) {
	var out []dnsRow
	for _, q := range qs[:min(top, len(qs))] {
		out = append(out, dnsRow{Name: q.Name, Type: q.Type, RCode: q.RCode, Answers: strings.Join(q.Answers, ", "), Queries: q.Queries, Responses: q.Responses})
	}
	return out, len(qs) - len(out)
}

func httpRows(rs []analyze.HTTPRequest, top int) ([]httpRow, int) {
	var out []httpRow
	for _, q := range rs[:min(top, len(rs))] {
		codes := make([]int, 0, len(q.Status))
		for c := range q.Status {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		var st []string
		for _, c := range codes {
			st = append(st, fmt.Sprintf("%d×%d", c, q.Status[c]))
		}
		out = append(out, httpRow{Method: q.Method, Host: q.Host, Path: q.Path, Requests: q.Requests, Status: strings.Join(st, " ")})
	}
	return out, len(rs) - len(out)
}

func tlsRows(hs []analyze.TLSHello, top int) ([]tlsRow, int) {
	var out []tlsRow
	for _, h := range hs[:min(top, len(hs))] {
		out = append(out, tlsRow{ServerName: h.ServerName, ALPN: strings.Join(h.ALPN, ", "), Count: h.Count})
	}
	return out, len(hs) - len(out)
}

func (r *Report) traceRows(t *Trace) *traceView {
	v := &traceView{Dst: t.Dst.String(), Method: t.Method, Reached: t.Reached, Sent: t.Sent, Retried: t.Retried}
	if t.Src.IsValid() {
		v.Src = t.Src.String()
	}
	for _, h := range t.Hops {
		row := hopRow{TTL: h.TTL, MinRTT: -1}
		var rtts []string
		lost := 0
		for _, pr := range h.Probes {
			if !pr.Answered() {
				rtts = append(rtts, "*")
				lost++
				continue
			}
			rtts = append(rtts, strconv.FormatFloat(pr.RTTms, 'f', 3, 64))
			if row.MinRTT < 0 || pr.RTTms < row.MinRTT {
				row.MinRTT = pr.RTTms
			}
		}
		row.RTTs = strings.Join(rtts, "  ")
		switch {
		case t.Rounds > 0:
			row.LossSort = int(math.Round(h.LossPct))
			row.Loss = strconv.FormatFloat(h.LossPct, 'f', 1, 64) + "%"
			row.RTTs = "best of " + strconv.Itoa(t.Rounds) + " rounds"
		case len(h.Probes) > 0:
			row.LossSort = 100 * lost / len(h.Probes)
			row.Loss = strconv.Itoa(row.LossSort) + "%"
		}
		if addr, info, ok := h.answer(); ok {
			row.Addr, row.Name = addr.String(), info["name"]
			pl := r.locate(addr, info)
			row.Country, row.CountryName, row.Flag, row.City, row.ASN = pl.Country, pl.CountryName, flag(pl.Country), pl.City, pl.ASN
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// scanHosts groups the scan's results by host: the ports in an
// interesting state listed, the closed and filtered ones counted.
// hiddenStates are the port states a host's table counts instead of
// listing, in the order its summary names them (as nmap's "Not shown").
var hiddenStates = [...]string{"closed", "filtered", "unfiltered", "closed|filtered"}

func (r *Report) scanHosts(res []ScanResult) []hostView {
	type acc struct {
		v      hostView
		hidden map[string]int
	}
	hosts := map[netip.Addr]*acc{}
	var order []netip.Addr
	for _, s := range res {
		k := s.Addr
		h := hosts[k]
		if h == nil {
			h = &acc{v: hostView{Addr: s.Addr.String()}, hidden: map[string]int{}}
			pl := r.locate(s.Addr, nil)
			h.v.Country, h.v.CountryName, h.v.Flag, h.v.City = pl.Country, pl.CountryName, flag(pl.Country), pl.City
			hosts[k] = h
			order = append(order, k)
		}
		if s.Type == "host" {
			h.v.State = s.State
			continue
		}
		if slices.Contains(hiddenStates[:], s.State) {
			h.hidden[s.State]++
			continue
		}
		if len(h.v.Ports) == maxScanRows {
			h.v.More++
			continue
		}
		ver := strings.TrimSpace(strings.Join([]string{s.Product, s.Version, s.Info}, " "))
		h.v.Ports = append(h.v.Ports, portRow{Port: s.Port, Proto: s.Proto, State: s.State, Reason: s.Reason, Service: s.Service, Version: ver})
	}
	slices.SortFunc(order, netip.Addr.Compare)
	var out []hostView
	for _, k := range order {
		h := hosts[k]
		slices.SortStableFunc(h.v.Ports, func(a, b portRow) int {
			if c := strings.Compare(a.Proto, b.Proto); c != 0 {
				return c
			}
			return cmp.Compare(a.Port, b.Port)
		})
		var parts []string
		for _, st := range hiddenStates {
			if n := h.hidden[st]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, st))
			}
		}
		h.v.Hidden = strings.Join(parts, ", ")
		out = append(out, h.v)
	}
	return out
}

// Number formats.

func humanBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + "kMGTP"[i:i+1] + "B"
}

func humanCount(v float64) string {
	switch {
	case v >= 1e9:
		return trimZero(strconv.FormatFloat(v/1e9, 'f', 1, 64)) + "G"
	case v >= 1e6:
		return trimZero(strconv.FormatFloat(v/1e6, 'f', 1, 64)) + "M"
	case v >= 1e3:
		return trimZero(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	}
	return trimZero(strconv.FormatFloat(v, 'f', 1, 64))
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

func pct(part, whole uint64) string {
	if whole == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

func fmtSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// phaseText describes one phase of a scan: its probes and states.
func phaseText(ph ScanPhase) string {
	states := make([]string, 0, len(ph.States))
	for st := range ph.States {
		states = append(states, st)
	}
	slices.SortFunc(states, func(a, b string) int {
		if c := cmp.Compare(ph.States[b], ph.States[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for i, st := range states {
		states[i] = strconv.Itoa(ph.States[st]) + " " + st
	}
	return fmt.Sprintf("%s scan: %d probes, %d sent (%d retries), %d answered, coverage %.1f%%: %s",
		ph.Scan, ph.Probes, ph.Sent, ph.Retried, ph.Answered, 100*ph.Coverage, strings.Join(states, ", "))
}
