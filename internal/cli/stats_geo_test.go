package cli

import (
	"strings"
	"testing"
)

// TestStatsEndpointsGeo: --geo adds the country and AS of each endpoint
// from the geo databases (the embedded one at least).
func TestStatsEndpointsGeo(t *testing.T) {
	code, out, errs := run(t, "stats", "--endpoints", "ip", "--geo", "../../capfile/testdata/tcpdump/dns_udp.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var private, public string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "192.168.1.11 "):
			private = line
		case strings.HasPrefix(line, "209.87.249.18 "):
			public = line
		}
	}
	if !strings.Contains(out, "Country | AS") || !strings.HasSuffix(strings.TrimSpace(private), "-         -") || !strings.Contains(public, " CA ") {
		t.Errorf("endpoints with --geo:\n%s", out)
	}
	code, out, _ = run(t, "stats", "--endpoints", "ip", "../../capfile/testdata/tcpdump/dns_udp.pcap")
	if code != 0 || strings.Contains(out, "Country") {
		t.Errorf("without --geo the table must stay tshark's:\n%s", out)
	}
}
