package geo

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var addrSeeds = []string{
	"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3",
	"1.2.3.4 ", "", ".", "::", "::1", "fe80::1%eth0", "2001:db8::1", "::ffff:1.2.3.4", "1.2.3.-4",
	"2001:db8:0:0:0:0:2:1", "1:2:3:4:5:6:7:8:9", "gggg::1", "0x1.2.3.4", "1.2.3.4\n",
}

func TestParseAddrMatchesNetip(t *testing.T) {
	for _, s := range addrSeeds {
		want, err := netip.ParseAddr(s)
		got, ok := ParseAddr([]byte(s))
		if ok != (err == nil) || ok && got != want {
			t.Errorf("ParseAddr(%q) = %v, %v; netip says %v, %v", s, got, ok, want, err)
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range addrSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, err := netip.ParseAddr(string(b))
		got, ok := ParseAddr(b)
		if ok != (err == nil) || ok && got != want {
			t.Fatalf("ParseAddr(%q) = %v, %v; netip says %v, %v", b, got, ok, want, err)
		}
	})
}

func TestAppendAddrs(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"1.2.3.4", []string{"1.2.3.4"}},
		{"from 10.0.0.1 to 192.168.1.1: ok", []string{"10.0.0.1", "192.168.1.1"}},
		{`203.0.113.9 - - [28/Nov/2026:04:58:52 +0000] "GET / HTTP/1.1" 200`, []string{"203.0.113.9"}},
		{"connect to 1.2.3.4:80 and [2001:db8::1]:443", []string{"1.2.3.4", "2001:db8::1"}},
		{"addr:fe80::1 end.", []string{"fe80::1"}},
		{"peer ::ffff:198.51.100.7, done", []string{"::ffff:198.51.100.7"}},
		{"version 1.2.3.4.5 at 12:30:45.123", nil},
		{"mac 00:11:22:33:44:55 and std::string", nil},
		{"host=8.8.8.8,9.9.9.9;", []string{"8.8.8.8", "9.9.9.9"}},
		{"sentence ends with 1.1.1.1.", []string{"1.1.1.1"}},
		{"words like deadbeef or cafe.babe", nil},
		{"a1.2.3.4b", nil},
		{"host1.2.3.4 ipv6=fe80::1%eth0", []string{"fe80::1"}},
		{"999.1.1.1 01.2.3.4", nil},
		{"::1", []string{"::1"}},
		{"::", nil},
	} {
		var got []string
		for _, a := range AppendAddrs(nil, []byte(tc.text)) {
			got = append(got, a.String())
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("AppendAddrs(%q) (-want +got):\n%s", tc.text, d)
		}
	}
}

func FuzzAppendAddrs(f *testing.F) {
	f.Add([]byte("from 10.0.0.1 to [2001:db8::1]:443 at 12:30:45"))
	for _, s := range addrSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, a := range AppendAddrs(nil, b) {
			if !a.IsValid() {
				t.Fatalf("invalid address from %q", b)
			}
			// An IPv4 address found is written in the text as such.
			if a.Is4() && !bytes.Contains(b, []byte(a.String())) {
				t.Fatalf("%s is not in %q", a, b)
			}
			if a.Is6() && !strings.Contains(strings.ToLower(string(b)), strings.ToLower(strings.SplitN(a.String(), "%", 2)[0])) && !a.Is4In6() {
				// IPv6 text can be written in many ways; it must parse
				// from some run of the text.
				found := false
				for _, f := range bytes.FieldsFunc(b, func(r rune) bool { return r > 0x7f || addrByte[byte(r)] == 0 }) {
					if bytes.Contains(f, []byte(":")) {
						found = true
					}
				}
				if !found {
					t.Fatalf("%s from %q, which has no IPv6 text", a, b)
				}
			}
		}
	})
}

func TestAppendAddrsAllocs(t *testing.T) {
	text := []byte(`203.0.113.9 - - [28/Nov/2026:04:58:52 +0000] "GET / HTTP/1.1" 200 from 10.1.2.3`)
	dst := make([]netip.Addr, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst = AppendAddrs(dst[:0], text) }); n != 0 {
		t.Errorf("AppendAddrs: %v allocations, want 0", n)
	}
	if len(dst) != 2 {
		t.Errorf("found %v", dst)
	}
}
