package report_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/html"

	"sonde/geo"
	"sonde/lab"
	"sonde/report"
	"sonde/report/worldmap"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// frame serialises an Ethernet frame of the given layers.
func frame(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

func eth(typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: typ}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func tcpPacket(t testing.TB, src, dst string, sport, dport uint16, payload string) []byte {
	ip := ip4(src, dst, layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1, ACK: true, PSH: payload != "", Window: 1024}
	tcp.SetNetworkLayerForChecksum(ip)
	return frame(t, eth(layers.EthernetTypeIPv4), ip, tcp, gopacket.Payload(payload))
}

func dnsQuery(t testing.TB, src, dst, name string) []byte {
	ip := ip4(src, dst, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	dns := &layers.DNS{ID: 7, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	return frame(t, eth(layers.EthernetTypeIPv4), ip, udp, dns)
}

func arpPacket(t testing.TB) []byte {
	a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{198, 18, 0, 1},
		DstHwAddress: make([]byte, 6), DstProtAddress: []byte{198, 18, 0, 254}}
	return frame(t, eth(layers.EthernetTypeARP), a)
}

// labGeo is an Enricher over the lab geography: 198.18.0.0/24 is in Paris,
// 198.18.1.0/24 in Frankfurt, 198.18.200.0/24 in Tokyo.
func labGeo(t testing.TB) *geo.Enricher {
	db, err := geo.OpenBytes(lab.Geography(), lab.GeographyName)
	if err != nil {
		t.Fatal(err)
	}
	return geo.NewEnricher(db)
}

const hostile = `<script>alert("x")</script>.evil`

// traffic feeds r: TCP from Paris to Tokyo and Frankfurt, HTTP to an
// unlocated address, a DNS question with a hostile name, and ARP.
func traffic(t testing.TB, r *report.Report) {
	pk := [][]byte{
		tcpPacket(t, "198.18.0.1", "198.18.200.1", 40000, 443, "hello"),
		tcpPacket(t, "198.18.200.1", "198.18.0.1", 443, 40000, "hello back, a little longer"),
		tcpPacket(t, "198.18.0.1", "198.18.1.2", 40001, 22, "ssh"),
		tcpPacket(t, "198.18.0.1", "10.9.9.9", 40002, 80, "GET /<b>bold</b> HTTP/1.1\r\nHost: x.example\r\n\r\n"),
		dnsQuery(t, "198.18.0.1", "198.18.200.1", hostile),
		arpPacket(t),
	}
	for i, p := range pk {
		r.Add(p, t0.Add(time.Duration(i)*300*time.Millisecond), len(p), layers.LinkTypeEthernet)
	}
}

// doc renders r and parses the page.
func doc(t *testing.T, r *report.Report) (string, *html.Node) {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	n, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), n
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// find returns the elements named tag (any, when "") with class (any, when
// "").
func find(root *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "" || n.Data == tag) && (class == "" || hasClass(n, class)) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func TestPageCountsMatchTheTraffic(t *testing.T) {
	r := report.New(&report.Config{Capture: "test.pcap", Geo: labGeo(t)})
	traffic(t, r)
	page, root := doc(t, r)
	st := r.Stats()

	// Endpoints: 198.18.0.1, .200.1, .1.2 (located) and 10.9.9.9 (not).
	if st.Endpoints != 4 || st.Located != 3 || st.Markers != 3 || st.Countries != 3 {
		t.Errorf("stats %+v: want 4 endpoints, 3 located and drawn in 3 countries", st)
	}
	markers := find(root, "circle", "endpoint")
	if len(markers) != st.Markers {
		t.Errorf("%d endpoint markers, stats say %d", len(markers), st.Markers)
	}
	got := map[string]int{}
	for _, m := range markers {
		got[attr(m, "data-country")]++
	}
	if want := map[string]int{"FR": 1, "DE": 1, "JP": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("markers per country %v, want %v", got, want)
	}
	countries := find(root, "path", "country")
	if len(countries) != len(worldmap.Countries()) || len(countries) != st.MapCountries {
		t.Errorf("%d country paths, the map has %d", len(countries), len(worldmap.Countries()))
	}
	active := find(root, "path", "active")
	var codes []string
	for _, a := range active {
		codes = append(codes, attr(a, "data-code"))
	}
	if strings.Join(codes, ",") != "DE,FR,JP" {
		t.Errorf("countries filled: %v, want DE, FR, JP", codes)
	}

	// IO graph: one series per protocol plotted, in each of its two charts.
	charts := find(root, "svg", "io-chart")
	if len(charts) != 2 {
		t.Fatalf("%d IO charts, want 2", len(charts))
	}
	wantProtos := map[string]bool{"tls": false, "ssh": true, "http": true, "dns": true, "arp": true}
	for _, c := range charts {
		series := find(c, "polyline", "io-series")
		if len(series) != st.Series {
			t.Errorf("%s chart: %d series, stats say %d", attr(c, "data-metric"), len(series), st.Series)
		}
		seen := map[string]bool{}
		for _, s := range series {
			seen[attr(s, "data-protocol")] = true
			if attr(s, "points") == "" {
				t.Errorf("series %s has no points", attr(s, "data-protocol"))
			}
		}
		for p, want := range wantProtos {
			if want && !seen[p] {
				t.Errorf("%s chart: no series of %s (has %v)", attr(c, "data-metric"), p, seen)
			}
		}
		// The six packets fall in six intervals, each with a tooltip.
		if cols := find(c, "rect", "io-hover"); len(cols) != 6 {
			t.Errorf("%s chart: %d interval tooltips, want 6", attr(c, "data-metric"), len(cols))
		} else if !strings.HasPrefix(text(cols[0]), "0–0.008 s: ") || (attr(c, "data-metric") == "packets" && !strings.Contains(text(cols[0]), ": 1 packets (")) {
			t.Errorf("first interval's tooltip %q", text(cols[0]))
		}
		if len(find(c, "g", "axis")) != 2 {
			t.Errorf("%s chart: want an x and a y axis", attr(c, "data-metric"))
		}
	}
	if n := len(find(root, "", "legend-item")); n != st.Series {
		t.Errorf("%d legend items, %d series", n, st.Series)
	}
	// Protocol hierarchy: eth, arp, ip, tcp, ssh, http, data?, udp, dns...
	rows := find(root, "g", "phs-row")
	if len(rows) != st.Protocols || len(rows) < 6 {
		t.Errorf("%d hierarchy rows, stats say %d", len(rows), st.Protocols)
	}
	if attr(rows[0], "data-protocol") != "eth" || attr(rows[0], "data-frames") != "6" {
		t.Errorf("first hierarchy row: %s with %s frames, want eth with 6", attr(rows[0], "data-protocol"), attr(rows[0], "data-frames"))
	}

	// Names: the hostile DNS name is text, never markup.
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<b>bold") {
		t.Error("a name from the traffic reached the page unescaped")
	}
	dnsRows := find(root, "tr", "dns-row")
	if len(dnsRows) != 1 || !strings.Contains(text(dnsRows[0]), hostile) {
		t.Errorf("DNS rows: want one showing %q", hostile)
	}
	if scripts := find(root, "script", ""); len(scripts) != 1 {
		t.Errorf("%d script elements, want only the page's own", len(scripts))
	}
	http := find(root, "tr", "http-row")
	if len(http) != 1 || !strings.Contains(text(http[0]), "/<b>bold</b>") {
		t.Errorf("HTTP rows: want one with the path as text")
	}
}

// TestSelfContained checks that the page loads nothing: no URL to fetch,
// and a Content-Security-Policy whose hashes are those of the page's own
// style and script.
func TestSelfContained(t *testing.T) {
	r := report.New(&report.Config{Geo: labGeo(t)})
	traffic(t, r)
	page, root := doc(t, r)
	for _, bad := range []string{"http://", "https://", "//cdn", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, n := range find(root, "", "") {
		for _, a := range []string{"src", "href"} {
			if v := attr(n, a); v != "" && !strings.HasPrefix(v, "#") {
				t.Errorf("<%s %s=%q> loads something", n.Data, a, v)
			}
		}
	}
	var policy string
	for _, m := range find(root, "meta", "") {
		if attr(m, "http-equiv") == "Content-Security-Policy" {
			policy = attr(m, "content")
		}
	}
	if !strings.HasPrefix(policy, "default-src 'none';") {
		t.Fatalf("CSP %q does not forbid loads by default", policy)
	}
	for _, tag := range []string{"style", "script"} {
		els := find(root, tag, "")
		if len(els) != 1 {
			t.Fatalf("%d <%s> elements", len(els), tag)
		}
		h := sha256.Sum256([]byte(text(els[0])))
		want := "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
		if !strings.Contains(policy, tag+"-src "+want) {
			t.Errorf("CSP %q does not allow the page's %s (%s)", policy, tag, want)
		}
	}
}

func TestEmptyCapture(t *testing.T) {
	r := report.New(nil)
	_, root := doc(t, r)
	if st := r.Stats(); st.Packets != 0 || st.Series != 0 || st.Markers != 0 || st.Protocols != 0 {
		t.Errorf("stats of nothing: %+v", st)
	}
	if n := len(find(root, "polyline", "io-series")); n != 0 {
		t.Errorf("%d IO series without packets", n)
	}
	if n := len(find(root, "path", "country")); n != len(worldmap.Countries()) {
		t.Errorf("the map of nothing has %d countries, want all %d", n, len(worldmap.Countries()))
	}
	if !strings.Contains(text(root), "No packets") {
		t.Error("the page does not say there are no packets")
	}
}

func TestCaptureWithoutIP(t *testing.T) {
	r := report.New(&report.Config{Geo: labGeo(t)})
	for i := range 5 {
		p := arpPacket(t)
		r.Add(p, t0.Add(time.Duration(i)*time.Second), len(p), layers.LinkTypeEthernet)
	}
	_, root := doc(t, r)
	st := r.Stats()
	if st.Packets != 5 || st.Endpoints != 0 || st.Markers != 0 || st.Series != 1 {
		t.Errorf("stats of 5 ARP packets: %+v", st)
	}
	series := find(root, "polyline", "io-series")
	if len(series) != 2 || attr(series[0], "data-protocol") != "arp" {
		t.Errorf("want one arp series per chart, got %d", len(series))
	}
	if !strings.Contains(text(root), "No IP endpoints") {
		t.Error("the page does not say there are no IP endpoints")
	}
}

func TestTopBoundsTables(t *testing.T) {
	r := report.New(&report.Config{Top: 5, Geo: labGeo(t)})
	for i := range 20 {
		p := tcpPacket(t, "198.18.0.1", fmt.Sprintf("198.18.200.%d", i+1), uint16(40000+i), 80, strings.Repeat("x", i))
		r.Add(p, t0.Add(time.Duration(i)*time.Millisecond), len(p), layers.LinkTypeEthernet)
	}
	_, root := doc(t, r)
	if n := len(find(root, "tr", "endpoint-row")); n != 5 {
		t.Errorf("%d endpoint rows, want 5", n)
	}
	if n := len(find(root, "circle", "endpoint")); n != 5 {
		t.Errorf("%d markers, want 5", n)
	}
	var notes []string
	for _, n := range find(root, "p", "more") {
		notes = append(notes, text(n))
	}
	all := strings.Join(notes, "|")
	for _, want := range []string{"16 more endpoints not shown", "15 more conversations not shown"} {
		if !strings.Contains(all, want) {
			t.Errorf("notes %q lack %q", all, want)
		}
	}
}

func TestTraceAndScan(t *testing.T) {
	tr := readTrace(t)
	sc := readScan(t)
	r := report.New(&report.Config{Trace: tr, Scan: sc, Geo: labGeo(t)})
	traffic(t, r)
	_, root := doc(t, r)
	st := r.Stats()
	// The demo's trace: Paris, Frankfurt, Vienna, a silent hop, Tokyo.
	if st.Hops != len(tr.Hops) || st.Hops != 5 || st.MapHops != 4 {
		t.Errorf("stats %+v: want 5 hops, 4 on the map", st)
	}
	rows := find(root, "tr", "hop-row")
	if len(rows) != len(tr.Hops) {
		t.Errorf("%d rows in the path table, %d hops", len(rows), len(tr.Hops))
	}
	hops := find(root, "g", "hop")
	var ttls []string
	for _, h := range hops {
		ttls = append(ttls, attr(h, "data-ttl"))
	}
	if strings.Join(ttls, " ") != "1 2 3 5" {
		t.Errorf("hops on the map: TTLs %v, want 1 2 3 5 in order", ttls)
	}
	path := find(root, "polyline", "trace-path")
	if len(path) != 1 || len(strings.Fields(attr(path[0], "points"))) != 5 {
		t.Errorf("the trace's line: want one through the source and 4 hops")
	}
	hosts := find(root, "div", "scan-host")
	if len(hosts) != 1 || attr(hosts[0], "data-addr") != "198.18.200.1" {
		t.Fatalf("scan hosts: want 198.18.200.1")
	}
	if n := len(find(hosts[0], "tr", "port-row")); n != 7 {
		t.Errorf("%d ports listed, want the 7 open ones", n)
	}
	if ph := find(root, "p", "scan-phase"); len(ph) != 1 || !strings.Contains(text(ph[0]), "65528 closed") {
		t.Errorf("the scan's statistics are not shown")
	}
}

func readTrace(t testing.TB) *report.Trace {
	f, err := os.Open("testdata/trace.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := report.ReadTrace(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func readScan(t testing.TB) *report.Scan {
	f, err := os.Open("testdata/scan.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := report.ReadScan(f)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestReadTraceRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{}`, `{"dst":"198.18.200.1"}`, `{"hops":[]}`,
		`{"dst":"198.18.200.1","hops":[{"ttl":0,"probes":[]}]}`,
		`{"dst":"198.18.200.1","hops":[]} {}`,
		`{"dst":"198.18.200.1","method":"udp","flows":4,"paths":[]}`,
		`{"dst":"nowhere","hops":[]}`,
	} {
		if _, err := report.ReadTrace(strings.NewReader(in)); err == nil {
			t.Errorf("ReadTrace(%q) accepted it", in)
		} else if !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("ReadTrace(%q): error %q without the package's prefix", in, err)
		}
	}
	tr, err := report.ReadTrace(strings.NewReader(`{"dst":"198.18.200.1","hops":[{"ttl":1,"probes":[{"addr":null,"rtt_ms":null}]}]}`))
	if err != nil || len(tr.Hops) != 1 || tr.Hops[0].Probes[0].Answered() {
		t.Errorf("a silent hop: %+v, %v", tr, err)
	}
}

func TestReadScanRejects(t *testing.T) {
	for _, in := range []string{
		"not json\n",
		`{"type":"port","addr":"x","port":80,"proto":"tcp","state":"open"}`,
		`{"type":"port","addr":"198.18.0.2","port":0,"proto":"tcp","state":"open"}`,
		`{"type":"port","addr":"198.18.0.2","port":80,"proto":"sctp","state":"open"}`,
		`{"type":"port","addr":"198.18.0.2","port":80,"proto":"tcp"}`,
		`{"type":"stats","phases":"x"}`,
	} {
		if _, err := report.ReadScan(strings.NewReader(in)); err == nil {
			t.Errorf("ReadScan(%q) accepted it", in)
		}
	}
	sc, err := report.ReadScan(strings.NewReader("\n{\"type\":\"banner\"}\n{\"type\":\"host\",\"addr\":\"198.18.0.2\",\"state\":\"up\",\"reason\":\"echo-reply\"}\n"))
	if err != nil || len(sc.Results) != 1 || sc.Results[0].State != "up" {
		t.Errorf("a host line: %+v, %v", sc, err)
	}
}

func FuzzReadTrace(f *testing.F) {
	b, err := os.ReadFile("testdata/trace.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"dst":"2001:2:0:c8::1","hops":[{"ttl":1,"probes":[{"addr":"2001:2::2","rtt_ms":1.5,"info":{"country":"FR"}}]}]}`))
	f.Add([]byte(`{"dst":"198.18.200.1","hops":[{"ttl":1,"addrs":["198.18.0.2"],"loss_pct":0,"sent":2,"best_ms":0.009},{"ttl":2,"addrs":[],"loss_pct":100}],"rounds":2}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		tr, err := report.ReadTrace(bytes.NewReader(in))
		if err != nil {
			return
		}
		// Whatever it accepts renders.
		r := report.New(&report.Config{Trace: tr})
		if err := r.WriteHTML(new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
		if st := r.Stats(); st.Hops != len(tr.Hops) || st.MapHops > st.Hops {
			t.Fatalf("stats %+v of %d hops", st, len(tr.Hops))
		}
	})
}

func FuzzReadScan(f *testing.F) {
	b, err := os.ReadFile("testdata/scan.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"type":"host","addr":"198.18.0.2","state":"up","reason":"arp-response"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		sc, err := report.ReadScan(bytes.NewReader(in))
		if err != nil {
			return
		}
		r := report.New(&report.Config{Scan: sc})
		if err := r.WriteHTML(new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
		hosts := map[netip.Addr]bool{}
		for _, res := range sc.Results {
			hosts[res.Addr] = true
		}
		if st := r.Stats(); st.Hosts != len(hosts) {
			t.Fatalf("%d hosts shown, %d in the scan", st.Hosts, len(hosts))
		}
	})
}

// TestPageSizeIsBounded feeds many flows and names and checks that the page
// stays small: tables and markers stop at Top, the IO graph at Intervals.
func TestPageSizeIsBounded(t *testing.T) {
	r := report.New(&report.Config{Geo: labGeo(t)})
	for i := range 20000 {
		src := fmt.Sprintf("198.18.%d.%d", i%10, 1+i/10%250)
		var p []byte
		if i%4 == 0 {
			p = dnsQuery(t, src, "198.18.200.1", fmt.Sprintf("host-%d.example", i))
		} else {
			p = tcpPacket(t, src, "198.18.200.1", uint16(1024+i%60000), 443, "x")
		}
		r.Add(p, t0.Add(time.Duration(i)*time.Millisecond), len(p), layers.LinkTypeEthernet)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Endpoints < 2000 || st.Markers != 100 {
		t.Errorf("stats %+v: want thousands of endpoints, 100 markers", st)
	}
	if b.Len() > 1<<20 {
		t.Errorf("the page of 20000 packets is %d bytes, want under 1 MiB", b.Len())
	}
	t.Logf("page: %d bytes", b.Len())
}

func BenchmarkAdd(b *testing.B) {
	r := report.New(&report.Config{Geo: labGeo(b)})
	pk := [][]byte{
		tcpPacket(b, "198.18.0.1", "198.18.200.1", 40000, 443, "hello"),
		tcpPacket(b, "198.18.200.1", "198.18.0.1", 443, 40000, "hello back"),
		dnsQuery(b, "198.18.0.1", "198.18.200.1", "target.lab"),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pk[i%len(pk)]
		r.Add(p, t0.Add(time.Duration(i)*time.Microsecond), len(p), layers.LinkTypeEthernet)
		i++
	}
}

func BenchmarkWriteHTML(b *testing.B) {
	r := report.New(&report.Config{Geo: labGeo(b), Trace: readTrace(b), Scan: readScan(b)})
	traffic(b, r)
	b.ReportAllocs()
	for b.Loop() {
		r = report.New(&report.Config{Geo: labGeo(b), Trace: readTrace(b), Scan: readScan(b)})
		traffic(b, r)
		if err := r.WriteHTML(new(bytes.Buffer)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAddKnownFlowAllocatesNothing: the report's pass costs what analyze's
// does, no allocation for a packet of a flow already seen.
func TestAddKnownFlowAllocatesNothing(t *testing.T) {
	r := report.New(&report.Config{Geo: labGeo(t)})
	p := tcpPacket(t, "198.18.0.1", "198.18.200.1", 40000, 443, "")
	r.Add(p, t0, len(p), layers.LinkTypeEthernet)
	r.Stats() // a page built, then invalidated by the next Add
	if n := testing.AllocsPerRun(1000, func() {
		r.Add(p, t0, len(p), layers.LinkTypeEthernet)
	}); n != 0 {
		t.Errorf("Add of a known flow: %v allocations, want 0", n)
	}
}

// FuzzPacketsNeverBecomeMarkup feeds arbitrary frames (seeded with DNS and
// HTTP carrying markup) and checks that the page keeps its one script and
// its structure: nothing from the traffic becomes an element.
func FuzzPacketsNeverBecomeMarkup(f *testing.F) {
	f.Add(dnsQuery(f, "198.18.0.1", "198.18.200.1", hostile))
	f.Add(tcpPacket(f, "198.18.0.1", "10.9.9.9", 40002, 80, "GET /<img src=x onerror=alert(1)> HTTP/1.1\r\nHost: <svg onload=alert(1)>\r\n\r\n"))
	f.Add(tcpPacket(f, "198.18.0.1", "198.18.200.1", 40000, 443, "\x16\x03\x01\x00\x10"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := report.New(&report.Config{Geo: labGeo(t)})
		r.Add(data, t0, len(data), layers.LinkTypeEthernet)
		r.Add(data, t0.Add(time.Second), len(data), layers.LinkTypeEthernet)
		var b bytes.Buffer
		if err := r.WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		root, err := html.Parse(&b)
		if err != nil {
			t.Fatal(err)
		}
		for tag, want := range map[string]int{"script": 1, "style": 1, "img": 0, "iframe": 0, "object": 0, "embed": 0, "link": 0} {
			if n := len(find(root, tag, "")); n != want {
				t.Fatalf("%d <%s> elements in the page, want %d", n, tag, want)
			}
		}
		for _, n := range find(root, "", "") {
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Fatalf("<%s %s=%q>: an event handler in the page", n.Data, a.Key, a.Val)
				}
			}
		}
	})
}

func TestReadTraceOfAnMTRReport(t *testing.T) {
	in := `{"dst":"198.18.200.1","hops":[{"ttl":1,"addrs":["198.18.0.2"],"loss_pct":0,"sent":10,"last_ms":0.02,"avg_ms":0.03,"best_ms":0.01,"worst_ms":0.05,"stdev_ms":0.01},` +
		`{"ttl":2,"addrs":[],"loss_pct":100,"sent":10,"last_ms":0,"avg_ms":0,"best_ms":0,"worst_ms":0,"stdev_ms":0},` +
		`{"ttl":3,"addrs":["198.18.200.1"],"loss_pct":10,"sent":10,"last_ms":0.02,"avg_ms":0.03,"best_ms":0.02,"worst_ms":0.05,"stdev_ms":0.01}],"rounds":10}` + "\n"
	tr, err := report.ReadTrace(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Rounds != 10 || len(tr.Hops) != 3 || !tr.Reached || tr.Hops[2].LossPct != 10 {
		t.Fatalf("%+v", tr)
	}
	r := report.New(&report.Config{Trace: tr, Geo: labGeo(t)})
	_, root := doc(t, r)
	if st := r.Stats(); st.Hops != 3 || st.MapHops != 2 {
		t.Errorf("stats %+v: want 3 hops, 2 on the map", st)
	}
	rows := find(root, "tr", "hop-row")
	if len(rows) != 3 || !strings.Contains(text(rows[2]), "10.0%") || !strings.Contains(text(rows[1]), "100.0%") {
		t.Errorf("path table rows lack the losses")
	}
}
