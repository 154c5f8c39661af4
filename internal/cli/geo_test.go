package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sonde/geo"
)

const geoTestData = "../../geo/testdata/maxmind/test-data/"

var (
	cityDB = geoTestData + "GeoIP2-City-Test.mmdb"
	asnDB  = geoTestData + "GeoLite2-ASN-Test.mmdb"
)

func runSonde(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func openGeoTest(t testing.TB, paths ...string) *geo.Enricher {
	t.Helper()
	var dbs []*geo.DB
	for _, p := range paths {
		db, err := geo.Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return geo.NewEnricher(dbs...)
}

// wantJSON is what "sonde geo --json" should print for a, from the library.
func wantJSON(t testing.TB, e *geo.Enricher, a netip.Addr) map[string]any {
	r, err := e.Lookup(a)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"ip": a.String(), "network": r.Network.String()}
	if !r.Found() {
		m["found"] = false
		return m
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("country", r.CountryCode)
	put("country_name", r.Country)
	put("continent", r.ContinentCode)
	put("region", r.Region)
	put("city", r.City)
	put("postal", r.Postal)
	put("timezone", r.TimeZone)
	put("org", r.Org)
	put("db", r.Database)
	if r.HasLocation {
		m["lat"], m["lon"] = r.Lat, r.Lon
	}
	if r.AccuracyRadius != 0 {
		m["accuracy_km"] = float64(r.AccuracyRadius)
	}
	if r.ASN != 0 {
		m["asn"] = float64(r.ASN)
	}
	return m
}

func parseJSONLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

var geoTestAddrs = []string{"81.2.69.160", "89.160.20.112", "2001:218::1", "216.160.83.56", "10.0.0.1", "::1", "2a02:d280::1", "1.128.0.1"}

func TestGeoJSONMatchesLibrary(t *testing.T) {
	e := openGeoTest(t, cityDB, asnDB)
	out, errs, code := runSonde(t, "", append([]string{"geo", "--json", "--db", cityDB, "--db", asnDB}, geoTestAddrs...)...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	got := parseJSONLines(t, out)
	if len(got) != len(geoTestAddrs) {
		t.Fatalf("%d lines for %d addresses:\n%s", len(got), len(geoTestAddrs), out)
	}
	merged := 0
	for i, s := range geoTestAddrs {
		want := wantJSON(t, e, netip.MustParseAddr(s))
		if d := cmp.Diff(want, got[i]); d != "" {
			t.Errorf("%s (-want +got):\n%s", s, d)
		}
		if strings.Contains(fmt.Sprint(got[i]["db"]), "+") {
			merged++
		}
	}
	if merged == 0 {
		t.Error("no answer merged from both databases")
	}
}

func TestGeoBulk(t *testing.T) {
	e := openGeoTest(t, cityDB)
	// Enough lines for several chunks, so that the parallel workers'
	// output order is tested too.
	var in strings.Builder
	var want []map[string]any
	bad := 0
	for i := 0; i < 60000; i++ {
		switch {
		case i%9973 == 5:
			in.WriteString("not-an-address\n")
			bad++
			continue
		case i%5003 == 7:
			in.WriteString("\n# comment\n")
		}
		a := netip.AddrFrom4([4]byte{byte(i >> 8), byte(i), byte(i * 7), byte(i * 13)})
		if i%3 == 0 {
			a = netip.MustParseAddr(geoTestAddrs[i%len(geoTestAddrs)])
		}
		fmt.Fprintf(&in, "  %s \r\n", a)
		want = append(want, wantJSON(t, e, a))
	}
	out, errs, code := runSonde(t, in.String(), "geo", "--json", "--db", cityDB)
	if code != ExitFailure {
		t.Errorf("exit %d with bad lines, want %d", code, ExitFailure)
	}
	got := parseJSONLines(t, out)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("output (-want +got):\n%.3000s", d)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != bad+1 {
		t.Fatalf("stderr has %d lines for %d bad lines:\n%s", len(lines), bad, errs)
	}
	if !strings.Contains(lines[0], `"not-an-address" is not an IP address`) || !strings.HasPrefix(lines[0], "sonde: line ") {
		t.Errorf("bad line message %q", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, strconv.Itoa(bad)+" of ") {
		t.Errorf("last stderr line %q does not count the bad lines", last)
	}
}

func TestGeoGrep(t *testing.T) {
	in := "Nov 28 12:30:45 sshd: Failed password from 81.2.69.160 port 22\nGET [2001:218::1]:443 from 89.160.20.112, 10.0.0.1\nno address here\n"
	out, errs, code := runSonde(t, in, "geo", "--grep", "--csv", "--fields", "ip,country,city", "--db", cityDB)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	e := openGeoTest(t, cityDB)
	want := [][]string{{"ip", "country", "city"}}
	for _, s := range []string{"81.2.69.160", "2001:218::1", "89.160.20.112", "10.0.0.1"} {
		r, _ := e.Lookup(netip.MustParseAddr(s))
		want = append(want, []string{s, r.CountryCode, r.City})
	}
	if d := cmp.Diff(want, recs); d != "" {
		t.Errorf("CSV (-want +got):\n%s", d)
	}
}

func TestGeoSummarize(t *testing.T) {
	var in strings.Builder
	for i := range 500 {
		fmt.Fprintln(&in, geoTestAddrs[i%len(geoTestAddrs)])
	}
	out, errs, code := runSonde(t, in.String(), "geo", "--summarize", "--json", "--db", cityDB, "--db", asnDB)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var s struct {
		Countries []struct {
			Key   string
			Count int
		}
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	var m map[string]any
	json.Unmarshal([]byte(out), &m)
	e := openGeoTest(t, cityDB, asnDB)
	want := map[string]int{}
	found := 0
	for i := range 500 {
		r, _ := e.Lookup(netip.MustParseAddr(geoTestAddrs[i%len(geoTestAddrs)]))
		if r.Found() {
			found++
		}
		if r.CountryCode != "" {
			want[r.CountryCode]++
		}
	}
	got := map[string]int{}
	for _, c := range s.Countries {
		got[c.Key] = c.Count
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("countries (-want +got):\n%s", d)
	}
	if m["addresses"] != float64(500) || m["found"] != float64(found) {
		t.Errorf("summary %v, want 500 addresses, %d found", m, found)
	}
	text, _, code := runSonde(t, in.String(), "geo", "--summarize", "--db", cityDB)
	if code != 0 || !strings.Contains(text, "Top countries:") || !strings.Contains(text, "Addresses: 500") {
		t.Errorf("text summary:\n%s", text)
	}
}

func TestGeoNetworks(t *testing.T) {
	out, errs, code := runSonde(t, "", "geo", "--networks", "1.128.0.0/9", "--json", "--db", asnDB)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	db, err := geo.Open(asnDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for r, err := range db.Networks(netip.MustParsePrefix("1.128.0.0/9")) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.Network.String())
	}
	var got []string
	for _, m := range parseJSONLines(t, out) {
		if _, ok := m["ip"]; ok {
			t.Errorf("--networks line with an ip: %v", m)
		}
		got = append(got, m["network"].(string))
	}
	if len(want) == 0 || !cmp.Equal(want, got) {
		t.Errorf("networks: want %v, got %v", want, got)
	}
}

func TestGeoGeneric(t *testing.T) {
	domain := geoTestData + "GeoIP2-Domain-Test.mmdb"
	db, err := geo.Open(domain, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a netip.Addr
	var raw any
	for r, err := range db.Networks(netip.MustParsePrefix("::/0")) {
		if err != nil {
			t.Fatal(err)
		}
		a = r.Network.Addr()
		db.Decode(a, &raw)
		break
	}
	out, errs, code := runSonde(t, "", "geo", "--json", "--db", domain, a.String())
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	got := parseJSONLines(t, out)
	if len(got) != 1 || !cmp.Equal(got[0]["data"], raw) {
		t.Errorf("generic record: got %v, want data %v", got, raw)
	}
}

func TestGeoErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "text.mmdb")
	os.WriteFile(notDB, []byte("hello\n"), 0o644)
	city, _ := os.ReadFile(cityDB)
	empty := t.TempDir()
	truncated := filepath.Join(dir, "truncated.mmdb")
	os.WriteFile(truncated, city[:len(city)-100], 0o644)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"geo", "--db", notDB, "1.1.1.1"}, notDB},
		{[]string{"geo", "--db", truncated, "1.1.1.1"}, truncated},
		{[]string{"geo", "--db", filepath.Join(dir, "missing.mmdb"), "1.1.1.1"}, "missing.mmdb"},
		{[]string{"geo", "--db", empty, "1.1.1.1"}, "no *.mmdb"},
		{[]string{"geo", "1.1.1.1", "example.com"}, `"example.com" is not an IP address`},
		{[]string{"geo", "--json", "--csv", "1.1.1.1"}, "exclude"},
		{[]string{"geo", "--fields", "ip,bogus", "1.1.1.1"}, `unknown field "bogus"`},
		{[]string{"geo", "--networks", "1.2.3.4", "--db", cityDB}, "not a CIDR prefix"},
	} {
		out, errs, code := runSonde(t, "", tc.args...)
		if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, out, errs, tc.msg)
		}
	}
}

