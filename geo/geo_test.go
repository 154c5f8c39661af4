package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const testData = "testdata/maxmind/test-data/"

func openTest(t testing.TB, name string) *DB {
	t.Helper()
	db, err := Open(testData+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sourceEntry is one network of a MaxMind source-data JSON file.
type sourceEntry struct {
	prefix netip.Prefix
	data   map[string]any
}

func readSource(t *testing.T, name string) []sourceEntry {
	t.Helper()
	b, err := os.ReadFile("testdata/maxmind/source-data/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var out []sourceEntry
	for _, m := range raw {
		for k, v := range m {
			out = append(out, sourceEntry{netip.MustParsePrefix(k), v})
		}
	}
	return out
}

// path walks a decoded JSON value along keys (strings) and indices (ints).
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func str(v any, keys ...any) string {
	s, _ := path(v, keys...).(string)
	return s
}

// expected reads the MaxMind source JSON of a network the way the GeoIP2
// documentation describes its fields: the reference for Lookup.
func expected(m map[string]any) Record {
	var r Record
	r.CountryCode = str(m, "country", "iso_code")
	r.Country = str(m, "country", "names", "en")
	if r.CountryCode == "" {
		r.CountryCode = str(m, "registered_country", "iso_code")
		r.Country = str(m, "registered_country", "names", "en")
	}
	r.ContinentCode = str(m, "continent", "code")
	r.Region = str(m, "subdivisions", 0, "names", "en")
	if r.Region == "" {
		r.Region = str(m, "subdivisions", 0, "iso_code")
	}
	r.City = str(m, "city", "names", "en")
	r.Postal = str(m, "postal", "code")
	r.TimeZone = str(m, "location", "time_zone")
	lat, ok1 := path(m, "location", "latitude").(float64)
	lon, ok2 := path(m, "location", "longitude").(float64)
	if ok1 && ok2 {
		r.Lat, r.Lon, r.HasLocation = lat, lon, true
	}
	if a, ok := path(m, "location", "accuracy_radius").(float64); ok {
		r.AccuracyRadius = uint16(a)
	}
	for _, p := range [][]any{{"autonomous_system_number"}, {"traits", "autonomous_system_number"}} {
		if a, ok := path(m, p...).(float64); ok && r.ASN == 0 {
			r.ASN = uint32(a)
		}
	}
	for _, p := range [][]any{{"autonomous_system_organization"}, {"traits", "autonomous_system_organization"}, {"isp"}, {"traits", "isp"}, {"organization"}, {"traits", "organization"}} {
		if s := str(m, p...); s != "" && r.Org == "" {
			r.Org = s
		}
	}
	return r
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	host := p.Addr().BitLen() - p.Bits()
	for i := 15; host > 0; i-- {
		n := min(host, 8)
		b[i] |= byte(1<<n - 1)
		host -= n
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}

// to128 maps IPv4 into ::/96, where an IPv6 MaxMind DB keeps its IPv4
// tree.
func to128(a netip.Addr) netip.Addr {
	if a.Is4() {
		b := a.As4()
		return netip.AddrFrom16([16]byte{12: b[0], 13: b[1], 14: b[2], 15: b[3]})
	}
	return a
}

// mostSpecific returns the entry of src with the longest prefix holding a.
func mostSpecific(src []sourceEntry, a netip.Addr) (sourceEntry, bool) {
	var best sourceEntry
	bestBits := -1
	a = to128(a)
	for _, e := range src {
		bits := e.prefix.Bits()
		if e.prefix.Addr().Is4() {
			bits += 96
		}
		p := netip.PrefixFrom(to128(e.prefix.Addr()), bits)
		if p.Contains(a) && bits > bestBits {
			best, bestBits = e, bits
		}
	}
	return best, bestBits >= 0
}

var ignoreMeta = cmpopts.IgnoreFields(Record{}, "Network", "Database", "id")

func TestLookupMatchesSourceData(t *testing.T) {
	for _, tc := range []struct{ db, src string }{
		{"GeoIP2-City-Test.mmdb", "GeoIP2-City-Test.json"},
		{"GeoIP2-Country-Test.mmdb", "GeoIP2-Country-Test.json"},
		{"GeoLite2-ASN-Test.mmdb", "GeoLite2-ASN-Test.json"},
		{"GeoIP2-ISP-Test.mmdb", "GeoIP2-ISP-Test.json"},
	} {
		t.Run(tc.db, func(t *testing.T) {
			db := openTest(t, tc.db)
			src := readSource(t, tc.src)
			checked := 0
			for _, e := range src {
				// The first and the last address of each network.
				last := lastAddr(e.prefix)
				for _, a := range []netip.Addr{e.prefix.Addr(), last} {
					want, ok := mostSpecific(src, a)
					if !ok {
						continue
					}
					got, err := db.Lookup(a)
					if err != nil {
						t.Fatalf("Lookup(%s): %v", a, err)
					}
					if !got.Found() {
						t.Errorf("Lookup(%s): not found, want the data of %s", a, want.prefix)
						continue
					}
					if d := cmp.Diff(expected(want.data), got, ignoreMeta); d != "" {
						t.Errorf("Lookup(%s) (-want +got):\n%s", a, d)
					}
					// The writer merges neighbours with equal data, so the
					// network may be wider than the source's: its first
					// address must have the same data.
					w0, _ := mostSpecific(src, got.Network.Addr())
					if !got.Network.Contains(a) || cmp.Diff(expected(w0.data), expected(want.data), ignoreMeta) != "" {
						t.Errorf("Lookup(%s).Network = %s, want a network with the data of %s", a, got.Network, want.prefix)
					}
					if got.Database != strings.TrimSuffix(tc.db, ".mmdb") {
						t.Errorf("Lookup(%s).Database = %q", a, got.Database)
					}
					checked++
				}
			}
			if checked < len(src) {
				t.Fatalf("checked %d addresses for %d networks", checked, len(src))
			}
		})
	}
}

func TestLookupNotFound(t *testing.T) {
	db := openTest(t, "GeoIP2-City-Test.mmdb")
	for _, s := range []string{"10.0.0.1", "127.0.0.1", "::1", "fe80::1%eth0"} {
		r, err := db.Lookup(netip.MustParseAddr(s))
		if err != nil || r.Found() || r.Known() {
			t.Errorf("Lookup(%s) = %+v, %v; want not found", s, r, err)
		}
		if !r.Network.Contains(netip.MustParseAddr(s).WithZone("")) {
			t.Errorf("Lookup(%s).Network = %s, does not hold it", s, r.Network)
		}
	}
}

// TestGenericDecode checks the generic view of a schema Record does not know.
func TestGenericDecode(t *testing.T) {
	db := openTest(t, "GeoIP2-Domain-Test.mmdb")
	src := readSource(t, "GeoIP2-Domain-Test.json")
	for _, e := range src {
		a := e.prefix.Addr()
		want, _ := mostSpecific(src, a)
		r, err := db.Lookup(a)
		if err != nil || !r.Found() || r.Known() {
			t.Fatalf("Lookup(%s) = %+v, %v; want found and not known", a, r, err)
		}
		var got any
		p, ok, err := db.Decode(a, &got)
		if err != nil || !ok || !p.Contains(a) {
			t.Fatalf("Decode(%s) = %s, %v, %v", a, p, ok, err)
		}
		if d := cmp.Diff(any(want.data), got); d != "" {
			t.Errorf("Decode(%s) (-want +got):\n%s", a, d)
		}
	}
}

func TestFlatSchema(t *testing.T) {
	db, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if db.Info().Name != EmbeddedName || db.Info().Type == "" {
		t.Errorf("Info() = %+v", db.Info())
	}
	n := 0
	for rec, err := range db.Networks(netip.MustParsePrefix("1.0.0.0/8")) {
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		_, ok, err := db.Decode(rec.Network.Addr(), &raw)
		if err != nil || !ok {
			t.Fatalf("Decode(%s) = %v, %v", rec.Network, ok, err)
		}
		got, err := db.Lookup(rec.Network.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if name, ok := countryNames[got.CountryCode]; ok && got.Country != name {
			t.Fatalf("Lookup(%s).Country = %q, want %q for %s", rec.Network.Addr(), got.Country, name, got.CountryCode)
		}
		if got.CountryCode == "" || got.CountryCode != raw["country_code"] || got.Network != rec.Network || got.Database != EmbeddedName {
			t.Fatalf("Lookup(%s) = %+v; raw record %v, network %s", rec.Network.Addr(), got, raw, rec.Network)
		}
		n++
	}
	if n < 100 {
		t.Errorf("only %d networks in 1.0.0.0/8", n)
	}
	// IPv6 too.
	r, err := db.Lookup(netip.MustParseAddr("2001:4860:4860::8888"))
	if err != nil || len(r.CountryCode) != 2 {
		t.Errorf("IPv6 lookup = %+v, %v", r, err)
	}
}

func TestNetworks(t *testing.T) {
	db := openTest(t, "GeoLite2-ASN-Test.mmdb")
	src := readSource(t, "GeoLite2-ASN-Test.json")
	within := netip.MustParsePrefix("12.81.0.0/16")
	var want []string
	for _, e := range src {
		if within.Overlaps(e.prefix) && e.prefix.Bits() >= within.Bits() {
			want = append(want, e.prefix.String())
		}
	}
	var got []string
	for r, err := range db.Networks(within) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Network.String())
		if w, _ := mostSpecific(src, r.Network.Addr()); r.ASN != uint32(w.data["autonomous_system_number"].(float64)) {
			t.Errorf("%s: ASN %d, want %v", r.Network, r.ASN, w.data)
		}
	}
	if len(want) == 0 {
		t.Fatal("no source networks in", within)
	}
	if d := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("Networks(%s) (-want +got):\n%s", within, d)
	}
}

func TestEnricher(t *testing.T) {
	city := openTest(t, "GeoIP2-City-Test.mmdb")
	asn := openTest(t, "GeoLite2-ASN-Test.mmdb")
	e := NewEnricher(city, asn)
	citySrc := readSource(t, "GeoIP2-City-Test.json")
	asnSrc := readSource(t, "GeoLite2-ASN-Test.json")
	both := 0
	for _, ce := range citySrc {
		a := ce.prefix.Addr()
		cw, _ := mostSpecific(citySrc, a)
		aw, inASN := mostSpecific(asnSrc, a)
		got, err := e.Lookup(a)
		if err != nil {
			t.Fatal(err)
		}
		want := expected(cw.data)
		wantDB := "GeoIP2-City-Test"
		if inASN {
			as := expected(aw.data)
			if want.ASN == 0 {
				want.ASN, want.Org = as.ASN, as.Org
				wantDB += "+GeoLite2-ASN-Test"
				both++
			}
		}
		if d := cmp.Diff(want, got, ignoreMeta); d != "" {
			t.Errorf("Lookup(%s) (-want +got):\n%s", a, d)
		}
		if got.Database != wantDB {
			t.Errorf("Lookup(%s).Database = %q, want %q", a, got.Database, wantDB)
		}
		again, _ := e.Lookup(a)
		if again.ID() != got.ID() || got.ID() == (ID{}) {
			t.Errorf("Lookup(%s): IDs %v and %v", a, got.ID(), again.ID())
		}
	}
	if both == 0 {
		t.Fatal("no address is in both test databases: the test checks no merge")
	}
	// An address in neither.
	r, err := e.Lookup(netip.MustParseAddr("10.1.2.3"))
	if err != nil || r.Found() || !r.Network.IsValid() {
		t.Errorf("Lookup(10.1.2.3) = %+v, %v", r, err)
	}
}

func TestIDsDiffer(t *testing.T) {
	db := openTest(t, "GeoIP2-City-Test.mmdb")
	seen := map[ID]Record{}
	for _, e := range readSource(t, "GeoIP2-City-Test.json") {
		r, err := db.Lookup(e.prefix.Addr())
		if err != nil || !r.Found() {
			continue
		}
		if prev, ok := seen[r.ID()]; ok && cmp.Diff(prev, r, ignoreMeta) != "" {
			t.Fatalf("same ID for different records %+v and %+v", prev, r)
		}
		seen[r.ID()] = r
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct IDs", len(seen))
	}
}

func TestLookupAllocs(t *testing.T) {
	city := openTest(t, "GeoIP2-City-Test.mmdb")
	asn := openTest(t, "GeoLite2-ASN-Test.mmdb")
	e := NewEnricher(city, asn)
	a := netip.MustParseAddr("81.2.69.160")
	if r, err := e.Lookup(a); err != nil || !r.Found() {
		t.Fatalf("Lookup(%s) = %+v, %v", a, r, err)
	}
	if n := testing.AllocsPerRun(1000, func() { city.Lookup(a) }); n != 0 {
		t.Errorf("DB.Lookup: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { e.Lookup(a) }); n != 0 {
		t.Errorf("Enricher.Lookup: %v allocations, want 0", n)
	}
	var b [4]byte
	if n := testing.AllocsPerRun(1000, func() { copy(b[:], "1.2."); ParseAddr([]byte("192.168.100.200")) }); n != 0 {
		t.Errorf("ParseAddr(IPv4): %v allocations, want 0", n)
	}
}

// badFiles lists the deliberately broken databases.
func badFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/maxmind/bad-data/*/*.mmdb")
	if err != nil || len(files) == 0 {
		t.Fatal("no bad-data files", err)
	}
	for _, n := range []string{"MaxMind-DB-test-broken-pointers-24.mmdb", "MaxMind-DB-test-broken-search-tree-24.mmdb", "GeoIP2-City-Test-Broken-Double-Format.mmdb", "GeoIP2-City-Test-Invalid-Node-Count.mmdb"} {
		files = append(files, testData+n)
	}
	return files
}

// probeAll exercises db on many addresses and networks; every error must
// wrap ErrInvalidDatabase.
func probeAll(t *testing.T, name string, db *DB) (errs int) {
	check := func(err error) {
		if err != nil {
			errs++
			if !errors.Is(err, ErrInvalidDatabase) {
				t.Errorf("%s: error does not wrap ErrInvalidDatabase: %v", name, err)
			}
		}
	}
	for i := range 64 {
		a4 := netip.AddrFrom4([4]byte{byte(i * 37), byte(i), byte(i * 7), 1})
		_, err := db.Lookup(a4)
		check(err)
		var v any
		_, _, err = db.Decode(a4, &v)
		check(err)
		a6 := netip.AddrFrom16([16]byte{0x20, 0x01, byte(i), byte(i * 3), 15: 1})
		_, err = db.Lookup(a6)
		check(err)
	}
	n := 0
	for _, err := range db.Networks(netip.MustParsePrefix("::/0")) {
		check(err)
		if n++; n > 10000 {
			break
		}
	}
	return errs
}

func TestBrokenDatabases(t *testing.T) {
	for _, f := range badFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			db, err := Open(f, nil)
			if err != nil {
				if !errors.Is(err, ErrInvalidDatabase) {
					t.Fatalf("Open: %v does not wrap ErrInvalidDatabase", err)
				}
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Open: %q does not name the file", err)
				}
				return
			}
			errs := probeAll(t, f, db)
			t.Logf("opened; %d lookups failed", errs)
		})
	}
}

func TestNotMMDB(t *testing.T) {
	dir := t.TempDir()
	city, err := os.ReadFile(testData + "GeoIP2-City-Test.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"empty":    nil,
		"text":     []byte("this is not a database\n"),
		"json":     []byte(`{"country_code":"US"}`),
		"gzip":     {0x1f, 0x8b, 8, 0, 0, 0, 0, 0},
		"headonly": city[:len(city)/2],
	}
	for _, cut := range []int{1, 10, 100, 1000, 4000} {
		files[fmt.Sprintf("truncated-%d", cut)] = city[:len(city)-cut]
	}
	for name, b := range files {
		p := filepath.Join(dir, name+".mmdb")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := Open(p, nil)
		if err == nil {
			// A file cut inside its data section can still open; then
			// lookups must fail cleanly.
			probeAll(t, name, db)
			continue
		}
		if !errors.Is(err, ErrInvalidDatabase) {
			t.Errorf("%s: Open error %v does not wrap ErrInvalidDatabase", name, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.mmdb"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	if _, err := Open(dir, nil); !errors.Is(err, ErrInvalidDatabase) {
		t.Errorf("Open(dir) = %v, want ErrInvalidDatabase", err)
	}
}

func FuzzOpenBytes(f *testing.F) {
	files, _ := filepath.Glob(testData + "*.mmdb")
	bad, _ := filepath.Glob("testdata/maxmind/bad-data/*/*.mmdb")
	for _, p := range append(files, bad...) {
		b, err := os.ReadFile(p)
		if err == nil && len(b) < 32<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := OpenBytes(b, "fuzz")
		if err != nil {
			if !errors.Is(err, ErrInvalidDatabase) {
				t.Fatalf("error %v does not wrap ErrInvalidDatabase", err)
			}
			return
		}
		for _, s := range []string{"1.1.1.1", "81.2.69.160", "::1.2.3.4", "2001:218::1", "255.255.255.255"} {
			db.Lookup(netip.MustParseAddr(s))
			var v any
			db.Decode(netip.MustParseAddr(s), &v)
		}
		// A damaged tree can make the networks of a wide prefix endless
		// (nodes that point back up the tree), as in every mmdb reader:
		// walk narrow ones.
		for _, p := range []string{"1.2.3.0/26", "2001:218::/122"} {
			for _, err := range db.Networks(netip.MustParsePrefix(p)) {
				if err != nil && !errors.Is(err, ErrInvalidDatabase) {
					t.Fatalf("Networks(%s): %v does not wrap ErrInvalidDatabase", p, err)
				}
			}
		}
	})
}
