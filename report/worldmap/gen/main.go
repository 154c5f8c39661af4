// Command gen writes countries_gen.go, the table of package worldmap, from
// the TopoJSON world map of the npm package world-atlas and the ISO 3166-1
// codes and English names of the npm package i18n-iso-countries (both
// copied into testdata/, see ../README.md). go generate runs it in the
// package directory:
//
//	go run ./gen -o countries_gen.go
//
// It decodes the topology (delta-encoded quantized arcs, polygons and
// multipolygons of arc indices, ~i for arc i reversed), with -simplify
// simplifies the shared arcs in projected units (so that neighbours keep
// one border), cuts the rings that cross the antimeridian and closes the ring
// that surrounds the South Pole along the pole line, projects with
// worldmap.Project, rounds to 0.1 unit, and writes compact relative SVG
// path data.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"sonde/report/worldmap"
)

func main() {
	topoPath := flag.String("topo", "gen/testdata/countries-110m.json", "TopoJSON `file` of world-atlas")
	codesPath := flag.String("codes", "gen/testdata/codes.json", "codes.json `file` of i18n-iso-countries")
	namesPath := flag.String("names", "gen/testdata/iso-en.json", "langs/en.json `file` of i18n-iso-countries")
	out := flag.String("o", "countries_gen.go", "output `file`")
	tolerance := flag.Float64("simplify", defaultSimplify, "drop arc points whose Visvalingam triangle is under this `area` in square units")
	flag.Parse()
	if err := run(*topoPath, *codesPath, *namesPath, *out, *tolerance); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// defaultSimplify is 0: the 1:110m map is small enough as it is (71 KB of
// path data); -simplify helps with the finer maps of world-atlas.
const defaultSimplify = 0

// unnumbered gives a code to the Natural Earth features without an ISO
// 3166-1 numeric id. Kosovo gets the user-assigned XK that the European
// Commission, SWIFT and MaxMind use; Northern Cyprus and Somaliland are,
// for ISO 3166 and for IP geolocation databases, parts of Cyprus and
// Somalia, and are drawn with them.
var unnumbered = map[string]string{
	"Kosovo":     "XK",
	"N. Cyprus":  "CY",
	"Somaliland": "SO",
}

// names overrides the Natural Earth name where it is abbreviated or out of
// date; the others keep Natural Earth's short English names ("Russia",
// "Iran", "Tanzania"), shorter than ISO's formal ones.
var names = map[string]string{
	"XK": "Kosovo",
	"SZ": "Eswatini",        // Natural Earth: "eSwatini"
	"MK": "North Macedonia", // renamed in 2019
	"CG": "Republic of the Congo",
	"CD": "DR Congo",
	"FK": "Falkland Islands",
}

type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]float64 `json:"arcs"`
	Objects map[string]struct {
		Geometries []struct {
			Type       string          `json:"type"`
			ID         string          `json:"id"`
			Arcs       json.RawMessage `json:"arcs"`
			Properties struct {
				Name string `json:"name"`
			} `json:"properties"`
		} `json:"geometries"`
	} `json:"objects"`
}

// ll is a longitude and latitude in degrees.
type ll struct{ lon, lat float64 }

// country gathers the polygons of one code.
type country struct {
	code, name string
	polys      []polygon // in tenths of a unit
}

// polygon is an outer ring and its holes, each closed implicitly.
type polygon [][]ipt

type ipt struct{ x, y int } // tenths of a unit

