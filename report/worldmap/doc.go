// Package worldmap is a world map of countries drawn as SVG paths, for reports.
//
// The map has the 175 countries and territories of Natural Earth's 1:110m
// admin-0 map (as packaged by the npm package world-atlas 2.0.2), drawn in
// the Natural Earth I projection on a Width × Height viewBox
// ("0 0 1000 520"), Antarctica included. Each Country has its ISO 3166-1
// alpha-2 code, an English short name, SVG path data and a point inside it
// for a marker or a label; Project places any latitude and longitude (a
// geolocated address, say) by the same projection:
//
//	fmt.Fprintf(w, `<svg viewBox="0 0 %d %d">`, worldmap.Width, worldmap.Height)
//	fmt.Fprintf(w, `<path d="%s" fill="lightblue"/>`, worldmap.Sphere())
//	for _, c := range worldmap.Countries() {
//		fmt.Fprintf(w, `<path d="%s"><title>%s</title></path>`, c.Path, c.Name)
//	}
//	p := worldmap.Project(48.86, 2.35) // Paris
//	fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3"/></svg>`, p.X, p.Y)
//
// The path data of the whole map is about 71 KB. Rings that cross the
// antimeridian (Russia, Fiji) are cut at ±180°, and Antarctica is closed
// along the pole line at the bottom of the map, so no edge runs across the
// map. Kosovo has the user-assigned code XK; Northern Cyprus and Somaliland,
// which have no ISO code, are drawn as parts of Cyprus and Somalia. Small
// countries below the map's resolution (Andorra, Singapore, Malta …) are
// not on it: Lookup reports false for them.
//
// The table is generated (go generate runs gen/main.go; see README.md for
// the sources, their licences and how to regenerate it) and is static
// data: the package has no init function and no package-level variable
// built at run time, so importing it costs nothing at program start-up
// (a test checks the binary for an init task).
//
// # Privileges
//
// None. The package is pure computation over constant data: it makes no
// system call, reads no file and starts no goroutine.
//
// # Concurrency
//
// All functions are safe for concurrent use: the table is never written.
package worldmap

//go:generate go run ./gen -o countries_gen.go
