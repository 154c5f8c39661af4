package cli

import (
	"bytes"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"sonde/capfile"
	"sonde/geo"
	"sonde/lab/labtest"
	htmlreport "sonde/report"
	"sonde/report/worldmap"
)

// chromium runs headless Chromium on a local file (page, with an optional
// #fragment) with everything that could reach a network turned off, and
// returns its standard output and error. extra are its other flags
// (--dump-dom, --screenshot=…).
func chromium(t *testing.T, page string, extra ...string) (stdout, stderr string, elapsed time.Duration) {
	t.Helper()
	file, frag, _ := strings.Cut(page, "#")
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	if frag != "" {
		abs += "#" + frag
	}
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
		"--no-first-run", "--disable-quic", "--no-pings", "--dns-prefetch-disable",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	args = append(args, "file://"+abs)
	cmd := exec.Command("chromium", args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	start := time.Now()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("chromium did not finish in 60s")
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, errs.String())
	}
	return out.String(), errs.String(), time.Since(start)
}

// consoleRE matches what Chromium logs (with --enable-logging=stderr) for
// a page's console messages, uncaught exceptions and CSP violations.
var consoleRE = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// TestChromiumConsoleCheckCatchesErrors proves that the checks of
// TestReportInChromium can fail: a page with a console error, an uncaught
// exception and a load its CSP refuses shows all three.
func TestChromiumConsoleCheckCatchesErrors(t *testing.T) {
	labtest.RequireCommand(t, "chromium", "chromium")
	bad := filepath.Join(t.TempDir(), "bad.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
<script>window.addEventListener("error",function(){document.documentElement.setAttribute("data-js-errors","1")});console.error("boom");null.x;</script></head>
<body><img src="missing.png">hi</body></html>`), 0o644)
	dom, errs, _ := chromium(t, bad, "--dump-dom")
	lines := consoleRE.FindAllString(errs, -1)
	joined := strings.Join(lines, "\n")
	for _, want := range []string{"boom", "Uncaught TypeError", "Content Security Policy"} {
		if !strings.Contains(joined, want) {
			t.Errorf("console lines lack %q:\n%s", want, joined)
		}
	}
	if !strings.Contains(dom, `data-js-errors="1"`) {
		t.Errorf("the DOM does not show the error attribute")
	}
}

// TestReportInChromium runs the demo, renders its report in headless
// Chromium, and checks that the page has no console errors, that its
// charts and map have the elements the analysis of the same files counts,
// and that its screenshot is not blank.
func TestReportInChromium(t *testing.T) {
	labtest.RequirePrivileges(t)
	labtest.RequireCommand(t, "chromium", "chromium")
	dir := t.TempDir()
	cmd := exec.Command(labtest.Binary(t), "lab", "demo", "--dir", dir)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sonde lab demo: %v\n%s", err, out)
	}
	page := filepath.Join(dir, "report.html")
	fi, err := os.Stat(page)
	if err != nil {
		t.Fatalf("the demo wrote no report: %v\n%s", err, out)
	}
	if fi.Size() > 5<<20 {
		t.Errorf("the report is %d bytes, want under 5 MB", fi.Size())
	}

	// What the page must show: the same analysis, in this process, with the
	// databases the demo's commands use in a lab.
	want := demoReportStats(t, dir)
	if want.Located < 2 || want.Countries < 2 || want.Hops == 0 || want.MapHops == 0 || want.Hosts != 1 {
		t.Fatalf("the demo's report shows too little to check: %+v", want)
	}

	dom, errs, elapsed := chromium(t, page, "--dump-dom")
	t.Logf("chromium --dump-dom: %v", elapsed)
	if lines := consoleRE.FindAllString(errs, -1); len(lines) > 0 {
		t.Errorf("the page logged to the console:\n%s", strings.Join(lines, "\n"))
	}
	root, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	htmlEl := elems(root, "html", "")[0]
	if attrOf(htmlEl, "data-js-errors") != "0" || attrOf(htmlEl, "data-js-ready") != "1" {
		t.Errorf("script: data-js-errors=%q (%s), data-js-ready=%q; want 0 and 1",
			attrOf(htmlEl, "data-js-errors"), attrOf(htmlEl, "data-js-error"), attrOf(htmlEl, "data-js-ready"))
	}
	counts := []struct {
		what      string
		tag, cls  string
		got, want int
	}{
		{what: "endpoint markers", tag: "circle", cls: "endpoint", want: want.Markers},
		{what: "countries of the map", tag: "path", cls: "country", want: len(worldmap.Countries())},
		{what: "countries with endpoints", tag: "path", cls: "active", want: want.Countries},
		{what: "IO series (two charts)", tag: "polyline", cls: "io-series", want: 2 * want.Series},
		{what: "legend items", tag: "span", cls: "legend-item", want: want.Series},
		{what: "protocol hierarchy rows", tag: "g", cls: "phs-row", want: want.Protocols},
		{what: "hops on the map", tag: "g", cls: "hop", want: want.MapHops},
		{what: "rows of the path table", tag: "tr", cls: "hop-row", want: want.Hops},
		{what: "scanned hosts", tag: "div", cls: "scan-host", want: want.Hosts},
		{what: "trace lines", tag: "polyline", cls: "trace-path", want: 1},
	}
	for _, c := range counts {
		if got := len(elems(root, c.tag, c.cls)); got != c.want {
			t.Errorf("%s: %d %s.%s in the page, want %d", c.what, got, c.tag, c.cls, c.want)
		}
	}
	if want.Markers != min(want.Located, 100) {
		t.Errorf("%d markers for %d located endpoints", want.Markers, want.Located)
	}

	// The script sorts as the address says: endpoints by bytes, ascending;
	// the path table by TTL, descending.
	dom, errs, _ = chromium(t, page+"#sort=endpoint-table:5:asc", "--dump-dom")
	if lines := consoleRE.FindAllString(errs, -1); len(lines) > 0 {
		t.Errorf("the page logged to the console:\n%s", strings.Join(lines, "\n"))
	}
	if root, err = html.Parse(strings.NewReader(dom)); err != nil {
		t.Fatal(err)
	}
	checkSorted(t, root, "endpoint-table", 5, true)
	dom, _, _ = chromium(t, page+"#sort=trace-path:0:desc", "--dump-dom")
	if root, err = html.Parse(strings.NewReader(dom)); err != nil {
		t.Fatal(err)
	}
	checkSorted(t, root, "trace-path", 0, false)

	png := filepath.Join(t.TempDir(), "report.png")
	_, _, elapsed = chromium(t, page, "--screenshot="+png, "--window-size=1280,2000", "--hide-scrollbars")
	t.Logf("chromium --screenshot: %v", elapsed)
	checkNotBlank(t, png)
}

// demoReportStats analyses the demo's files as sonde report does in the lab.
func demoReportStats(t *testing.T, dir string) htmlreport.Stats {
	t.Setenv(labEnv, "test") // the lab geography, as inside the demo's lab
	dbs, err := openGeoDBs(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	cfg := &htmlreport.Config{Geo: geo.NewEnricher(dbs...)}
	if cfg.Trace, err = readInput(filepath.Join(dir, "trace.json"), htmlreport.ReadTrace); err != nil {
		t.Fatal(err)
	}
	if cfg.Scan, err = readInput(filepath.Join(dir, "scan.json"), htmlreport.ReadScan); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "demo.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rep := htmlreport.New(cfg)
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rep.Add(data, ci.Timestamp, ci.Length, ci.LinkType)
	}
	answered := 0
	for _, h := range cfg.Trace.Hops {
		if _, ok := h.Addr(); ok {
			answered++
		}
	}
	st := rep.Stats()
	// Every address of the demo's path is in the lab geography.
	if st.MapHops != answered {
		t.Errorf("%d hops on the map, %d answered", st.MapHops, answered)
	}
	return st
}

// checkNotBlank fails unless the PNG has many colours and no colour covers
// nearly all of it.
func checkNotBlank(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() < 1000 || b.Dy() < 1000 {
		t.Errorf("screenshot of %v", b)
	}
	colours := map[[3]uint32]int{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
			n++
		}
	}
	most := 0
	for _, c := range colours {
		most = max(most, c)
	}
	t.Logf("screenshot %v: %d colours, the commonest covers %.1f%%", b, len(colours), 100*float64(most)/float64(n))
	if len(colours) < 50 || float64(most) > 0.95*float64(n) {
		t.Errorf("the screenshot looks blank: %d colours, the commonest covers %d of %d samples", len(colours), most, n)
	}
}

func elems(root *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag && (class == "" || strings.Contains(" "+attrOf(n, "class")+" ", " "+class+" ")) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// checkSorted checks that the rows of table id are in order (ascending or
// not) of column col's numbers, and that its heading says so.
func checkSorted(t *testing.T, root *html.Node, id string, col int, asc bool) {
	t.Helper()
	var table *html.Node
	for _, n := range elems(root, "table", "") {
		if attrOf(n, "id") == id {
			table = n
		}
	}
	if table == nil {
		t.Fatalf("no table %s", id)
	}
	heads := elems(table, "th", "")
	want := map[bool]string{true: "ascending", false: "descending"}[asc]
	if col >= len(heads) || attrOf(heads[col], "aria-sort") != want {
		t.Errorf("table %s: column %d is not marked %s", id, col, want)
	}
	var vals []float64
	for _, tr := range elems(table, "tr", "") {
		tds := elems(tr, "td", "")
		if len(tds) <= col {
			continue
		}
		v := attrOf(tds[col], "data-v")
		if v == "" {
			v = strings.TrimSpace(textOf(tds[col]))
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("table %s: cell %q is not a number", id, v)
		}
		vals = append(vals, f)
	}
	if len(vals) < 2 {
		t.Fatalf("table %s: %d rows, too few to tell an order", id, len(vals))
	}
	for i := 1; i < len(vals); i++ {
		if (asc && vals[i] < vals[i-1]) || (!asc && vals[i] > vals[i-1]) {
			t.Errorf("table %s not sorted %s by column %d: %v", id, want, col, vals)
			break
		}
	}
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}
