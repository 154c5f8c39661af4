package cli

import (
	"bytes"
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"sonde/trace"
)

type fakeEnricher map[netip.Addr]map[string]string

func (f fakeEnricher) Enrich(_ context.Context, a netip.Addr) map[string]string { return f[a] }

// TestHopLine: the table row is traceroute's: the address before the first
// RTT and again when it changes, " *" for a star, names in parentheses,
// what the enrichers say in brackets, MPLS labels as traceroute -e prints
// them, and unreachable notes.
func TestHopLine(t *testing.T) {
	a, b := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("198.18.9.2")
	ms := time.Millisecond
	h := trace.Hop{TTL: 3, Probes: []trace.Probe{
		{Addr: a, RTT: 1500 * time.Microsecond, MPLS: []trace.MPLSLabel{{Label: 16005, TTL: 1, S: true}}},
		{Addr: a, RTT: 2 * ms},
		{},
		{Addr: b, RTT: 3 * ms, Note: "!H"},
	}}
	enrich(context.Background(), []trace.Hop{h}, nil) // nil enricher: nothing
	hops := []trace.Hop{h}
	enrich(context.Background(), hops, enrichers{
		fakeEnricher{a: {"name": "r2.lab"}},
		fakeEnricher{a: {"asn": "64500", "as_org": "Lab", "country": "DE", "city": "Berlin", "name": "ignored"}},
	})
	got := hopLine(hops[0])
	want := " 3  r2.lab (198.18.1.2) [AS64500 Lab, DE Berlin] <MPLS:L=16005,E=0,S=1,T=1>  1.500 ms  2.000 ms * 198.18.9.2  3.000 ms !H"
	if got != want {
		t.Errorf("hopLine:\n got %q\nwant %q", got, want)
	}
}

// TestReportTable: loss and RTT statistics per hop over rounds, as mtr -r.
func TestReportTable(t *testing.T) {
	a := netip.MustParseAddr("198.18.0.2")
	var r rounds
	for i, rtt := range []time.Duration{time.Millisecond, 0, 3 * time.Millisecond} {
		p := trace.Probe{Addr: a, RTT: rtt}
		if i == 1 {
			p = trace.Probe{}
		}
		r.add(&trace.Result{Hops: []trace.Hop{{TTL: 1, Probes: []trace.Probe{p}}}})
	}
	var b bytes.Buffer
	r.table(&b, 1)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("table:\n%s", b.String())
	}
	f := strings.Fields(lines[1])
	want := []string{"1.|--", "198.18.0.2", "33.3%", "3", "3.000", "2.000", "1.000", "3.000", "1.414"}
	if strings.Join(f, " ") != strings.Join(want, " ") {
		t.Errorf("row %q, want %q", f, want)
	}
}

// TestGeoEnricher: AS numbers and places come from package geo's databases
// (MaxMind's test databases), and show in the hop's row.
func TestGeoEnricher(t *testing.T) {
	g := geoEnricher{openGeoTest(t, cityDB, asnDB)}
	london, telstra := netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("1.128.0.1")
	want := openGeoTest(t, cityDB, asnDB)
	for _, a := range []netip.Addr{london, telstra} {
		r, _ := want.Lookup(a)
		m := g.Enrich(context.Background(), a)
		if m["country"] != r.CountryCode || m["city"] != r.City || m["as_org"] != r.Org ||
			(r.ASN != 0 && m["asn"] != strconv.FormatUint(uint64(r.ASN), 10)) || len(m) == 0 {
			t.Errorf("%s: %v, want the record %+v", a, m, r)
		}
	}
	if m := g.Enrich(context.Background(), netip.MustParseAddr("198.18.0.2")); m != nil {
		t.Errorf("a lab address: %v, want nothing", m)
	}
	hops := []trace.Hop{{TTL: 1, Probes: []trace.Probe{{Addr: london, RTT: time.Millisecond}}}}
	enrich(context.Background(), hops, enrichers{g})
	if got := hopLine(hops[0]); !strings.Contains(got, "GB London") {
		t.Errorf("row %q: no place", got)
	}
}
