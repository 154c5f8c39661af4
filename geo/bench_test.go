package geo

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
)

// benchAddrs returns n random addresses, 90% IPv4.
func benchAddrs(n int) []netip.Addr {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]netip.Addr, n)
	for i := range out {
		if r.IntN(10) < 9 {
			out[i] = netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
		} else {
			var b [16]byte
			b[0] = 0x20 | byte(r.IntN(16))
			for j := 1; j < 8; j++ {
				b[j] = byte(r.Uint32())
			}
			out[i] = netip.AddrFrom16(b)
		}
	}
	return out
}

func benchLookup(b *testing.B, db *DB) {
	addrs := benchAddrs(1 << 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		db.Lookup(addrs[i&(len(addrs)-1)])
		i++
	}
}

func BenchmarkLookupEmbedded(b *testing.B) {
	db, err := Embedded()
	if err != nil {
		b.Fatal(err)
	}
	benchLookup(b, db)
}

func BenchmarkLookupCityTest(b *testing.B) { benchLookup(b, openTest(b, "GeoIP2-City-Test.mmdb")) }

// BenchmarkLookupCity uses a full-size City database named by
// $SONDE_GEO_CITY (bench/geo.sh downloads GeoLite2-City).
func BenchmarkLookupCity(b *testing.B) {
	p := os.Getenv("SONDE_GEO_CITY")
	if p == "" {
		b.Skip("set SONDE_GEO_CITY to a full-size City mmdb (bench/geo.sh fetches one)")
	}
	db, err := Open(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchLookup(b, db)
}

func BenchmarkEnricher(b *testing.B) {
	e := NewEnricher(openTest(b, "GeoIP2-City-Test.mmdb"), openTest(b, "GeoLite2-ASN-Test.mmdb"))
	a := netip.MustParseAddr("89.160.20.112")
	b.ReportAllocs()
	for b.Loop() {
		e.Lookup(a)
	}
}

func BenchmarkParseAddr(b *testing.B) {
	line := []byte("203.0.113.195")
	b.ReportAllocs()
	for b.Loop() {
		ParseAddr(line)
	}
}

func BenchmarkAppendAddrs(b *testing.B) {
	text := []byte(`203.0.113.9 - - [28/Nov/2026:04:58:52 +0000] "GET / HTTP/1.1" 200 from 10.1.2.3`)
	dst := make([]netip.Addr, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		dst = AppendAddrs(dst[:0], text)
	}
}
