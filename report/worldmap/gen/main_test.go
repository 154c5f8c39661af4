package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sonde/report/worldmap"
)

// TestGeneratedUpToDate regenerates the table from testdata and compares it
// with the committed countries_gen.go.
func TestGeneratedUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "countries_gen.go")
	if err := run("testdata/countries-110m.json", "testdata/codes.json", "testdata/iso-en.json", out, defaultSimplify); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../countries_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("countries_gen.go is out of date: run go generate ./report/worldmap")
	}
}

func TestDecodeArcs(t *testing.T) {
	var topo topology
	topo.Transform.Scale = [2]float64{0.5, 2}
	topo.Transform.Translate = [2]float64{-180, -90}
	topo.Arcs = [][][2]float64{{{10, 20}, {2, -1}, {-4, 3}}}
	want := [][]ll{{{-175, -50}, {-174, -52}, {-176, -46}}}
	if diff := cmp.Diff(want, decodeArcs(&topo), cmp.AllowUnexported(ll{})); diff != "" {
		t.Errorf("decodeArcs (-want +got):\n%s", diff)
	}
}

func TestRing(t *testing.T) {
	arcs := [][]ll{
		{{0, 0}, {1, 0}, {1, 1}},
		{{0, 0}, {0, 1}, {1, 1}},
	}
	// Arc 0, then arc 1 reversed (~1 = -2), sharing the end points.
	got := ring(arcs, []int{0, -2})
	want := []ll{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(ll{})); diff != "" {
		t.Errorf("ring (-want +got):\n%s", diff)
	}
	if arcs[1][0] != (ll{0, 0}) {
		t.Error("ring reversed an arc in place")
	}
}

func bounds(r []ipt) (minX, maxX, minY, maxY int) {
	minX, minY = 1<<31, 1<<31
	maxX, maxY = -minX, -minY
	for _, p := range r {
		minX, maxX = min(minX, p.x), max(maxX, p.x)
		minY, maxY = min(minY, p.y), max(maxY, p.y)
	}
	return
}

// TestPlanarAntimeridian cuts a square across ±180° into a piece on each
// edge of the map.
func TestPlanarAntimeridian(t *testing.T) {
	sq := []ll{{170, 10}, {-170, 10}, {-170, -10}, {170, -10}, {170, 10}}
	pieces := planar(sq)
	if len(pieces) != 2 {
		t.Fatalf("%d pieces, want 2", len(pieces))
	}
	edges := map[int]bool{}
	for _, p := range pieces {
		minX, maxX, _, _ := bounds(p)
		if maxX-minX > 100*10 {
			t.Errorf("piece spans %d tenths: not cut", maxX-minX)
		}
		switch {
		case minX == 0:
			edges[0] = true
		case maxX == worldmap.Width*10:
			edges[1] = true
		}
	}
	if !edges[0] || !edges[1] {
		t.Errorf("pieces %v do not touch both edges", pieces)
	}
}

// TestPlanarPole closes a ring around the South Pole along the bottom of
// the map, from meridian -180° to 180°.
func TestPlanarPole(t *testing.T) {
	var r []ll
	for lon := -180.0; lon < 180; lon += 30 {
		r = append(r, ll{lon, -70})
	}
	r = append(r, ll{180, -70}, ll{-180, -70})
	pieces := planar(r)
	if len(pieces) != 1 {
		t.Fatalf("%d pieces, want 1", len(pieces))
	}
	minX, maxX, _, maxY := bounds(pieces[0])
	west, east := worldmap.Project(-70, -180), worldmap.Project(-70, 180)
	if minX != int(west.X*10+0.5) || maxX != int(east.X*10+0.5) || maxY != worldmap.Height*10 {
		t.Errorf("bounds x %d–%d, max y %d: want %.0f–%.0f (±180° at 70°S) and %d (the pole line)",
			minX, maxX, maxY, west.X*10, east.X*10, worldmap.Height*10)
	}
}

func TestPathData(t *testing.T) {
	polys := []polygon{{
		{{0, 0}, {100, 0}, {100, 100}, {95, 105}, {0, 100}},
		{{10, 10}, {10, 20}, {25, 20}},
	}}
	want := "M0 0h10v10l-.5 .5-9.5-.5zM1 1v1h1.5z"
	if got := pathData(polys); got != want {
		t.Errorf("pathData = %q, want %q", got, want)
	}
}

func TestOrient(t *testing.T) {
	ccw := []ipt{{0, 0}, {0, 10}, {10, 10}, {10, 0}} // counter-clockwise on screen
	if area(ccw) >= 0 {
		t.Fatalf("area %v, want negative", area(ccw))
	}
	cw := orient(ccw, true)
	if area(cw) <= 0 || !slices.Equal(orient(cw, true), cw) {
		t.Errorf("orient: %v", cw)
	}
}