func TestGeoTable(t *testing.T) {
	out, errs, code := runSonde(t, "", "geo", "--db", cityDB, "--db", asnDB, "81.2.69.160", "89.160.20.112", "10.0.0.1")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "IP ") {
		t.Fatalf("table:\n%s", out)
	}
	e := openGeoTest(t, cityDB, asnDB)
	for i, s := range []string{"81.2.69.160", "89.160.20.112"} {
		r, _ := e.Lookup(netip.MustParseAddr(s))
		for _, v := range []string{s, r.CountryCode + " " + r.Country, r.City, r.Network.String(), r.Database} {
			if !strings.Contains(lines[i+1], v) {
				t.Errorf("row %q lacks %q", lines[i+1], v)
			}
		}
	}
	if f := strings.Fields(lines[3]); f[0] != "10.0.0.1" || f[len(f)-1] != "-" {
		t.Errorf("not-found row %q", lines[3])
	}
}

// TestGeoRenderAllocs proves the JSON render path allocates nothing once a
// record is cached.
func TestGeoRenderAllocs(t *testing.T) {
	r, rec, a := newTestRenderer(t)
	r.row(a, &rec)
	if n := testing.AllocsPerRun(1000, func() { r.row(a, &rec) }); n != 0 {
		t.Errorf("row: %v allocations, want 0", n)
	}
}

