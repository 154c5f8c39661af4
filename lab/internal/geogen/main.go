// Command geogen writes the lab geography (lab/geography.mmdb): an invented
// map of the lab's reserved addresses onto cities around the world, so that
// what sonde shows of locations (trace's hop annotations, the map of sonde
// report, sonde geo) can be practised in the lab, whose addresses no real
// database places. Nothing of it is true: 198.18.0.0/15 and 2001:2::/48 are
// reserved for benchmarking (RFC 2544, RFC 5180) and are nowhere.
//
// The lab's link k (198.18.k.0/24, 2001:2:0:k::/64) goes east from Paris,
// one city per link, the far host's loopback network (198.18.200.0/24,
// 2001:2:0:c8::/64) is in Tokyo, and the sweep's 198.19.0.0/16 in Sydney.
//
//	go run ./lab/internal/geogen -o lab/geography.mmdb
//
// It is built with github.com/maxmind/mmdbwriter, which the sonde binary
// does not link: the database is committed and embedded by package lab.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// place is an invented location of a lab network.
type place struct {
	prefixes                      []string
	city, code, country, cont, tz string
	lat, lon                      float64
}

// link returns the IPv4 and IPv6 prefixes of the lab's link k, as package
// lab numbers them.
func link(k int) []string {
	return []string{fmt.Sprintf("198.18.%d.0/24", k), fmt.Sprintf("2001:2:0:%x::/64", k)}
}

// places lists the lab geography, link by link eastwards from the client's
// LAN.
var places = []place{
	{link(0), "Paris", "FR", "France", "EU", "Europe/Paris", 48.8566, 2.3522},
	{link(1), "Frankfurt am Main", "DE", "Germany", "EU", "Europe/Berlin", 50.1109, 8.6821},
	{link(2), "Vienna", "AT", "Austria", "EU", "Europe/Vienna", 48.2082, 16.3738},
	{link(3), "Istanbul", "TR", "Türkiye", "AS", "Europe/Istanbul", 41.0082, 28.9784},
	{link(4), "Dubai", "AE", "United Arab Emirates", "AS", "Asia/Dubai", 25.2048, 55.2708},
	{link(5), "Mumbai", "IN", "India", "AS", "Asia/Kolkata", 19.0760, 72.8777},
	{link(6), "Singapore", "SG", "Singapore", "AS", "Asia/Singapore", 1.3521, 103.8198},
	{link(7), "Hong Kong", "HK", "Hong Kong", "AS", "Asia/Hong_Kong", 22.3193, 114.1694},
	{link(8), "Shanghai", "CN", "China", "AS", "Asia/Shanghai", 31.2304, 121.4737},
	{link(9), "Seoul", "KR", "South Korea", "AS", "Asia/Seoul", 37.5665, 126.9780},
	{link(200), "Tokyo", "JP", "Japan", "AS", "Asia/Tokyo", 35.6762, 139.6503},
	{[]string{"198.19.0.0/16"}, "Sydney", "AU", "Australia", "OC", "Australia/Sydney", -33.8688, 151.2093},
}

// buildEpoch fixes the database's build time, so that the file is the same
// on every run (2026-11-28 00:00 UTC).
const buildEpoch = 1795824000

// build returns the lab geography as an mmdb in GeoLite2-City's schema.
func build() ([]byte, error) {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "sonde-lab-geography",
		Description:             map[string]string{"en": "sonde lab geography: invented places of the lab's reserved addresses, for practice only"},
		Languages:               []string{"en"},
		IncludeReservedNetworks: true,
		BuildEpoch:              buildEpoch,
		RecordSize:              24,
	})
	if err != nil {
		return nil, err
	}
	for _, p := range places {
		rec := mmdbtype.Map{
			"city":      mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.city)}},
			"continent": mmdbtype.Map{"code": mmdbtype.String(p.cont)},
			"country": mmdbtype.Map{"iso_code": mmdbtype.String(p.code),
				"names": mmdbtype.Map{"en": mmdbtype.String(p.country)}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.lat), "longitude": mmdbtype.Float64(p.lon),
				"accuracy_radius": mmdbtype.Uint16(20), "time_zone": mmdbtype.String(p.tz)},
		}
		for _, s := range p.prefixes {
			pfx := netip.MustParsePrefix(s)
			n := &net.IPNet{IP: pfx.Addr().AsSlice(), Mask: net.CIDRMask(pfx.Bits(), pfx.Addr().BitLen())}
			if err := w.Insert(n, rec); err != nil {
				return nil, fmt.Errorf("geogen: %s: %w", s, err)
			}
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func main() {
	out := flag.String("o", "lab/geography.mmdb", "output file")
	flag.Parse()
	b, err := build()
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "geogen:", err)
		os.Exit(1)
	}
}
