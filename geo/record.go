package geo

import (
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Record is what a database knows about one address, reduced to the fields
// every common mmdb schema shares. A zero field means the database did not
// say. Records are plain values: copying one is cheap and its strings are
// never modified.
type Record struct {
	// Network is the database network that holds the address: every address
	// in it has the same answer.
	Network netip.Prefix
	// Database names the database that answered (see Info.Name); when an
	// Enricher merges several, their names joined with "+". Empty when no
	// database had data for the address.
	Database string

	CountryCode   string  // ISO 3166-1 alpha-2 code, e.g. "GB"
	Country       string  // English name of the country, e.g. "United Kingdom" (from CLDR when the database gives only the code)
	ContinentCode string  // two-letter continent code, e.g. "EU"
	Region        string  // English name of the first subdivision (state, province)
	City          string  // English name of the city
	Postal        string  // postal code
	TimeZone      string  // IANA time zone, e.g. "Europe/London"
	Lat, Lon      float64 // WGS84 coordinates in degrees; valid when HasLocation
	HasLocation   bool
	// AccuracyRadius is the radius in kilometres around (Lat, Lon) in which
	// the address is likely to be, as the database estimates it.
	AccuracyRadius uint16
	ASN            uint32 // autonomous system number
	Org            string // organisation of the AS, or the ISP

	id ID
}

// Found reports whether a database had data for the address.
func (r *Record) Found() bool { return r.Database != "" }

// Known reports whether any field of Record was recognised in the data. A
// record can be Found and not Known when the database uses a schema this
// package does not know: decode it generically with DB.Decode.
func (r *Record) Known() bool {
	return r.CountryCode != "" || r.Country != "" || r.ContinentCode != "" || r.Region != "" ||
		r.City != "" || r.Postal != "" || r.TimeZone != "" || r.HasLocation || r.ASN != 0 || r.Org != ""
}

// ID identifies the data a Record was built from: two Records with equal IDs
// (from the same DB or Enricher) have equal fields except Network. It is
// meant as a cache key for rendered output. The zero ID identifies nothing
// and must not be cached on.
func (r *Record) ID() ID { return r.id }

// Hash returns a hash of id, for caches indexed by ID.
func (id ID) Hash() uint64 {
	h := uint64(0x9E3779B97F4A7C15)
	for _, p := range id.parts {
		h = (h ^ p) * 0xBF58476D1CE4E5B9
		h ^= h >> 31
	}
	return h
}

// ID is the comparable identity of a record's data, see Record.ID.
type ID struct {
	// parts holds, for each database consulted, its generation in the high
	// 32 bits and the data offset + 1 in the low 32 (0: no data).
	parts [maxIDParts]uint64
}

// maxIDParts is the number of databases whose answers an ID can name; an
// Enricher over more databases returns zero IDs.
const maxIDParts = 4

// wire is the union of the schemas this package understands: MaxMind's
// GeoIP2/GeoLite2 (nested maps: country.iso_code, city.names.en,
// location.latitude), their ASN and ISP databases (autonomous_system_number
// at the top level or under traits), and the flat schemas of ip-location-db
// and ipinfo (country_code, city, latitude, state1, asn "AS15169"). Keys
// that several schemas use with different types (city, country, continent)
// go through place, which accepts either a map or a string. Keys it does
// not know are skipped. It decodes itself with a cursor walk (see
// UnmarshalMaxMindDBCursor), about five times faster than reflection.
type wire struct {
	Country           place
	RegisteredCountry place
	CountryCode       string
	CountryName       string
	Continent         place
	City              place
	Subdivisions      firstPlace
	State1            string
	Postal            place
	Postcode          string
	Timezone          string
	Location          location
	Latitude          optFloat
	Longitude         optFloat
	ASN               asnNumber
	ASOrg             string
	ASNFlat           asnNumber
	ASName            string
	ISP               string
	Organization      string
	Traits            struct {
		ASN          asnNumber
		ASOrg        string
		ISP          string
		Organization string
	}
}

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler: one walk
// over the record's top-level map, at most three levels deep.
func (w *wire) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	return readMap(c, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		switch string(key) {
		case "country":
			return w.Country.UnmarshalMaxMindDBCursor(v)
		case "registered_country":
			return w.RegisteredCountry.UnmarshalMaxMindDBCursor(v)
		case "continent":
			return w.Continent.UnmarshalMaxMindDBCursor(v)
		case "city":
			return w.City.UnmarshalMaxMindDBCursor(v)
		case "postal":
			return w.Postal.UnmarshalMaxMindDBCursor(v)
		case "subdivisions":
			return w.Subdivisions.UnmarshalMaxMindDBCursor(v)
		case "country_code":
			return readStringOrSkip(v, &w.CountryCode)
		case "country_name":
			return readStringOrSkip(v, &w.CountryName)
		case "state1":
			return readStringOrSkip(v, &w.State1)
		case "postcode":
			return readStringOrSkip(v, &w.Postcode)
		case "timezone":
			return readStringOrSkip(v, &w.Timezone)
		case "latitude":
			return w.Latitude.UnmarshalMaxMindDBCursor(v)
		case "longitude":
			return w.Longitude.UnmarshalMaxMindDBCursor(v)
		case "autonomous_system_number":
			return w.ASN.UnmarshalMaxMindDBCursor(v)
		case "autonomous_system_organization":
			return readStringOrSkip(v, &w.ASOrg)
		case "asn":
			return w.ASNFlat.UnmarshalMaxMindDBCursor(v)
		case "as_name":
			return readStringOrSkip(v, &w.ASName)
		case "isp":
			return readStringOrSkip(v, &w.ISP)
		case "organization":
			return readStringOrSkip(v, &w.Organization)
		case "location":
			return readMap(v, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
				switch string(key) {
				case "latitude":
					return w.Location.Latitude.UnmarshalMaxMindDBCursor(v)
				case "longitude":
					return w.Location.Longitude.UnmarshalMaxMindDBCursor(v)
				case "accuracy_radius":
					var a asnNumber
					next, err := a.UnmarshalMaxMindDBCursor(v)
					w.Location.AccuracyRadius = uint16(min(a, 1<<16-1))
					return next, err
				case "time_zone":
					return readStringOrSkip(v, &w.Location.TimeZone)
				}
				return v.Skip()
			})
		case "traits":
			t := &w.Traits
			return readMap(v, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
				switch string(key) {
				case "autonomous_system_number":
					return t.ASN.UnmarshalMaxMindDBCursor(v)
				case "autonomous_system_organization":
					return readStringOrSkip(v, &t.ASOrg)
				case "isp":
					return readStringOrSkip(v, &t.ISP)
				case "organization":
					return readStringOrSkip(v, &t.Organization)
				}
				return v.Skip()
			})
		}
		return v.Skip()
	})
}

