package geo_test

import (
	"fmt"
	"net/netip"

	"sonde/geo"
)

func ExampleDB_Lookup() {
	db, err := geo.Open("testdata/maxmind/test-data/GeoIP2-City-Test.mmdb", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	r, err := db.Lookup(netip.MustParseAddr("81.2.69.160"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.CountryCode, r.Country, r.City, r.Lat, r.Lon, r.Network, r.Database)
	// Output: GB United Kingdom London 51.5142 -0.0931 81.2.69.160/27 GeoIP2-City-Test
}

func ExampleEnricher() {
	city, err := geo.Open("testdata/maxmind/test-data/GeoIP2-City-Test.mmdb", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	asn, err := geo.Open("testdata/maxmind/test-data/GeoLite2-ASN-Test.mmdb", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	e := geo.NewEnricher(city, asn)
	r, err := e.Lookup(netip.MustParseAddr("89.160.20.112"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s, %s: AS%d %s (from %s)\n", r.City, r.CountryCode, r.ASN, r.Org, r.Database)
	// Output: Linköping, SE: AS29518 Bredband2 AB (from GeoIP2-City-Test+GeoLite2-ASN-Test)
}

func ExampleEmbedded() {
	db, err := geo.Embedded()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(db.Info().Name, db.Info().Type)
	// Output: iptoasn-country country ipvAll
}

func ExampleAppendAddrs() {
	line := []byte(`Nov 28 12:30:45 sshd: Failed password from 192.0.2.7 port 22; peer [2001:db8::1]:443`)
	fmt.Println(geo.AppendAddrs(nil, line))
	// Output: [192.0.2.7 2001:db8::1]
}
