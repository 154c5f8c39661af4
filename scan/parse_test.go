package scan

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addrs(t *Targets) []string {
	var out []string
	for i := range t.Len() {
		out = append(out, t.At(i).String())
	}
	return out
}

func TestParseTargets(t *testing.T) {
	for _, tc := range []struct {
		in, ex []string
		want   []string
	}{
		{[]string{"198.18.0.1-3"}, nil, []string{"198.18.0.1", "198.18.0.2", "198.18.0.3"}},
		{[]string{"198.18.0.0/30"}, nil, []string{"198.18.0.0", "198.18.0.1", "198.18.0.2", "198.18.0.3"}},
		{[]string{"198.18.1-2.7,9"}, nil, []string{"198.18.1.7", "198.18.1.9", "198.18.2.7", "198.18.2.9"}},
		{[]string{"198.18.0.0/29"}, []string{"198.18.0.2-5"}, []string{"198.18.0.0", "198.18.0.1", "198.18.0.6", "198.18.0.7"}},
		{[]string{"198.18.0.5", "198.18.0.4", "198.18.0.5"}, nil, []string{"198.18.0.4", "198.18.0.5"}},
		{[]string{"2001:2::1", "198.18.0.1"}, nil, []string{"198.18.0.1", "2001:2::1"}},
		{[]string{"2001:2::/126"}, []string{"2001:2::2"}, []string{"2001:2::", "2001:2::1", "2001:2::3"}},
		{[]string{"10.0.0.-1"}, nil, []string{"10.0.0.0", "10.0.0.1"}},
		{[]string{"10.0.0.254-"}, nil, []string{"10.0.0.254", "10.0.0.255"}},
	} {
		tg, err := ParseTargets(context.Background(), TargetSpec{Include: tc.in, Exclude: tc.ex})
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, addrs(tg)); diff != "" {
			t.Errorf("%q minus %q (-want +got):\n%s", tc.in, tc.ex, diff)
		}
		for i, a := range tc.want {
			if j, ok := tg.Index(netip.MustParseAddr(a)); !ok || j != uint64(i) {
				t.Errorf("Index(%s) = %d %v, want %d", a, j, ok, i)
			}
		}
	}
}

func TestParseTargetsResolve(t *testing.T) {
	res := func(_ context.Context, h string) ([]netip.Addr, error) {
		if h == "target.lab" {
			return []netip.Addr{netip.MustParseAddr("198.18.0.2")}, nil
		}
		return nil, errors.New("no such host")
	}
	tg, err := ParseTargets(context.Background(), TargetSpec{Include: []string{"target.lab"}, Resolve: res})
	if err != nil || tg.Len() != 1 || tg.At(0) != netip.MustParseAddr("198.18.0.2") {
		t.Fatalf("got %v %v", tg, err)
	}
	if _, err := ParseTargets(context.Background(), TargetSpec{Include: []string{"nowhere.invalid"}, Resolve: res}); err == nil {
		t.Error("unresolvable name accepted")
	}
}

func TestDefaultExclusions(t *testing.T) {
	ctx := context.Background()
	_, err := ParseTargets(ctx, TargetSpec{Include: []string{"198.18.0.0/24", "224.0.0.1"}, DefaultExclude: true})
	if !errors.Is(err, ErrNoTargets) {
		t.Errorf("benchmarking and multicast ranges: err %v, want ErrNoTargets", err)
	}
	tg, err := ParseTargets(ctx, TargetSpec{Include: []string{"198.18.0.2", "224.0.0.1"}, DefaultExclude: true, Allow: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")}})
	if err != nil || tg.Len() != 1 {
		t.Errorf("allowed lab range: %v %v", tg, err)
	}
	_, err = ParseTargets(ctx, TargetSpec{Include: []string{"198.18.0.0/24"}, Exclude: []string{"198.18.0.0/16"}})
	if !errors.Is(err, ErrNoTargets) {
		t.Errorf("everything excluded: %v", err)
	}
}

func TestParseTargetErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		col int
	}{
		{"198.18.0.0/33", 12},
		{"198.18.0.300", 10},
		{"198.18.0.1-300", 12},
		{"198.18.5-1.0", 8},
		{"198.18.0", 9},
		{"198.18.0.0.1", 11},
		{"198..0.1", 5},
		{"2001:2::/64", 10},
		{"2001:zz::1", 1},
		{"bad_host!", 9},
		{"", 1},
		{"10.0.0.0/7", 10},
	} {
		_, err := ParseTarget(tc.in)
		var se *SpecError
		if !errors.As(err, &se) || se.Col != tc.col {
			t.Errorf("ParseTarget(%q) = %v, want an error at column %d", tc.in, err, tc.col)
		}
	}
}

