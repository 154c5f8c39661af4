package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const mixPcap = "../../analyze/testdata/mix.pcap"

// TestReportBadInput checks that bad input is one line, exit 2, and that
// no output file is created or overwritten.
func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	os.WriteFile(badJSON, []byte("{not json"), 0o644)
	notPcap := filepath.Join(dir, "not.pcap")
	os.WriteFile(notPcap, []byte("hello, this is not a capture file at all"), 0o644)
	existing := filepath.Join(dir, "existing.html")
	os.WriteFile(existing, []byte("keep me"), 0o644)
	fresh := filepath.Join(dir, "fresh.html")
	for _, args := range [][]string{
		{"report", filepath.Join(dir, "missing.pcap"), "-o", fresh},
		{"report", notPcap, "-o", fresh},
		{"report", mixPcap, "--trace", badJSON, "-o", fresh},
		{"report", mixPcap, "--scan", badJSON, "-o", fresh},
		{"report", mixPcap, "--trace", filepath.Join(dir, "missing.json"), "-o", fresh},
		{"report", mixPcap, "--db", filepath.Join(dir, "missing.mmdb"), "-o", fresh},
		{"report", mixPcap, "--top", "0", "-o", fresh},
		{"report", mixPcap, "--bogus", "-o", fresh},
		{"report", notPcap, "-o", existing},
		{"report", mixPcap, "--trace", badJSON, "-o", existing},
		{"report"},
	} {
		out, errs, code := runCLI(t, args...)
		if code != ExitUsage {
			t.Errorf("sonde %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), code, ExitUsage, errs)
		}
		if out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("sonde %s: want one line on stderr, got stdout %q stderr %q", strings.Join(args, " "), out, errs)
		}
		if _, err := os.Stat(fresh); err == nil {
			t.Fatalf("sonde %s created %s", strings.Join(args, " "), fresh)
		}
		if b, _ := os.ReadFile(existing); string(b) != "keep me" {
			t.Fatalf("sonde %s overwrote %s", strings.Join(args, " "), existing)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("files left in %s: %v", dir, ents)
	}
}

func TestReportWritesPage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	stdout, errs, code := runCLI(t, "report", mixPcap, "--trace", "../../report/testdata/trace.json",
		"--scan", "../../report/testdata/scan.json", "--db", "lab", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// mix.pcap's servers are in 198.18.0.0/15, which the lab geography
	// places; the demo's trace has 5 hops, one silent.
	want := regexp.MustCompile(`^wrote ` + regexp.QuoteMeta(out) + `: 400 packets, 16 IP conversations, 32 IP endpoints \([1-9]\d* located in [1-9]\d* countries\), a trace of 5 hops \(4 on the map\), a scan of 1 host\(s\)\n$`)
	if !want.MatchString(stdout) {
		t.Errorf("stdout %q, want %s", stdout, want)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), `class="hop"`) {
		t.Errorf("the page: %v, %.40q", err, b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left in %s: %v", dir, ents)
	}
	// -o - writes the page alone to standard output.
	stdout, _, code = runCLI(t, "report", mixPcap, "--no-geo", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, "<!DOCTYPE html>") || !strings.HasSuffix(stdout, "</html>\n") {
		t.Errorf("-o -: exit %d, %.60q", code, stdout)
	}
}

func TestReportDefaultOutput(t *testing.T) {
	for in, want := range map[string]string{"demo.pcapng": "demo.html", "/x/y/cap.pcap": "cap.html", "noext": "noext.html", "-": "report.html"} {
		if got := reportOutput(in); got != want {
			t.Errorf("reportOutput(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReportDamagedCapture: a capture cut in the middle of a packet gives
// the page of what was read, then the error, and exit status 1.
func TestReportDamagedCapture(t *testing.T) {
	data, err := os.ReadFile(mixPcap)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)-30], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "cut.html")
	stdout, errs, code := runCLI(t, "report", "--no-geo", cut, "-o", out)
	if code != ExitFailure {
		t.Errorf("exit %d, want %d", code, ExitFailure)
	}
	if !strings.HasPrefix(stdout, "wrote "+out+": 399 packets") {
		t.Errorf("stdout %q, want the page of the 399 whole packets", stdout)
	}
	if !strings.Contains(errs, "truncated record") {
		t.Errorf("stderr %q", errs)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.HasSuffix(string(b), "</html>\n") {
		t.Errorf("the page of the damaged capture: %v", err)
	}
}
