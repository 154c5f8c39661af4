package worldmap_test

import (
	"fmt"
	"strings"

	"sonde/report/worldmap"
)

// Example draws a marker on Paris over the map of France.
func Example() {
	fr, ok := worldmap.Lookup("fr")
	if !ok {
		return
	}
	p := worldmap.Project(48.857, 2.352)
	fmt.Println(fr.Code, fr.Name)
	fmt.Printf("<svg viewBox=\"0 0 %d %d\">\n", worldmap.Width, worldmap.Height)
	fmt.Printf("<path d=\"%s…\"/>\n", fr.Path[:strings.IndexAny(fr.Path, "lhv")])
	fmt.Printf("<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", fr.Centroid.X, fr.Centroid.Y, fr.Name)
	fmt.Printf("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", p.X, p.Y)
	// Output:
	// FR France
	// <svg viewBox="0 0 1000 520">
	// <path d="M356.2 245.3…"/>
	// <text x="505.7" y="108.1">France</text>
	// <circle cx="505.8" cy="102.9" r="2"/>
}

func ExampleProject() {
	for _, ll := range [][2]float64{{0, 0}, {0, -180}, {90, 0}, {-90, 180}} {
		p := worldmap.Project(ll[0], ll[1])
		fmt.Printf("%4.0f %5.0f → %6.1f %5.1f\n", ll[0], ll[1], p.X, p.Y)
	}
	// Output:
	//    0     0 →  500.0 260.0
	//    0  -180 →    0.0 260.0
	//   90     0 →  500.0   0.0
	//  -90   180 →  775.2 520.0
}