func TestParsePorts(t *testing.T) {
	p, err := ParsePorts("22,80,1000-1002,U:53,T:443,ssh")
	if err != nil {
		t.Fatal(err)
	}
	want := Ports{TCP: []uint16{22, 443}, UDP: []uint16{53}, Any: []uint16{22, 80, 1000, 1001, 1002}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := p.For(TCP); !cmp.Equal(got, []uint16{22, 80, 443, 1000, 1001, 1002}) {
		t.Errorf("For(TCP) = %v", got)
	}
	all, err := ParsePorts("-")
	if err != nil || len(all.Any) != 65535 || all.Any[0] != 1 {
		t.Errorf("-: %d ports, %v", len(all.Any), err)
	}
	for _, tc := range []struct {
		in  string
		col int
	}{
		{"70000", 1}, {"22,80-70000", 7}, {"22,,80", 4}, {"X:22", 1}, {"90-80", 1}, {"U:", 3}, {"nosuchservice", 1}, {"", 1},
	} {
		_, err := ParsePorts(tc.in)
		var se *SpecError
		if !errors.As(err, &se) || se.Col != tc.col {
			t.Errorf("ParsePorts(%q) = %v, want an error at column %d", tc.in, err, tc.col)
		}
	}
}

func TestTopPorts(t *testing.T) {
	top := TopPorts(TCP, 1000)
	if len(top) != 1000 || top[0] != 80 {
		t.Fatalf("TopPorts(TCP, 1000): %d ports, first %d", len(top), top[0])
	}
	seen := map[uint16]bool{}
	for _, p := range top {
		if seen[p] || p == 0 {
			t.Fatalf("port %d twice or zero", p)
		}
		seen[p] = true
	}
	for _, p := range []uint16{21, 22, 25, 80, 443, 3306, 8080} {
		if !seen[p] {
			t.Errorf("lab port %d not in the top 1000", p)
		}
	}
	if got := TopPorts(UDP, 100); !seen[53] || got[0] != 53 {
		t.Errorf("TopPorts(UDP) starts %v", got[:3])
	}
	if ServiceName(TCP, 22) != "ssh" || ServiceName(UDP, 53) != "domain" || ServiceName(TCP, 3306) != "mysql" {
		t.Errorf("service names: %s %s %s", ServiceName(TCP, 22), ServiceName(UDP, 53), ServiceName(TCP, 3306))
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"198.18.0.1", "198.18.0.0/16", "198.18.1-3.0-255", "10.0.0.*", "1,2.3-.-4.5", "2001:2::1", "2001:2::/120", "target.lab", "::ffff:1.2.3.4", "1.2.3.4/", "-.-.-.-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len(s)+1 {
				t.Fatalf("%q: error %v without a column inside the spec", s, err)
			}
			return
		}
		if tg.Host == "" && tg.Len() == 0 {
			t.Fatalf("%q: no address and no name", s)
		}
		if tg.Len() > MaxTargets {
			t.Fatalf("%q: %d addresses", s, tg.Len())
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			if tg.Len() != 1 {
				t.Fatalf("%q: an address gave %d targets", s, tg.Len())
			}
		}
	})
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"22", "22,80,1000-2000,U:53,T:443", "-", "-1024", "60000-", "U:53,111,T:21-25", "ssh,http", "0", "65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePorts(s)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len(s)+1 {
				t.Fatalf("%q: error %v without a column inside the spec", s, err)
			}
			return
		}
		if len(p.TCP)+len(p.UDP)+len(p.Any) == 0 {
			t.Fatalf("%q: no port", s)
		}
		if !strings.Contains(s, "0") && (len(p.Any) > 0 && p.Any[0] == 0) {
			t.Fatalf("%q: port 0 without naming it", s)
		}
	})
}
