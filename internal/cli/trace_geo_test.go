package cli

import (
	"net/netip"
	"testing"

	"sonde/geo"
)

func TestGlobalUnicast(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "81.2.69.142": true, "2a00:1450:4001::1": true, "::ffff:8.8.8.8": true,
		"198.18.0.1": false, "198.19.255.255": false, "198.20.0.1": true, "10.1.2.3": false,
		"172.16.0.1": false, "192.168.1.1": false, "100.64.0.1": false, "100.128.0.1": true,
		"127.0.0.1": false, "169.254.1.1": false, "224.0.0.1": false, "255.255.255.255": false,
		"0.0.0.0": false, "0.1.2.3": false, "192.0.2.1": false, "198.51.100.7": false, "203.0.113.9": false,
		"240.0.0.1": false, "2001:2::1": false, "2001:2:0:c8::1": false, "2001:db8::1": false,
		"fd00::1": false, "fe80::1": false, "::1": false, "ff02::1": false, "100::1": false,
	} {
		if got := globalUnicast(netip.MustParseAddr(s)); got != want {
			t.Errorf("globalUnicast(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestEmbeddedPlacesNoSpecialAddress backs lazyGeo's skipping: the
// embedded database has no entry in any range globalUnicast excludes.
func TestEmbeddedPlacesNoSpecialAddress(t *testing.T) {
	db, err := geo.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	en := geo.NewEnricher(db)
	if r, _ := en.Lookup(netip.MustParseAddr("81.2.69.142")); !r.Found() {
		t.Fatal("the embedded database places not even 81.2.69.142: this test would prove nothing")
	}
	prefixes := append([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fc00::/7"),
		netip.MustParsePrefix("fe80::/10"),
	}, notGlobal[:]...)
	for _, p := range prefixes {
		first := p.Masked().Addr()
		b := first.AsSlice()
		last, mid := append([]byte{}, b...), append([]byte{}, b...)
		for i := p.Bits(); i < len(b)*8; i++ {
			last[i/8] |= 0x80 >> (i % 8)
			if i%3 == 0 {
				mid[i/8] |= 0x80 >> (i % 8)
			}
		}
		for _, s := range [][]byte{b, mid, last} {
			a, _ := netip.AddrFromSlice(s)
			if !p.Contains(a) || globalUnicast(a) {
				t.Errorf("%s of %s is global or outside", a, p)
			}
			if r, _ := en.Lookup(a); r.Found() {
				t.Errorf("the embedded database places %s (%s): %+v", a, p, r)
			}
		}
	}
}