func run(topoPath, codesPath, namesPath, out string, tolerance float64) error {
	var topo topology
	if err := readJSON(topoPath, &topo); err != nil {
		return err
	}
	numeric, err := readCodes(codesPath)
	if err != nil {
		return err
	}
	isoNames, err := readNames(namesPath)
	if err != nil {
		return err
	}
	arcs := simplifyArcs(decodeArcs(&topo), tolerance)

	byCode := map[string]*country{}
	obj, ok := topo.Objects["countries"]
	if !ok {
		return fmt.Errorf("%s: no object countries", topoPath)
	}
	for _, g := range obj.Geometries {
		name := g.Properties.Name
		code, ok := numeric[g.ID]
		if g.ID == "" {
			code, ok = unnumbered[name]
		}
		if !ok {
			return fmt.Errorf("feature %q (id %q) has no alpha-2 code", name, g.ID)
		}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		default:
			return fmt.Errorf("%s: geometry type %q", name, g.Type)
		}
		c := byCode[code]
		if c == nil {
			c = &country{code: code, name: name}
			if n, ok := names[code]; ok {
				c.name = n
			} else if strings.Contains(name, ".") {
				c.name = isoNames[code]
			}
			byCode[code] = c
		} else if g.ID != "" {
			// The numbered feature names the country (Cyprus, not N. Cyprus).
			c.name = name
		}
		for _, p := range polys {
			c.polys = append(c.polys, buildPolygon(arcs, p)...)
		}
	}
	var list []*country
	for _, c := range byCode {
		if c.name == "" || strings.Contains(c.name, ".") {
			return fmt.Errorf("%s: no clean name (%q)", c.code, c.name)
		}
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b *country) int { return strings.Compare(a.code, b.code) })

	var b bytes.Buffer
	b.WriteString("// Code generated by gen/main.go from world-atlas 2.0.2 and i18n-iso-countries 7.14.0; DO NOT EDIT.\n\n")
	b.WriteString("package worldmap\n\n")
	b.WriteString("// countries is the map, sorted by Code. It is static data: the linker\n// lays it out, and no code runs at start-up to build it.\n")
	b.WriteString("var countries = [...]Country{\n")
	total := 0
	for _, c := range list {
		path := pathData(c.polys)
		total += len(path)
		ctr := interiorPoint(largest(c.polys))
		fmt.Fprintf(&b, "\t{Code: %q, Name: %q, Centroid: Point{%s, %s},\n\t\tPath: %q},\n",
			c.code, c.name, tenths(ctr.x), tenths(ctr.y), path)
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "// sphere is the outline of the globe.\nconst sphere = %q\n", pathData([]polygon{{sphereRing()}}))
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("format: %w", err)
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %d countries, %d bytes of path data\n", len(list), total)
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readCodes maps ISO 3166-1 numeric codes ("250") to alpha-2 ("FR") from
// rows [alpha2, alpha3, numeric, ...].
func readCodes(path string) (map[string]string, error) {
	var rows [][]string
	if err := readJSON(path, &rows); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, r := range rows {
		if len(r) < 3 || len(r[0]) != 2 {
			return nil, fmt.Errorf("%s: bad row %q", path, r)
		}
		m[r[2]] = r[0]
	}
	return m, nil
}

// readNames reads the English names, taking the first of a list.
func readNames(path string) (map[string]string, error) {
	var f struct {
		Countries map[string]json.RawMessage `json:"countries"`
	}
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for code, raw := range f.Countries {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			var l []string
			if err := json.Unmarshal(raw, &l); err != nil || len(l) == 0 {
				return nil, fmt.Errorf("%s: name of %s: %s", path, code, raw)
			}
			s = l[0]
		}
		m[code] = s
	}
	return m, nil
}

// decodeArcs undoes the delta encoding and the quantization of the arcs.
func decodeArcs(t *topology) [][]ll {
	sx, sy := t.Transform.Scale[0], t.Transform.Scale[1]
	tx, ty := t.Transform.Translate[0], t.Transform.Translate[1]
	arcs := make([][]ll, len(t.Arcs))
	for i, a := range t.Arcs {
		var x, y float64
		pts := make([]ll, len(a))
		for j, d := range a {
			x += d[0]
			y += d[1]
			pts[j] = ll{x*sx + tx, y*sy + ty}
		}
		arcs[i] = pts
	}
	return arcs
}

