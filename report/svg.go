package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"sonde/analyze"
	"sonde/report/worldmap"
)

// palette colours the protocols of the IO graph and the summary, in order
// (Okabe–Ito's colour-blind-safe set, then greys).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999"}

// mapPoint is a position on the world map, in its viewBox units.
type mapPoint struct{ X, Y float64 }

func project(lat, lon float64) mapPoint {
	p := worldmap.Project(lat, lon)
	return mapPoint{round1(p.X), round1(p.Y)}
}

type countryInfo struct {
	Name string
	Pos  mapPoint
}

func lookupCountry(code string) (countryInfo, bool) {
	c, ok := worldmap.Lookup(code)
	if !ok {
		return countryInfo{}, false
	}
	return countryInfo{c.Name, mapPoint{round1(c.Centroid.X), round1(c.Centroid.Y)}}, true
}

// mapView is the world map: every country, filled when it has endpoints,
// a marker per located endpoint and the trace's hops.
type mapView struct {
	ViewBox     string
	Sphere      string // the globe's outline, filled as the ocean
	Countries   []mapCountry
	Markers     []marker
	MarkersMore int
	Located     int // endpoints placed on the map (markers and more)
	Hops        []hopMarker
	TracePath   string // polyline points through the source and the hops
	Src         *marker
	HasTrace    bool
	FilledCount int
}

type mapCountry struct {
	Code, Name, Path, Class, Title string
}

type marker struct {
	X, Y, R       float64
	Country, Addr string
	Title         string
}

type hopMarker struct {
	TTL   int
	X, Y  float64
	Addr  string
	Title string
}

func (r *Report) worldMap(eps []analyze.Endpoint, places []place, countries map[string]*countryRow, top int) mapView {
	m := mapView{ViewBox: "0 0 " + strconv.Itoa(worldmap.Width) + " " + strconv.Itoa(worldmap.Height), Sphere: worldmap.Sphere()}
	for _, c := range worldmap.Countries() {
		mc := mapCountry{Code: c.Code, Name: c.Name, Path: c.Path, Class: "country", Title: c.Name + " (" + c.Code + ")"}
		if cr := countries[c.Code]; cr != nil {
			mc.Class = "country active"
			mc.Title += ": " + strconv.Itoa(cr.Endpoints) + " endpoints, " + humanBytes(cr.Bytes)
			m.FilledCount++
		}
		m.Countries = append(m.Countries, mc)
	}
	var maxBytes uint64
	for i := range places {
		if places[i].Located {
			maxBytes = max(maxBytes, eps[i].Bytes())
		}
	}
	// Endpoints at one place (a city, a country's centre) are spread on a
	// spiral around it, so that each stays visible.
	seen := map[mapPoint]int{}
	for i := range places {
		pl := places[i]
		if !pl.Located {
			continue
		}
		m.Located++
		if len(m.Markers) == top {
			m.MarkersMore++
			continue
		}
		k := seen[pl.Pos]
		seen[pl.Pos] = k + 1
		x, y := pl.Pos.X, pl.Pos.Y
		if k > 0 {
			rad, ang := 3.5*math.Sqrt(float64(k)), float64(k)*2.39996
			x, y = x+rad*math.Cos(ang), y+rad*math.Sin(ang)
		}
		e := eps[i]
		title := e.Addr.String() + " — " + strings.TrimSpace(pl.Country+" "+pl.City) + ", " + humanBytes(e.Bytes()) + " in " + strconv.FormatUint(e.Frames(), 10) + " packets"
		m.Markers = append(m.Markers, marker{X: round1(x), Y: round1(y), R: round1(2 + 8*math.Sqrt(float64(e.Bytes())/float64(max(maxBytes, 1)))),
			Country: pl.Country, Addr: e.Addr.String(), Title: title})
	}
	return m
}

