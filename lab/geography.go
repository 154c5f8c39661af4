package lab

import _ "embed"

// geography is the lab geography, written by lab/internal/geogen.
//
//go:embed geography.mmdb
var geography []byte

// GeographyName names the lab geography as a database (geo.Record.Database).
const GeographyName = "lab-geography"

// Geography returns the lab geography: a MaxMind DB (GeoLite2-City schema)
// that places the lab's reserved addresses in invented cities, so that
// locations can be practised in a lab, whose addresses no real database
// knows. Link k's subnet (198.18.k.0/24, 2001:2:0:k::/64) lies one city
// further east for each k from Paris (k = 0) to Seoul (k = 9); the far
// host's loopback network (198.18.200.0/24, 2001:2:0:c8::/64) is in Tokyo
// and Sweep's 198.19.0.0/16 in Sydney; other lab addresses are nowhere.
// None of it is true. The caller must not modify the bytes.
func Geography() []byte { return geography }