// simplifyArcs drops, arc by arc, the interior points whose Visvalingam
// triangle (with its remaining neighbours, in projected units) is smaller
// than tolerance. Arcs are shared by neighbouring countries, so a border
// stays one line. Points next to an antimeridian jump stay.
func simplifyArcs(arcs [][]ll, tolerance float64) [][]ll {
	out := make([][]ll, len(arcs))
	for i, a := range arcs {
		pts := slices.Clone(a)
		for {
			best, bestArea := -1, tolerance
			for j := 1; j+1 < len(pts); j++ {
				if math.Abs(pts[j].lon-pts[j-1].lon) > 180 || math.Abs(pts[j+1].lon-pts[j].lon) > 180 {
					continue
				}
				p, q, r := proj(pts[j-1]), proj(pts[j]), proj(pts[j+1])
				area := math.Abs((q.X-p.X)*(r.Y-p.Y)-(r.X-p.X)*(q.Y-p.Y)) / 2
				if area < bestArea {
					best, bestArea = j, area
				}
			}
			// Keep at least four points in a closed arc (an island).
			if best < 0 || (len(pts) <= 4 && pts[0] == pts[len(pts)-1]) {
				break
			}
			pts = slices.Delete(pts, best, best+1)
		}
		out[i] = pts
	}
	return out
}

func proj(p ll) worldmap.Point { return worldmap.Project(p.lat, p.lon) }

// ring joins the arcs of a ring; ~i is arc i reversed, and each arc after
// the first starts where the previous one ended.
func ring(arcs [][]ll, idx []int) []ll {
	var pts []ll
	for k, i := range idx {
		var a []ll
		if i < 0 {
			a = slices.Clone(arcs[^i])
			slices.Reverse(a)
		} else {
			a = arcs[i]
		}
		if k > 0 {
			a = a[1:]
		}
		pts = append(pts, a...)
	}
	return pts
}

// buildPolygon makes the planar polygons of one TopoJSON polygon: its outer
// ring cut at the antimeridian may give several.
func buildPolygon(arcs [][]ll, rings [][]int) []polygon {
	var outers [][]ipt
	var holes [][]ipt
	for k, r := range rings {
		for _, piece := range planar(ring(arcs, r)) {
			if k == 0 {
				outers = append(outers, orient(piece, true))
			} else {
				holes = append(holes, orient(piece, false))
			}
		}
	}
	var polys []polygon
	for _, o := range outers {
		p := polygon{o}
		for _, h := range holes {
			if insideRing(o, h[0].x, h[0].y) {
				p = append(p, h)
			}
		}
		polys = append(polys, p)
	}
	return polys
}

// planar turns a ring on the sphere into rings of the map: it unwraps the
// longitudes, closes a ring around a pole along the pole line, cuts it
// at ±180°, densifies the long edges (meridians are curves on the map),
// projects and rounds.
func planar(pts []ll) [][]ipt {
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1]
	}
	if len(pts) < 3 {
		return nil
	}
	// Start after the widest jump, so that a ring around a pole unwraps
	// to exactly [-180, 180] and needs no cut.
	start, widest := 0, 0.0
	for i := range pts {
		d := math.Abs(pts[i].lon - pts[(i+len(pts)-1)%len(pts)].lon)
		if d > widest {
			start, widest = i, d
		}
	}
	u := make([]ll, 0, len(pts)+2)
	offset := 0.0
	for i := range pts {
		p := pts[(start+i)%len(pts)]
		if i > 0 {
			prev := pts[(start+i-1)%len(pts)]
			if d := p.lon - prev.lon; d > 180 {
				offset -= 360
			} else if d < -180 {
				offset += 360
			}
		}
		u = append(u, ll{p.lon + offset, p.lat})
	}
	// A ring around a pole ends 360° from where it began.
	last, first := u[len(u)-1], u[0]
	if wrap := last.lon - first.lon; math.Abs(wrap) > 180 {
		end := first.lon + math.Copysign(360, wrap)
		pole := -90.0
		if meanLat(u) > 0 {
			pole = 90
		}
		u = append(u, ll{end, last.lat}, ll{end, pole}, ll{first.lon, pole})
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range u {
		lo, hi = min(lo, p.lon), max(hi, p.lon)
	}
	var out [][]ipt
	for k := -2; k <= 2; k++ {
		shift := float64(k) * 360
		if hi+shift <= -180 || lo+shift >= 180 {
			continue
		}
		s := make([]ll, len(u))
		for i, p := range u {
			s[i] = ll{p.lon + shift, p.lat}
		}
		s = clip(clip(s, -180, 1), 180, -1)
		if r := rasterize(densify(s)); len(r) >= 3 && math.Abs(area(r)) >= 1 {
			out = append(out, r)
		}
	}
	return out
}