func newTestRenderer(t testing.TB) (*geoRenderer, geo.Record, netip.Addr) {
	e := openGeoTest(t, cityDB, asnDB)
	a := netip.MustParseAddr("89.160.20.112")
	rec, err := e.Lookup(a)
	if err != nil {
		t.Fatal(err)
	}
	r := &geoRenderer{enr: e, json: true, w: bufio.NewWriter(io.Discard),
		fields: []geoField{fIP, fNetwork, fCountry, fCountryName, fContinent, fRegion, fCity, fPostal, fTimeZone, fLat, fLon, fAccuracy, fASN, fOrg, fDB, fData}}
	r.init()
	return r, rec, a
}

func BenchmarkGeoRender(b *testing.B) {
	r, rec, a := newTestRenderer(b)
	b.ReportAllocs()
	for b.Loop() {
		r.row(a, &rec)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestGeoStreaming checks that input trickling in (tail -f | sonde geo) is
// answered line by line, not when the input ends.
func TestGeoStreaming(t *testing.T) {
	pr, pw := io.Pipe()
	outc := make(chan string, 100)
	w := writerFunc(func(b []byte) (int, error) { outc <- string(b); return len(b), nil })
	done := make(chan int)
	go func() {
		done <- Main(context.Background(), []string{"geo", "--json", "--db", cityDB}, pr, w, io.Discard)
	}()
	for _, a := range []string{"81.2.69.142", "2001:218::1"} {
		if _, err := pw.Write([]byte(a + "\n")); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-outc:
			if !strings.Contains(s, `"ip":"`+a+`"`) {
				t.Errorf("output %q for %s", s, a)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no output for %s before the input ended", a)
		}
	}
	pw.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
}