type location struct {
	Latitude       optFloat
	Longitude      optFloat
	AccuracyRadius uint16
	TimeZone       string
}

// record reduces w to a Record (without Network, Database and id).
func (w *wire) record() Record {
	var r Record
	r.CountryCode = first(w.Country.code, w.CountryCode, w.RegisteredCountry.code)
	r.Country = first(w.Country.name, w.CountryName)
	if r.Country == "" && r.CountryCode == w.RegisteredCountry.code {
		r.Country = w.RegisteredCountry.name
	}
	if r.Country == "" && r.CountryCode != "" && w.CountryCode != "" {
		// A flat database gives the code only.
		r.Country = countryNames[r.CountryCode]
	}
	r.ContinentCode = w.Continent.code
	r.Region = first(w.Subdivisions.name, w.Subdivisions.code)
	r.Region = first(r.Region, w.State1)
	// A flat "city" is a string, which place keeps in code.
	r.City = first(w.City.name, w.City.code)
	r.Postal = first(w.Postal.code, w.Postcode)
	r.TimeZone = first(w.Location.TimeZone, w.Timezone)
	switch {
	case w.Location.Latitude.ok && w.Location.Longitude.ok:
		r.Lat, r.Lon, r.HasLocation = w.Location.Latitude.v, w.Location.Longitude.v, true
	case w.Latitude.ok && w.Longitude.ok:
		r.Lat, r.Lon, r.HasLocation = w.Latitude.v, w.Longitude.v, true
	}
	r.AccuracyRadius = w.Location.AccuracyRadius
	r.ASN = uint32(firstNonZero(w.ASN, w.Traits.ASN, w.ASNFlat))
	r.Org = first(w.ASOrg, w.Traits.ASOrg, w.ASName, w.ISP, w.Traits.ISP, w.Organization, w.Traits.Organization)
	return r
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstNonZero(s ...asnNumber) asnNumber {
	for _, v := range s {
		if v != 0 {
			return v
		}
	}
	return 0
}

// place is a country, continent, city, subdivision or postal entry: either a
// MaxMind map (iso_code or code, names.en) or a bare string (kept in code).
// Any other kind of value is skipped, so an unexpected schema degrades to
// empty fields rather than an error.
type place struct {
	code, name string
	// cache, when set, holds places already decoded, by data offset:
	// records share their country, continent and city maps through
	// pointers, and decoding a names map costs more than the rest.
	cache *placeCache
}

// placeCache is a direct-mapped, lock-free cache of decoded places.
type placeCache struct {
	slots []atomic.Pointer[placeEntry]
	shift uint
}

func newPlaceCache(bits uint) *placeCache {
	return &placeCache{slots: make([]atomic.Pointer[placeEntry], 1<<bits), shift: 64 - bits}
}

type placeEntry struct {
	offset     uint
	code, name string
}

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (p *place) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind == mmdbdata.KindMap && p.cache != nil {
		off, err := c.Offset()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		slot := &p.cache.slots[(uint64(off)*0x9E3779B97F4A7C15)>>p.cache.shift]
		if e := slot.Load(); e != nil && e.offset == off {
			p.code, p.name = e.code, e.name
			return c.Skip()
		}
		cache := p.cache
		p.cache = nil
		next, err := p.UnmarshalMaxMindDBCursor(c)
		p.cache = cache
		if err == nil {
			slot.Store(&placeEntry{off, p.code, p.name})
		}
		return next, err
	}
	switch kind {
	case mmdbdata.KindString:
		s, next, err := c.ReadString()
		p.code = s
		return next, err
	case mmdbdata.KindMap:
		return readMap(c, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
			switch string(key) {
			case "iso_code", "code":
				return readStringOrSkip(v, &p.code)
			case "names":
				return readMap(v, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
					if string(key) == "en" {
						return readStringOrSkip(v, &p.name)
					}
					return v.Skip()
				})
			}
			return v.Skip()
		})
	}
	return c.Skip()
}

