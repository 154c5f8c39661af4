package worldmap_test

import (
	"errors"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sonde/report/worldmap"
)

// parsePath checks SVG path data (the commands M L H V Z, absolute and
// relative, with implicit repetition; numbers as the SVG grammar spells
// them: "-.5", "1e2", "3.2.5" for 3.2 and .5) and returns its subpaths as
// rings of absolute points.
func parsePath(d string) ([][]worldmap.Point, error) {
	var rings [][]worldmap.Point
	var cur []worldmap.Point
	var pos, start worldmap.Point
	i := 0
	skipSpace := func() {
		for i < len(d) && (d[i] == ' ' || d[i] == ',' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
			i++
		}
	}
	number := func() (float64, bool) {
		skipSpace()
		j := i
		if j < len(d) && (d[j] == '-' || d[j] == '+') {
			j++
		}
		digits := 0
		for j < len(d) && '0' <= d[j] && d[j] <= '9' {
			j++
			digits++
		}
		if j < len(d) && d[j] == '.' {
			j++
			for j < len(d) && '0' <= d[j] && d[j] <= '9' {
				j++
				digits++
			}
		}
		if digits == 0 {
			return 0, false
		}
		if j < len(d) && (d[j] == 'e' || d[j] == 'E') {
			k := j + 1
			if k < len(d) && (d[k] == '-' || d[k] == '+') {
				k++
			}
			if k < len(d) && '0' <= d[k] && d[k] <= '9' {
				for k < len(d) && '0' <= d[k] && d[k] <= '9' {
					k++
				}
				j = k
			}
		}
		v, err := strconv.ParseFloat(d[i:j], 64)
		if err != nil {
			return 0, false
		}
		i = j
		return v, true
	}
	closeRing := func() {
		if len(cur) > 0 {
			rings = append(rings, cur)
			cur = nil
		}
	}
	var cmd byte
	for {
		skipSpace()
		if i == len(d) {
			break
		}
		if c := d[i]; strings.IndexByte("MmLlHhVvZz", c) >= 0 {
			cmd = c
			i++
		} else if strings.IndexByte("+-.0123456789", c) < 0 {
			return nil, fmt.Errorf("offset %d: unexpected %q", i, c)
		} else if cmd == 0 || cmd == 'Z' || cmd == 'z' {
			return nil, fmt.Errorf("offset %d: number without a command", i)
		}
		switch cmd {
		case 'Z', 'z':
			closeRing()
			pos = start
			continue
		case 'M', 'm', 'L', 'l':
			x, ok1 := number()
			y, ok2 := number()
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("offset %d: %c wants two numbers", i, cmd)
			}
			if cmd == 'm' || cmd == 'l' {
				x, y = pos.X+x, pos.Y+y
			}
			pos = worldmap.Point{X: x, Y: y}
			if cmd == 'M' || cmd == 'm' {
				closeRing()
				start = pos
				// Numbers after a moveto are linetos.
				cmd = map[byte]byte{'M': 'L', 'm': 'l'}[cmd]
			} else if len(cur) == 0 {
				return nil, fmt.Errorf("offset %d: lineto before moveto", i)
			}
			if len(cur) == 0 {
				cur = append(cur, start)
			} else {
				cur = append(cur, pos)
			}
		case 'H', 'h', 'V', 'v':
			v, ok := number()
			if !ok {
				return nil, fmt.Errorf("offset %d: %c wants a number", i, cmd)
			}
			if len(cur) == 0 {
				return nil, fmt.Errorf("offset %d: lineto before moveto", i)
			}
			switch cmd {
			case 'H':
				pos.X = v
			case 'h':
				pos.X += v
			case 'V':
				pos.Y = v
			case 'v':
				pos.Y += v
			}
			cur = append(cur, pos)
		}
	}
	if len(cur) > 0 {
		return nil, errors.New("subpath not closed with z")
	}
	return rings, nil
}

