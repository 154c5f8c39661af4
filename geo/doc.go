// Package geo finds where an IP address is, and who holds it, from MaxMind
// DB (mmdb) files: GeoIP2/GeoLite2 City, Country, ASN and ISP databases,
// the flat databases of ip-location-db and ipinfo, and any other mmdb
// through a generic view (DB.Decode into an any).
//
// A database maps each network (a CIDR prefix) to a record. Lookup walks
// the file's binary search tree bit by bit of the address to the record of
// the most specific network holding it, and reduces the record to a Record:
// country, region, city, coordinates, AS number and organisation, with the
// network and the name of the database that answered. An Enricher merges
// several databases into one answer (a City database for the place, an
// ASN database for the network owner). Embedded returns a public-domain
// country database compiled into the package, so that geolocation works
// with no download; Discover finds installed databases, and OpenDefault
// opens them followed by the embedded one (what "sonde geo" does without
// --db, and what trace and sniff pass to NewEnricher).
//
// The answers are estimates. A database locates the registrant of an
// address block, or where its publisher measured the block to be used; a
// country is usually right, a city often wrong, and coordinates are the
// centre of an area whose radius Record.AccuracyRadius gives.
//
// # Privileges
//
// None. geo reads files; it never sends a packet or resolves a name.
//
// # Concurrency
//
// A DB and an Enricher are safe for concurrent use. A DB opened with a
// ReloadInterval runs one goroutine that polls its file until Close; a
// replaced file (written elsewhere and renamed over, as geoipupdate does)
// is loaded and swapped in atomically, and lookups in flight finish on the
// version they started with. Lookups are lock-free; records are cached
// per database record, so repeated answers cost a tree walk and no
// allocation.
package geo
