package geo

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
)

// Enricher answers from several databases at once, as one Record: each
// field comes from the first database, in the order given, that has it. A
// City database followed by an ASN database thus gives the city and the AS
// of an address; a fallback (such as Embedded) last fills in the country
// when the others have no data. It is what trace (per hop) and analyze (per
// endpoint) use.
//
// An Enricher is safe for concurrent use; it does not own its databases.
type Enricher struct {
	dbs []*DB
	// names[mask] is the Record.Database of an answer from the databases
	// whose bits are set in mask (for the first maxIDParts databases).
	names []string
}

// NewEnricher returns an Enricher over dbs, in order of preference.
func NewEnricher(dbs ...*DB) *Enricher {
	e := &Enricher{dbs: dbs}
	if n := len(dbs); n <= maxIDParts {
		e.names = make([]string, 1<<n)
		for mask := range e.names {
			var parts []string
			for i, db := range dbs {
				if mask&(1<<i) != 0 {
					parts = append(parts, db.name)
				}
			}
			e.names[mask] = strings.Join(parts, "+")
		}
	}
	return e
}

// DBs returns the databases of e, in order of preference.
func (e *Enricher) DBs() []*DB { return slices.Clone(e.dbs) }

// Lookup returns the merged answer of e's databases for addr. Network is
// that of the first database that had data (or of the first database when
// none had). An error from one database does not stop the others: the
// merged answer of the rest is returned along with the errors joined. It
// does not allocate when every answer is cached and e has at most four
// databases.
func (e *Enricher) Lookup(addr netip.Addr) (Record, error) {
	if len(e.dbs) == 1 {
		return e.dbs[0].Lookup(addr)
	}
	var out Record
	var errs []error
	var mask int
	var extra []string
	for i, db := range e.dbs {
		r, err := db.Lookup(addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i == 0 || !out.Network.IsValid() {
			out.Network = r.Network
		}
		if !r.Found() {
			continue
		}
		if mask == 0 && len(extra) == 0 {
			out.Network = r.Network
		}
		if !merge(&out, &r) && (mask != 0 || len(extra) != 0) {
			continue // contributed nothing new
		}
		if i < maxIDParts {
			mask |= 1 << i
			out.id.parts[i] = r.id.parts[0]
		} else {
			extra = append(extra, db.name)
		}
	}
	switch {
	case e.names != nil:
		out.Database = e.names[mask]
	case mask != 0 || len(extra) != 0:
		var parts []string
		for i := range min(len(e.dbs), maxIDParts) {
			if mask&(1<<i) != 0 {
				parts = append(parts, e.dbs[i].name)
			}
		}
		out.Database = strings.Join(append(parts, extra...), "+")
	}
	if len(e.dbs) > maxIDParts {
		out.id = ID{}
	}
	return out, errors.Join(errs...)
}

// merge fills the empty fields of dst from src and reports whether it
// filled any.
func merge(dst, src *Record) bool {
	filled := false
	str := func(d *string, s string) {
		if *d == "" && s != "" {
			*d = s
			filled = true
		}
	}
	str(&dst.CountryCode, src.CountryCode)
	if dst.CountryCode == src.CountryCode {
		str(&dst.Country, src.Country)
		str(&dst.ContinentCode, src.ContinentCode)
	}
	str(&dst.Region, src.Region)
	str(&dst.City, src.City)
	str(&dst.Postal, src.Postal)
	str(&dst.TimeZone, src.TimeZone)
	if !dst.HasLocation && src.HasLocation {
		dst.Lat, dst.Lon, dst.HasLocation, dst.AccuracyRadius = src.Lat, src.Lon, true, src.AccuracyRadius
		filled = true
	}
	if dst.ASN == 0 && src.ASN != 0 {
		dst.ASN = src.ASN
		filled = true
		if src.Org != "" {
			dst.Org = src.Org // the organisation goes with its AS number
		}
	}
	str(&dst.Org, src.Org)
	return filled
}