// inside tells whether p is inside the rings, by the even-odd rule.
func inside(rings [][]worldmap.Point, p worldmap.Point) bool {
	in := false
	for _, r := range rings {
		for i, a := range r {
			b := r[(i+1)%len(r)]
			if (a.Y > p.Y) != (b.Y > p.Y) && p.X < a.X+(p.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y) {
				in = !in
			}
		}
	}
	return in
}

func mustRings(t *testing.T, c worldmap.Country) [][]worldmap.Point {
	t.Helper()
	rings, err := parsePath(c.Path)
	if err != nil {
		t.Fatalf("%s: path: %v", c.Code, err)
	}
	return rings
}

func TestParsePath(t *testing.T) {
	good := []struct {
		d     string
		rings int
		last  worldmap.Point
	}{
		{"M1 2l3 4z", 1, worldmap.Point{X: 4, Y: 6}},
		{"M1 2l3-4-1.5.5h2v-1z", 1, worldmap.Point{X: 4.5, Y: -2.5}},
		{"M0,0 L10,0 10,10 Z m5 5 l1 1z", 2, worldmap.Point{X: 6, Y: 6}},
		{"M1e1 0H0V1e1z", 1, worldmap.Point{X: 0, Y: 10}},
		{"M0 0 1 1 2 0z", 1, worldmap.Point{X: 2, Y: 0}},
	}
	for _, g := range good {
		rings, err := parsePath(g.d)
		if err != nil {
			t.Errorf("%q: %v", g.d, err)
			continue
		}
		r := rings[len(rings)-1]
		if len(rings) != g.rings || r[len(r)-1] != g.last {
			t.Errorf("%q: %d rings ending at %v, want %d ending at %v", g.d, len(rings), r[len(r)-1], g.rings, g.last)
		}
	}
	for _, d := range []string{"L1 1z", "M1z", "M1 2l3", "M1 2 l3 4", "M1 2C3 4 5 6 7 8z", "M1 2l3 4z5", "M. 2z", "M1 2l--3 4z"} {
		if _, err := parsePath(d); err == nil {
			t.Errorf("%q: parsed, want an error", d)
		}
	}
}

func TestCountries(t *testing.T) {
	cs := worldmap.Countries()
	if len(cs) < 170 || len(cs) > 180 {
		t.Errorf("%d countries, want 170 to 180", len(cs))
	}
	for i, c := range cs {
		if len(c.Code) != 2 || strings.ToUpper(c.Code) != c.Code || c.Code[0] < 'A' || c.Code[1] < 'A' {
			t.Errorf("code %q", c.Code)
		}
		if i > 0 && cs[i-1].Code >= c.Code {
			t.Errorf("%s after %s: not sorted or repeated", c.Code, cs[i-1].Code)
		}
		if c.Name == "" || strings.Contains(c.Name, ".") {
			t.Errorf("%s: name %q", c.Code, c.Name)
		}
	}
	for _, code := range []string{"FR", "US", "BR", "AU", "JP", "ZA", "RU", "CN", "IN", "GB", "DE", "XK", "AQ", "FJ"} {
		if _, ok := worldmap.Lookup(code); !ok {
			t.Errorf("%s missing", code)
		}
	}
	for code, name := range map[string]string{"FR": "France", "XK": "Kosovo", "CY": "Cyprus", "SO": "Somalia", "CD": "DR Congo", "BA": "Bosnia and Herzegovina"} {
		if c, _ := worldmap.Lookup(code); c.Name != name {
			t.Errorf("%s: name %q, want %q", code, c.Name, name)
		}
	}
}

func TestCountriesIsACopy(t *testing.T) {
	a := worldmap.Countries()
	a[0].Code, a[0].Path = "ZZ", ""
	if b := worldmap.Countries(); b[0].Code == "ZZ" || b[0].Path == "" {
		t.Errorf("Countries returned the shared table: %+v", b[0])
	}
}

