package main

import (
	"bytes"
	"net/netip"
	"os"
	"testing"

	"sonde/geo"
	"sonde/lab"
)

// TestCommittedDatabaseIsGenerated checks that lab/geography.mmdb is what
// this generator writes: regenerate it with
// go run ./lab/internal/geogen -o lab/geography.mmdb.
func TestCommittedDatabaseIsGenerated(t *testing.T) {
	b, err := build()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../geography.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, committed) || !bytes.Equal(b, lab.Geography()) {
		t.Fatal("lab/geography.mmdb is not what geogen writes: run go run ./lab/internal/geogen -o lab/geography.mmdb")
	}
}

func TestPlaces(t *testing.T) {
	db, err := geo.OpenBytes(lab.Geography(), lab.GeographyName)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr, code, city string
	}{
		{"198.18.0.1", "FR", "Paris"},
		{"2001:2::1", "FR", "Paris"},
		{"198.18.1.2", "DE", "Frankfurt am Main"},
		{"198.18.5.2", "IN", "Mumbai"},
		{"2001:2:0:9::2", "KR", "Seoul"},
		{"198.18.200.1", "JP", "Tokyo"},
		{"2001:2:0:c8::1", "JP", "Tokyo"},
		{"198.19.44.3", "AU", "Sydney"},
		{"198.18.10.1", "", ""},
		{"1.1.1.1", "", ""},
	} {
		r, err := db.Lookup(netip.MustParseAddr(c.addr))
		if err != nil {
			t.Fatal(err)
		}
		if r.CountryCode != c.code || r.City != c.city || r.HasLocation != (c.code != "") {
			t.Errorf("%s: %s %s (located %v), want %s %s", c.addr, r.CountryCode, r.City, r.HasLocation, c.code, c.city)
		}
	}
}
