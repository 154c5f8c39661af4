package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const statsTestdata = "../../analyze/testdata/tcpdump/"

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestStatsUsageErrors(t *testing.T) {
	file := statsTestdata + "whois.pcap"
	for _, args := range [][]string{
		{"stats", "--conv", "foo", file},
		{"stats", "--endpoints", "tcp,bogus", file},
		{"stats", "--io", "-1s", file},
		{"stats", "--io", "soon", file},
		{"stats", "--follow", "udp,1", file},
		{"stats", "--follow", "tcp,x", file},
		{"stats", "--follow", "tcp,-2", file},
		{"stats", "--hex", file},
		{"stats"},
		{"stats", file, file},
	} {
		out, errs, code := runCLI(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errs)
		}
		if out != "" || !strings.HasPrefix(errs, "sonde: ") {
			t.Errorf("%v: stdout %q stderr %q", args, out, errs)
		}
		if first, _, _ := strings.Cut(errs, "\n"); strings.Count(errs, "\n") > 2 || first == "" {
			t.Errorf("%v: error is not one line: %q", args, errs)
		}
	}
}

func TestStatsMissingFile(t *testing.T) {
	_, errs, code := runCLI(t, "stats", filepath.Join(t.TempDir(), "nope.pcap"))
	if code != ExitFailure || !strings.Contains(errs, "no such file") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestStatsTruncatedFile(t *testing.T) {
	data, err := os.ReadFile(statsTestdata + "whois.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)-30], 0o644); err != nil {
		t.Fatal(err)
	}
	full, _, code := runCLI(t, "stats", "--conv", "tcp", statsTestdata+"whois.pcap")
	if code != 0 {
		t.Fatalf("full file: exit %d", code)
	}
	out, errs, code := runCLI(t, "stats", "--conv", "tcp", cut)
	if code != ExitFailure {
		t.Errorf("exit %d, want %d", code, ExitFailure)
	}
	if !strings.Contains(errs, "capfile: packet 11 at offset ") || !strings.Contains(errs, "truncated record") {
		t.Errorf("stderr %q", errs)
	}
	if !strings.Contains(full, "    11 884 bytes") || !strings.Contains(out, "    10 ") || !strings.Contains(out, "TCP Conversations") {
		t.Errorf("full:\n%s\ncut:\n%s", full, out)
	}
}

// TestStatsTablesAsTshark compares each table, as text, with what tshark
// prints for the same file.
func TestStatsTablesAsTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("tshark not found but SONDE_REQUIRE_PRIVILEGED=1")
		}
		t.Skip("tshark not found: apt-get install tshark to compare with it")
	}
	for _, tc := range []struct {
		file string
		z    string
		args []string
	}{
		{"whois.pcap", "conv,tcp", []string{"--conv", "tcp"}},
		{"whois.pcap", "conv,eth", []string{"--conv", "eth"}},
		{"ssh.pcap", "conv,ip", []string{"--conv", "ip"}},
		{"dns_udp.pcap", "conv,udp", []string{"--conv", "udp"}},
		{"icmpv6.pcap", "conv,ipv6", []string{"--conv", "ipv6"}},
		{"ssh.pcap", "endpoints,tcp", []string{"--endpoints", "tcp"}},
		{"dns_tcp.pcap", "endpoints,ip", []string{"--endpoints", "ip"}},
		{"dns_udp.pcap", "io,phs", []string{"--phs"}},
		{"whois.pcap", "io,stat,0.1", []string{"--io", "100ms"}},
		{"ssh.pcap", "io,stat,1", []string{"--io", "1s"}},
		{"whois.pcap", "follow,tcp,ascii,0", []string{"--follow", "tcp,0"}},
	} {
		file := statsTestdata + tc.file
		cmd := exec.Command(tshark, "-n", "-q", "-r", file, "-z", tc.z)
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		got, errs, code := runCLI(t, append(append([]string{"stats"}, tc.args...), file)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errs)
		}
		if got != string(want) {
			t.Errorf("%s %v:\n--- tshark -z %s\n%s\n--- sonde\n%s", tc.file, tc.args, tc.z, want, got)
		}
	}
}

func TestStatsJSON(t *testing.T) {
	out, errs, code := runCLI(t, "stats", "--json", "--conv", "tcp", "--endpoints", "ip", "--phs", "--io", "1s", "--follow", "tcp,0", "--dns", "--http", "--tls", statsTestdata+"dns_tcp.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	types := []string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		types = append(types, m["type"].(string))
	}
	if got := strings.Join(types, " "); got != "summary io phs conv endpoints follow dns http tls" {
		t.Errorf("tables %q", got)
	}
	if !strings.Contains(out, `"kind":"tcp"`) || !strings.Contains(out, `"frames":11`) {
		t.Errorf("output:\n%s", out)
	}
}

func TestStatsParquetFlows(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.parquet")
	_, errs, code := runCLI(t, "stats", "--parquet-flows", out, statsTestdata+"ssh.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(data, []byte("PAR1")) || !bytes.HasSuffix(data, []byte("PAR1")) {
		t.Errorf("not a parquet file (%d bytes, %v)", len(data), err)
	}
}