// tracePath puts the trace's located hops on the map, in order, with the
// line that joins them (from the source, when it is located).
func (r *Report) tracePath(m *mapView, t *Trace) {
	m.HasTrace = true
	var pts []string
	if t.Src.IsValid() {
		if pl := r.locate(t.Src, nil); pl.Located {
			m.Src = &marker{X: pl.Pos.X, Y: pl.Pos.Y, R: 4, Country: pl.Country, Addr: t.Src.String(),
				Title: "source " + t.Src.String() + " — " + strings.TrimSpace(pl.Country+" "+pl.City)}
			pts = append(pts, fmtPoint(pl.Pos.X, pl.Pos.Y))
		}
	}
	for _, h := range t.Hops {
		addr, info, ok := h.answer()
		if !ok {
			continue
		}
		pl := r.locate(addr, info)
		if !pl.Located {
			continue
		}
		m.Hops = append(m.Hops, hopMarker{TTL: h.TTL, X: pl.Pos.X, Y: pl.Pos.Y, Addr: addr.String(),
			Title: "hop " + strconv.Itoa(h.TTL) + ": " + addr.String() + " — " + strings.TrimSpace(pl.Country+" "+pl.City)})
		pts = append(pts, fmtPoint(pl.Pos.X, pl.Pos.Y))
	}
	m.TracePath = strings.Join(pts, " ")
}

func fmtPoint(x, y float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64) + "," + strconv.FormatFloat(y, 'f', -1, 64)
}

// The IO graph: two charts (packets, bytes) of one step line per protocol.
const (
	ioW, ioH     = 960, 240
	ioLeft       = 64
	ioRight      = 16
	ioTop        = 12
	ioBottom     = 34
	ioPlotW      = ioW - ioLeft - ioRight
	ioPlotH      = ioH - ioTop - ioBottom
	ioYTicks     = 4
	ioXTickCount = 8
)

type ioView struct {
	Interval string
	N        int // intervals
	Legend   []protoShare
	Charts   []chartView
}

type chartView struct {
	Title, Metric string
	W, H          int
	X0, Y0        int // plot's bottom-left corner
	X1, Y1        int // top-right
	TickY         int // lower end of the x axis' ticks
	PlotH         int
	Series        []seriesView
	Columns       []column // one per interval with packets, for its tooltip
	XTicks        []tick
	YTicks        []tick
}

type seriesView struct {
	Name, Color, Points, Title string
}

// column is the hover area of one interval: its tooltip lists the
// protocols' counts in it.
type column struct {
	X, W  float64
	Title string
}

type tick struct {
	Pos   float64
	Label string
}