func TestPaths(t *testing.T) {
	total := 0
	for _, c := range worldmap.Countries() {
		total += len(c.Path)
		rings := mustRings(t, c)
		if len(rings) == 0 {
			t.Errorf("%s: empty path", c.Code)
		}
		for _, r := range rings {
			if len(r) < 3 {
				t.Errorf("%s: ring of %d points", c.Code, len(r))
			}
			for i, p := range r {
				if p.X < 0 || p.X > worldmap.Width || p.Y < 0 || p.Y > worldmap.Height {
					t.Errorf("%s: point %v outside the viewBox", c.Code, p)
				}
				// An edge across half the map is an antimeridian streak.
				if q := r[(i+1)%len(r)]; math.Abs(q.X-p.X) > worldmap.Width/2 && c.Code != "AQ" {
					t.Errorf("%s: edge %v–%v spans half the map", c.Code, p, q)
				}
			}
		}
	}
	if total > 150_000 {
		t.Errorf("path data is %d bytes, want at most 150 KB (it goes into every report)", total)
	}
}

// TestAntarctica checks that Antarctica spans the map and lies on the pole
// line, rather than being drawn inverted (the ocean filled).
func TestAntarctica(t *testing.T) {
	c, _ := worldmap.Lookup("AQ")
	rings := mustRings(t, c)
	if !inside(rings, worldmap.Project(-89, 0)) || !inside(rings, worldmap.Project(-85, -179)) || !inside(rings, worldmap.Project(-85, 179)) {
		t.Error("the South Pole region is not inside Antarctica")
	}
	if inside(rings, worldmap.Project(-60, 0)) || inside(rings, worldmap.Project(0, 0)) {
		t.Error("the ocean is inside Antarctica")
	}
}

// TestAntimeridian checks the two sides of countries cut at ±180°.
func TestAntimeridian(t *testing.T) {
	for _, tc := range []struct {
		code     string
		lat, lon float64
	}{
		{"RU", 66, 179.5},   // Chukotka west of the cut
		{"RU", 66.5, -179},  // and east of it
		{"RU", 55.75, 37.6}, // Moscow
		{"FJ", -16.6, 179.3},
		{"US", 64.8, -147.7}, // Fairbanks
	} {
		c, _ := worldmap.Lookup(tc.code)
		if !inside(mustRings(t, c), worldmap.Project(tc.lat, tc.lon)) {
			t.Errorf("%v,%v is not inside %s", tc.lat, tc.lon, tc.code)
		}
	}
}

// TestCities checks that cities project into their country and no other.
func TestCities(t *testing.T) {
	cs := worldmap.Countries()
	rings := make([][][]worldmap.Point, len(cs))
	for i, c := range cs {
		rings[i] = mustRings(t, c)
	}
	for _, city := range []struct {
		name     string
		lat, lon float64
		code     string
	}{
		{"Paris", 48.857, 2.352, "FR"},
		{"Tokyo", 35.690, 139.692, "JP"},
		{"Sydney", -33.869, 151.209, "AU"},
		{"New York", 40.713, -74.006, "US"},
		{"São Paulo", -23.551, -46.633, "BR"},
		{"Berlin", 52.520, 13.405, "DE"},
		{"Johannesburg", -26.204, 28.047, "ZA"},
		{"Delhi", 28.614, 77.209, "IN"},
		{"Beijing", 39.904, 116.407, "CN"},
		{"Pristina", 42.663, 21.165, "XK"},
		{"Lesotho", -29.6, 28.2, "LS"}, // in a hole of South Africa
		{"Vostok Station", -78.46, 106.84, "AQ"},
	} {
		p := worldmap.Project(city.lat, city.lon)
		var in []string
		for i, c := range cs {
			if inside(rings[i], p) {
				in = append(in, c.Code)
			}
		}
		if len(in) != 1 || in[0] != city.code {
			t.Errorf("%s at %v is in %v, want [%s]", city.name, p, in, city.code)
		}
	}
}

