package worldmap

import (
	"math"
	"slices"
)

// Width and Height are the size of the map in SVG user units: the viewBox
// of a page that draws it is "0 0 1000 520". The Natural Earth projection
// of the whole globe, scaled to Width, is Height high.
const Width, Height = 1000, 520

// Point is a position on the map in viewBox units, X to the right and Y
// down from the top-left corner.
type Point struct{ X, Y float64 }

// Country is one country of the map.
type Country struct {
	// Code is the ISO 3166-1 alpha-2 code in upper case ("FR"), or XK for
	// Kosovo; it is never empty.
	Code string
	// Name is the English short name ("France").
	Name string
	// Path is SVG path data in viewBox units: one closed subpath per
	// polygon or hole, coordinates rounded to 0.1. Outer rings run
	// clockwise on screen and holes counter-clockwise, so that both fill
	// rules draw the holes.
	Path string
	// Centroid is a point well inside the country's largest polygon (the
	// point of it farthest from its edges, to 0.1), for markers and labels.
	Centroid Point
}

// Countries returns all countries sorted by Code. The slice is a new copy
// on each call: the caller may modify it.
func Countries() []Country {
	return slices.Clone(countries[:])
}

// Lookup returns the country of an ISO 3166-1 alpha-2 code, in any case
// ("fr", "FR"), and whether the map has it. It does not allocate.
func Lookup(code string) (Country, bool) {
	if len(code) != 2 {
		return Country{}, false
	}
	var key [2]byte
	for i := range 2 {
		c := code[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		key[i] = c
	}
	// Binary search by hand: comparing the two bytes in place is four times
	// faster than slices.BinarySearchFunc copying a Country per probe.
	lo, hi := 0, len(countries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := countries[m].Code
		if c[0] < key[0] || c[0] == key[0] && c[1] < key[1] {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(countries) && countries[lo].Code == string(key[:]) {
		return countries[lo], true
	}
	return Country{}, false
}

// Sphere returns SVG path data of the outline of the globe on the map (the
// meridians ±180° and the pole lines), to fill as the ocean behind the
// countries.
func Sphere() string { return sphere }

// Natural Earth I projection (Šavrič, Jenny, Patterson, Petrovič, Hurni:
// "A polynomial equation for the Natural Earth projection", Cartography and
// Geographic Information Science 38(4), 2011), scaled so that the equator
// is Width long.
const (
	scale   = Width / (2 * math.Pi * 0.870700)
	centreX = Width / 2.0
	centreY = Height / 2.0
)

// Project returns the map position of a latitude and longitude in degrees,
// by the projection of the paths. Latitudes beyond ±90 and longitudes beyond
// ±180 are clamped to them, NaN is taken as 0, and the result lies within
// the viewBox.
func Project(lat, lon float64) Point {
	phi := clamp(lat, 90) * math.Pi / 180
	lambda := clamp(lon, 180) * math.Pi / 180
	p2 := phi * phi
	p4 := p2 * p2
	x := lambda * (0.870700 - 0.131979*p2 + p4*(-0.013791+p4*p2*(0.003971-0.001529*p2)))
	y := phi * (1.007226 + p2*(0.015085+p4*(-0.044475+0.028874*p2-0.005916*p4)))
	return Point{
		X: min(max(centreX+x*scale, 0), Width),
		Y: min(max(centreY-y*scale, 0), Height),
	}
}

func clamp(v, limit float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return min(max(v, -limit), limit)
}