// sphereRing is the outline of the globe on the map: the meridian 180°
// down, the South Pole line, the meridian -180° up and the North Pole line.
func sphereRing() []ipt {
	var pts []ll
	for lat := 90; lat > -90; lat-- {
		pts = append(pts, ll{180, float64(lat)})
	}
	for lat := -90; lat < 90; lat++ {
		pts = append(pts, ll{-180, float64(lat)})
	}
	return orient(rasterize(pts), true)
}

func meanLat(pts []ll) float64 {
	s := 0.0
	for _, p := range pts {
		s += p.lat
	}
	return s / float64(len(pts))
}

// clip keeps the part of a closed ring on one side of the meridian at lon:
// east of it for side 1, west for side -1 (Sutherland–Hodgman).
func clip(pts []ll, lon float64, side float64) []ll {
	var out []ll
	in := func(p ll) bool { return (p.lon-lon)*side >= 0 }
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		if in(p) {
			out = append(out, p)
		}
		if in(p) != in(q) {
			t := (lon - p.lon) / (q.lon - p.lon)
			out = append(out, ll{lon, p.lat + t*(q.lat-p.lat)})
		}
	}
	return out
}

// densify adds points along edges longer than 2°, which the projection
// bends (the cut at ±180° and the pole line).
func densify(pts []ll) []ll {
	var out []ll
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		out = append(out, p)
		n := int(math.Max(math.Abs(q.lon-p.lon), math.Abs(q.lat-p.lat)) / 2)
		for j := 1; j < n; j++ {
			t := float64(j) / float64(n)
			out = append(out, ll{p.lon + t*(q.lon-p.lon), p.lat + t*(q.lat-p.lat)})
		}
	}
	return out
}

// rasterize projects and rounds to tenths, dropping repeated and collinear
// points.
func rasterize(pts []ll) []ipt {
	var r []ipt
	for _, p := range pts {
		q := proj(p)
		ip := ipt{int(math.Round(q.X * 10)), int(math.Round(q.Y * 10))}
		if len(r) > 0 && r[len(r)-1] == ip {
			continue
		}
		if n := len(r); n >= 2 && collinear(r[n-2], r[n-1], ip) {
			r[n-1] = ip
			continue
		}
		r = append(r, ip)
	}
	for len(r) > 1 && r[0] == r[len(r)-1] {
		r = r[:len(r)-1]
	}
	return r
}

func collinear(a, b, c ipt) bool {
	cross := (b.x-a.x)*(c.y-a.y) - (c.x-a.x)*(b.y-a.y)
	dot := (b.x-a.x)*(c.x-b.x) + (b.y-a.y)*(c.y-b.y)
	return cross == 0 && dot > 0
}

// area is the signed shoelace area in square tenths; positive is clockwise
// on screen (y grows downwards).
func area(r []ipt) float64 {
	s := 0
	for i, p := range r {
		q := r[(i+1)%len(r)]
		s += p.x*q.y - q.x*p.y
	}
	return float64(s) / 2
}

func orient(r []ipt, clockwise bool) []ipt {
	if (area(r) > 0) != clockwise {
		r = slices.Clone(r)
		slices.Reverse(r)
	}
	return r
}

// insideRing tells whether (x, y) is inside r (even-odd rule).
func insideRing(r []ipt, x, y int) bool {
	return insideF(r, float64(x), float64(y))
}