func TestCentroids(t *testing.T) {
	for _, c := range worldmap.Countries() {
		if !inside(mustRings(t, c), c.Centroid) {
			t.Errorf("%s: centroid %v is not inside the country", c.Code, c.Centroid)
		}
	}
	// The centroid is in the largest polygon: mainland, not an island.
	for code, want := range map[string][2]float64{"US": {39, -98}, "FR": {46.5, 2.5}, "RU": {61, 96}} {
		c, _ := worldmap.Lookup(code)
		p := worldmap.Project(want[0], want[1])
		if d := math.Hypot(c.Centroid.X-p.X, c.Centroid.Y-p.Y); d > 40 {
			t.Errorf("%s: centroid %v is %.0f units from %v", code, c.Centroid, d, p)
		}
	}
}

func TestLookup(t *testing.T) {
	fr, ok := worldmap.Lookup("FR")
	if !ok || fr.Code != "FR" || fr.Name != "France" {
		t.Fatalf(`Lookup("FR") = %+v, %v`, fr, ok)
	}
	for _, code := range []string{"fr", "Fr", "fR"} {
		if c, ok := worldmap.Lookup(code); !ok || c != fr {
			t.Errorf("Lookup(%q) = %s, %v; want FR", code, c.Code, ok)
		}
	}
	for _, code := range []string{"", "F", "FRA", "ZZ", "SG", "1R", "fr ", "\xc3\x89R", "AA", "ZW\x00"} {
		if c, ok := worldmap.Lookup(code); ok || c != (worldmap.Country{}) {
			t.Errorf("Lookup(%q) = %+v, %v; want nothing", code, c, ok)
		}
	}
	for _, c := range worldmap.Countries() {
		if got, ok := worldmap.Lookup(strings.ToLower(c.Code)); !ok || got != c {
			t.Errorf("Lookup(%q) = %s, %v", strings.ToLower(c.Code), got.Code, ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { worldmap.Lookup("jp") }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

func TestProject(t *testing.T) {
	w, h := float64(worldmap.Width), float64(worldmap.Height)
	near := func(p worldmap.Point, x, y float64) bool { return math.Abs(p.X-x) < 0.5 && math.Abs(p.Y-y) < 0.5 }
	if p := worldmap.Project(0, 0); !near(p, w/2, h/2) {
		t.Errorf("Project(0, 0) = %v, want the centre", p)
	}
	if p := worldmap.Project(0, -180); !near(p, 0, h/2) {
		t.Errorf("Project(0, -180) = %v, want the left edge", p)
	}
	if p := worldmap.Project(0, 180); !near(p, w, h/2) {
		t.Errorf("Project(0, 180) = %v, want the right edge", p)
	}
	if p := worldmap.Project(90, 0); !near(p, w/2, 0) {
		t.Errorf("Project(90, 0) = %v, want the top", p)
	}
	if p := worldmap.Project(-90, 0); !near(p, w/2, h) {
		t.Errorf("Project(-90, 0) = %v, want the bottom", p)
	}
	// Natural Earth I: the poles are lines a little over half as long as the equator.
	if l := worldmap.Project(90, 180).X - worldmap.Project(90, -180).X; l < 0.5*w || l > 0.6*w {
		t.Errorf("pole line %.1f long", l)
	}
	for _, tc := range []struct{ lat, lon, clat, clon float64 }{
		{100, 0, 90, 0}, {-1e9, 10, -90, 10}, {10, 200, 10, 180}, {10, -720, 10, -180},
		{math.Inf(1), math.Inf(-1), 90, -180}, {math.NaN(), 30, 0, 30}, {30, math.NaN(), 30, 0},
	} {
		if p, want := worldmap.Project(tc.lat, tc.lon), worldmap.Project(tc.clat, tc.clon); p != want {
			t.Errorf("Project(%v, %v) = %v, want %v (clamped)", tc.lat, tc.lon, p, want)
		}
	}
	// North is up, east is right.
	if a, b := worldmap.Project(10, 10), worldmap.Project(20, 20); b.X <= a.X || b.Y >= a.Y {
		t.Errorf("Project(20, 20) = %v is not up and right of Project(10, 10) = %v", b, a)
	}
}

// TestNoInitWork checks that the package adds no work at program start-up:
// the linker lays the table out as data, so a binary that links the
// package has neither an init function nor an init task of it. The binary
// is this test's, built again unstripped (go test strips the one it runs).
func TestNoInitWork(t *testing.T) {
	if testing.Short() {
		t.Skip("links a test binary")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "worldmap.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "sonde/report/worldmap").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	found := false
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch name := f[len(f)-1]; name {
		case "sonde/report/worldmap.countries":
			found = true
		case "sonde/report/worldmap.init", "sonde/report/worldmap..inittask":
			t.Errorf("the package has init work: symbol %s", name)
		}
	}
	if !found {
		t.Error("symbol sonde/report/worldmap.countries not found: the test looks at the wrong names")
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"FR", "fr", "xk", "", "ZZ", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		c, ok := worldmap.Lookup(code)
		if ok != (c != worldmap.Country{}) {
			t.Fatalf("Lookup(%q) = %+v, %v", code, c, ok)
		}
		if ok && !strings.EqualFold(c.Code, code) {
			t.Fatalf("Lookup(%q) = %s", code, c.Code)
		}
		if !ok && len(code) == 2 && slices.ContainsFunc(worldmap.Countries(), func(c worldmap.Country) bool { return strings.EqualFold(c.Code, code) }) {
			t.Fatalf("Lookup(%q) missed", code)
		}
	})
}

func FuzzProject(f *testing.F) {
	f.Add(48.857, 2.352)
	f.Add(-90.0, 180.0)
	f.Add(1e300, -1e300)
	f.Fuzz(func(t *testing.T, lat, lon float64) {
		p := worldmap.Project(lat, lon)
		if !(p.X >= 0 && p.X <= worldmap.Width && p.Y >= 0 && p.Y <= worldmap.Height) {
			t.Fatalf("Project(%v, %v) = %v, outside the viewBox", lat, lon, p)
		}
	})
}

func BenchmarkCountries(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = worldmap.Countries()
	}
}

func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		worldmap.Lookup("jp")
	}
}