func ioChart(rows []analyze.Interval, protos []analyze.ProtocolIO) *ioView {
	n := len(rows)
	if n == 0 {
		return nil
	}
	width := rows[0].End - rows[0].Start
	if n > 1 {
		width = rows[1].Start - rows[0].Start
	}
	if width <= 0 {
		width = time.Millisecond
	}
	v := &ioView{Interval: fmtDuration(width), N: n}
	// The protocols plotted: the busiest, the rest summed as "other".
	type series struct {
		name          string
		frames, bytes []uint64
		fsum, bsum    uint64
	}
	var ss []series
	for i, p := range protos {
		if i >= maxSeries-1 && len(protos) > maxSeries {
			if i == maxSeries-1 {
				ss = append(ss, series{name: "other", frames: make([]uint64, n), bytes: make([]uint64, n)})
			}
			o := &ss[len(ss)-1]
			for j, iv := range p.Intervals[:min(n, len(p.Intervals))] {
				o.frames[j] += iv.Frames
				o.bytes[j] += iv.Bytes
			}
			o.fsum += p.Frames
			o.bsum += p.Bytes
			continue
		}
		s := series{name: p.Name, frames: make([]uint64, n), bytes: make([]uint64, n), fsum: p.Frames, bsum: p.Bytes}
		for j, iv := range p.Intervals[:min(n, len(p.Intervals))] {
			s.frames[j], s.bytes[j] = iv.Frames, iv.Bytes
		}
		ss = append(ss, s)
	}
	var totalB uint64
	for _, s := range ss {
		totalB += s.bsum
	}
	for i, s := range ss {
		v.Legend = append(v.Legend, protoShare{Name: s.name, Frames: s.fsum, Bytes: s.bsum, Pct: pct(s.bsum, totalB), Color: palette[i%len(palette)]})
	}
	span := time.Duration(n) * width
	xTicks := timeTicks(span)
	for _, metric := range []string{"packets", "bytes"} {
		c := chartView{Metric: metric, W: ioW, H: ioH, X0: ioLeft, Y0: ioTop + ioPlotH, X1: ioLeft + ioPlotW, Y1: ioTop, TickY: ioTop + ioPlotH + 5, PlotH: ioPlotH}
		c.Title = "Packets per " + v.Interval
		if metric == "bytes" {
			c.Title = "Bytes per " + v.Interval
		}
		var peak uint64
		for _, s := range ss {
			vals := s.frames
			if metric == "bytes" {
				vals = s.bytes
			}
			for _, x := range vals {
				peak = max(peak, x)
			}
		}
		top, step := niceScale(float64(peak), ioYTicks)
		y := func(val uint64) float64 { return round1(float64(ioTop+ioPlotH) - float64(val)/top*ioPlotH) }
		x := func(i int) float64 { return round1(ioLeft + float64(i)/float64(n)*ioPlotW) }
		for t := 0.0; t <= top+step/2; t += step {
			c.YTicks = append(c.YTicks, tick{Pos: round1(float64(ioTop+ioPlotH) - t/top*ioPlotH), Label: humanCount(t)})
		}
		for _, t := range xTicks {
			c.XTicks = append(c.XTicks, tick{Pos: round1(ioLeft + float64(t.d)/float64(span)*ioPlotW), Label: t.label})
		}
		for i, s := range ss {
			vals, sum := s.frames, s.fsum
			if metric == "bytes" {
				vals, sum = s.bytes, s.bsum
			}
			var b strings.Builder
			for j, val := range vals {
				if j > 0 {
					b.WriteByte(' ')
				}
				yy := strconv.FormatFloat(y(val), 'f', -1, 64)
				b.WriteString(strconv.FormatFloat(x(j), 'f', -1, 64) + "," + yy + " " + strconv.FormatFloat(x(j+1), 'f', -1, 64) + "," + yy)
			}
			title := s.name + ": " + strconv.FormatUint(sum, 10) + " " + metric
			c.Series = append(c.Series, seriesView{Name: s.name, Color: palette[i%len(palette)], Points: b.String(), Title: title})
		}
		for j := range n {
			var total uint64
			var parts []string
			for _, s := range ss {
				val := s.frames[j]
				if metric == "bytes" {
					val = s.bytes[j]
				}
				if val > 0 {
					total += val
					parts = append(parts, s.name+" "+strconv.FormatUint(val, 10))
				}
			}
			if total == 0 {
				continue
			}
			from, to := time.Duration(j)*width, time.Duration(j+1)*width
			c.Columns = append(c.Columns, column{X: x(j), W: round1(x(j+1) - x(j)),
				Title: fmtSecs(from) + "–" + fmtSecs(to) + " s: " + strconv.FormatUint(total, 10) + " " + metric + " (" + strings.Join(parts, ", ") + ")"})
		}
		v.Charts = append(v.Charts, c)
	}
	return v
}

// niceScale returns an axis top at or above peak and a step dividing it
// into about n ticks, both round numbers (1, 2, 2.5 or 5 times a power of
// ten).
func niceScale(peak float64, n int) (top, step float64) {
	if peak <= 0 {
		return 1, 1
	}
	raw := peak / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	if step < 1 {
		step = math.Max(step, 1) // counts are whole
	}
	top = math.Ceil(peak/step) * step
	return top, step
}

type timeTick struct {
	d     time.Duration
	label string
}

// timeTicks divides span into about ioXTickCount round steps, labelled in
// seconds from the capture's start.
func timeTicks(span time.Duration) []timeTick {
	if span <= 0 {
		return nil
	}
	raw := span / ioXTickCount
	step := time.Microsecond
	for step < raw {
		switch {
		case strconv.Itoa(int(step / time.Microsecond))[0] == '2':
			step = step / 2 * 5
		default:
			step *= 2
		}
	}
	dec := 0
	for u := time.Second; u > step && dec < 6; u /= 10 {
		dec++
	}
	var out []timeTick
	for d := time.Duration(0); d <= span; d += step {
		out = append(out, timeTick{d, strconv.FormatFloat(d.Seconds(), 'f', dec, 64) + "s"})
	}
	return out
}

// fmtSecs writes d in seconds with no more decimals than it needs (up to
// microseconds).
func fmtSecs(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Microsecond).Seconds(), 'f', -1, 64)
}