// firstPlace is the first place of an array (the largest subdivision of
// GeoIP2's "subdivisions"); the others are skipped.
type firstPlace struct{ place }

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (p *firstPlace) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind != mmdbdata.KindSlice {
		return c.Skip()
	}
	sc, err := c.Slice()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		i, v, ok := sc.Next(next)
		if !ok {
			break
		}
		if i == 0 {
			next, err = p.place.UnmarshalMaxMindDBCursor(v)
		} else {
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return sc.End()
}

// readMap walks the map at c, calling f for each entry; f returns the
// successor of the value it was given.
func readMap(c mmdbdata.Cursor, f func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error)) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind != mmdbdata.KindMap {
		return c.Skip()
	}
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		if next, err = f(key, v); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

func readStringOrSkip(c mmdbdata.Cursor, dst *string) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind != mmdbdata.KindString {
		return c.Skip()
	}
	s, next, err := c.ReadString()
	*dst = s
	return next, err
}

// optFloat is a float that remembers whether it was present (0,0 is a place
// in the Gulf of Guinea). It accepts either float kind and integers.
type optFloat struct {
	v  float64
	ok bool
}

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (f *optFloat) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	switch kind {
	case mmdbdata.KindFloat32, mmdbdata.KindFloat64:
		v, next, err := c.ReadFloat()
		f.v, f.ok = v, err == nil
		return next, err
	case mmdbdata.KindString:
		s, next, err := c.ReadString()
		if v, perr := strconv.ParseFloat(s, 64); perr == nil {
			f.v, f.ok = v, true
		}
		return next, err
	}
	return c.Skip()
}

// asnNumber is an AS number given as an integer (MaxMind) or a string such
// as "AS15169" (ipinfo).
type asnNumber uint64

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (a *asnNumber) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	switch kind {
	case mmdbdata.KindUint16, mmdbdata.KindUint32, mmdbdata.KindUint64:
		v, next, err := c.ReadUint()
		if err == nil && v <= 1<<32-1 {
			*a = asnNumber(v)
		}
		return next, err
	case mmdbdata.KindString:
		s, next, err := c.ReadString()
		s = strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
		if v, perr := strconv.ParseUint(s, 10, 32); perr == nil {
			*a = asnNumber(v)
		}
		return next, err
	}
	return c.Skip()
}