func BenchmarkProject(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		worldmap.Project(48.857, 2.352)
	}
}

func TestSphere(t *testing.T) {
	rings, err := parsePath(worldmap.Sphere())
	if err != nil || len(rings) != 1 {
		t.Fatalf("Sphere: %d rings, %v", len(rings), err)
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range rings[0] {
		minX, maxX = min(minX, p.X), max(maxX, p.X)
		minY, maxY = min(minY, p.Y), max(maxY, p.Y)
	}
	// (Relative coordinates add up to the edges within float rounding.)
	if math.Abs(minX) > 1e-6 || math.Abs(minY) > 1e-6 || math.Abs(maxX-worldmap.Width) > 1e-6 || math.Abs(maxY-worldmap.Height) > 1e-6 {
		t.Errorf("Sphere spans %v,%v–%v,%v, want the viewBox", minX, minY, maxX, maxY)
	}
	for _, c := range worldmap.Countries() {
		if !inside(rings, c.Centroid) {
			t.Errorf("%s: centroid outside the sphere", c.Code)
		}
	}
	for _, p := range []worldmap.Point{{X: 1, Y: 1}, {X: worldmap.Width - 1, Y: worldmap.Height - 1}, {X: 5, Y: 40}} {
		if inside(rings, p) {
			t.Errorf("corner %v inside the sphere", p)
		}
	}
}