func insideF(r []ipt, x, y float64) bool {
	in := false
	for i, p := range r {
		q := r[(i+1)%len(r)]
		px, py, qx, qy := float64(p.x), float64(p.y), float64(q.x), float64(q.y)
		if (py > y) != (qy > y) && x < px+(y-py)*(qx-px)/(qy-py) {
			in = !in
		}
	}
	return in
}

func largest(polys []polygon) polygon {
	var best polygon
	bestArea := -1.0
	for _, p := range polys {
		if a := area(p[0]); a > bestArea {
			best, bestArea = p, a
		}
	}
	return best
}

// interiorPoint finds the point of p farthest from its edges (its pole of
// inaccessibility) by grid searches of shrinking cells.
func interiorPoint(p polygon) ipt {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range p[0] {
		minX, maxX = min(minX, float64(q.x)), max(maxX, float64(q.x))
		minY, maxY = min(minY, float64(q.y)), max(maxY, float64(q.y))
	}
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	w, h := maxX-minX, maxY-minY
	best := -1.0
	bx, by := cx, cy
	const n = 40
	for range 6 {
		for i := 0; i <= n; i++ {
			for j := 0; j <= n; j++ {
				x := cx - w/2 + w*float64(i)/n
				y := cy - h/2 + h*float64(j)/n
				if d := signedDistance(p, x, y); d > best {
					best, bx, by = d, x, y
				}
			}
		}
		cx, cy = bx, by
		w, h = w/8, h/8
	}
	return ipt{int(math.Round(bx)), int(math.Round(by))}
}

// signedDistance is the distance from (x, y) to the edges of p, negative
// outside it.
func signedDistance(p polygon, x, y float64) float64 {
	in := insideF(p[0], x, y)
	d := math.Inf(1)
	for k, r := range p {
		if k > 0 && insideF(r, x, y) {
			in = false
		}
		for i, a := range r {
			b := r[(i+1)%len(r)]
			d = min(d, segDist(x, y, float64(a.x), float64(a.y), float64(b.x), float64(b.y)))
		}
	}
	if !in {
		return -d
	}
	return d
}

func segDist(x, y, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = min(max(((x-ax)*dx+(y-ay)*dy)/l, 0), 1)
	}
	return math.Hypot(x-(ax+t*dx), y-(ay+t*dy))
}

// pathData writes the polygons as SVG path data: an absolute moveto, then
// relative l, h and v (the command letter left out when it repeats), z.
func pathData(polys []polygon) string {
	var b []byte
	for _, p := range polys {
		for _, r := range p {
			b = append(b, 'M')
			b = appendNum(b, r[0].x)
			b = appendNum(b, r[0].y)
			var last byte
			for i := 1; i < len(r); i++ {
				dx, dy := r[i].x-r[i-1].x, r[i].y-r[i-1].y
				switch {
				case dy == 0:
					b = appendCmd(b, &last, 'h')
					b = appendNum(b, dx)
				case dx == 0:
					b = appendCmd(b, &last, 'v')
					b = appendNum(b, dy)
				default:
					b = appendCmd(b, &last, 'l')
					b = appendNum(b, dx)
					b = appendNum(b, dy)
				}
			}
			b = append(b, 'z')
		}
	}
	return string(b)
}

func appendCmd(b []byte, last *byte, c byte) []byte {
	if *last == c {
		return b
	}
	*last = c
	return append(b, c)
}

// appendNum appends a number of tenths, with a space before it unless a
// command letter or its minus sign separates it from the previous one, and
// without a leading zero (".5").
func appendNum(b []byte, v int) []byte {
	s := tenths(v)
	if strings.HasPrefix(s, "0.") {
		s = s[1:]
	} else if strings.HasPrefix(s, "-0.") {
		s = "-" + s[2:]
	}
	if n := len(b); n > 0 && s[0] != '-' && !isLetter(b[n-1]) {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// tenths formats v/10 in the shortest decimal form.
func tenths(v int) string {
	return strconv.FormatFloat(float64(v)/10, 'f', -1, 64)
}
