//go:build linux

package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sonde/lab"
	"sonde/lab/labtest"
)

// linkTxPackets reads the client's eth0 transmit counter from netlink
// (ip -s link), which is the node's own: /sys may show another
// namespace's, as "lab exec" does not remount sysfs.
func linkTxPackets(t *testing.T, l *labtest.Lab) int {
	t.Helper()
	r := l.Command("client", "ip", "-j", "-s", "link", "show", "eth0")
	var links []struct {
		Stats64 struct {
			TX struct {
				Packets int `json:"packets"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -j -s link: %q %v", r.Stdout, err)
	}
	return links[0].Stats64.TX.Packets
}

func TestScanBadInputSendsNothing(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	// The kernel sends MLD reports of its own for a second or two after
	// the link comes up: wait until the counter holds still.
	for i, last, still := 0, -1, 0; i < 100 && still < 15; i++ {
		if n := linkTxPackets(t, l); n == last {
			still++
		} else {
			last, still = n, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "198.18.0.0/33"}, `"198.18.0.0/33", column 12`},
		{[]string{"scan", "198.18.0.300"}, `column 10`},
		{[]string{"scan", "198.18.1-300.1"}, `column 10`},
		{[]string{"scan", "-p", "70000", "198.18.0.2"}, `ports "70000", column 1`},
		{[]string{"scan", "-p", "22,80-70000", "198.18.0.2"}, `column 7`},
		{[]string{"scan", "--shard", "3/2", "198.18.0.2"}, `--shard 3/2`},
		{[]string{"scan", "--exclude", "198.18.0.0/24", "198.18.0.2"}, `no target left`},
		{[]string{"scan", "-p", "22", "224.0.0.1"}, `no target left`},
		{[]string{"scan", "-iL", empty}, `no target`},
		{[]string{"scan", "-sQ", "198.18.0.2"}, `unknown scan type`},
		{[]string{"scan", "-p", "U:53", "198.18.0.2"}, `no port`},
		{[]string{"scan", "--resume", empty}, `--resume`},
	} {
		before := linkTxPackets(t, l)
		r := l.Sonde("client", tc.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if r.Code != ExitUsage || !strings.Contains(lines[0], tc.want) || len(lines) > 2 || r.Stdout != "" {
			t.Errorf("sonde %q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
		}
		if after := linkTxPackets(t, l); after != before {
			t.Errorf("sonde %q sent %d packets", tc.args, after-before)
		}
	}
	// The counter is the right one: a real scan moves it.
	before := linkTxPackets(t, l)
	if r := l.Sonde("client", "scan", "-p", "1-100", "198.18.0.2"); r.Code != 0 {
		t.Fatalf("scan: %d %s", r.Code, r.Stderr)
	}
	if after := linkTxPackets(t, l); after-before < 100 {
		t.Errorf("a scan of 100 ports moved the counter by %d", after-before)
	}
}

// TestScanOutputs: the XML is valid against nmap's DTD and ndiff finds no
// port difference from nmap's own scan; the JSON lines parse; the grepable
// and normal outputs name the same open ports.
func TestScanOutputs(t *testing.T) {
	labtest.RequireCommand(t, "xmllint", "libxml2-utils")
	labtest.RequireCommand(t, "ndiff", "ndiff")
	labtest.RequireCommand(t, "nmap", "nmap")
	l := labtest.New(t, "pair", lab.Options{})
	dir := t.TempDir()
	base := filepath.Join(dir, "s")
	r := l.Sonde("client", "scan", "-p", "1-10000", "--seed", "3", "-oA", base, "198.18.0.2")
	if r.Code != 0 {
		t.Fatalf("scan: %d %s", r.Code, r.Stderr)
	}
	if out, err := exec.Command("xmllint", "--noout", "--dtdvalid", "/usr/share/nmap/nmap.dtd", base+".xml").CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
	nx := filepath.Join(dir, "nmap.xml")
	if n := l.Command("client", "nmap", "-n", "-Pn", "-sS", "-p", "1-10000", "-T4", "-oX", nx, "198.18.0.2"); n.Code != 0 {
		t.Fatalf("nmap: %s", n.Stderr)
	}
	out, _ := exec.Command("ndiff", nx, base+".xml").CombinedOutput()
	if strings.Contains(string(out), "Traceback") || regexp.MustCompile(`(?m)^[-+]\d+/tcp`).Match(out) {
		t.Errorf("ndiff nmap sonde:\n%s", out)
	}
	table, _ := os.ReadFile(base + ".nmap")
	gnmap, _ := os.ReadFile(base + ".gnmap")
	for _, p := range []string{"21", "22", "25", "80", "443", "3306", "8080"} {
		if !regexp.MustCompile(`(?m)^` + p + `/tcp +open`).Match(table) {
			t.Errorf("table lacks %s/tcp open:\n%s", p, table)
		}
		if !strings.Contains(string(gnmap), " "+p+"/open/tcp//") {
			t.Errorf("grepable lacks %s:\n%s", p, gnmap)
		}
	}
	if r.Stdout != string(table) {
		t.Errorf("-oN differs from standard output")
	}
	j := l.Sonde("client", "scan", "-p", "1-10000", "--json", "198.18.0.2")
	lines := strings.Split(strings.TrimSpace(j.Stdout), "\n")
	open := 0
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("JSON line %q: %v", line, err)
		}
		if m["state"] == "open" {
			open++
		}
	}
	if open != 7 || !strings.Contains(lines[len(lines)-1], `"type":"stats"`) {
		t.Errorf("JSON: %d open, last line %q", open, lines[len(lines)-1])
	}
	if _, err := exec.LookPath("jq"); err == nil {
		cmd := exec.Command("jq", "select(.type==\"port\") | .port")
		cmd.Stdin = strings.NewReader(j.Stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("jq: %v %s", err, out)
		}
	}
}

// TestScanVersions: -sV names the lab's SSH, HTTP, SMTP, FTP and MySQL
// services and their versions as the lab's services claim them.
func TestScanVersions(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	r := l.Sonde("client", "scan", "-sV", "-p", "21,22,25,80,443,3306,8080", "--json", "198.18.0.2")
	if r.Code != 0 {
		t.Fatalf("scan -sV: %d %s", r.Code, r.Stderr)
	}
	got := map[uint16]jsonResult{}
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		var j jsonResult
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			t.Fatal(err)
		}
		if j.Type == "port" {
			got[j.Port] = j
		}
	}
	for port, want := range map[uint16][3]string{
		21:   {"ftp", "vsftpd", "3.0.3"},
		22:   {"ssh", "OpenSSH", "9.2p1 Debian 2+deb12u3"},
		25:   {"smtp", "Postfix smtpd", ""},
		80:   {"http", "nginx", "1.22.1"},
		443:  {"https", "nginx", "1.22.1"},
		3306: {"mysql", "MySQL", "8.0.36-0+deb12u1"},
		8080: {"http", "nginx", "1.22.1"},
	} {
		g := got[port]
		if g.Service != want[0] || g.Product != want[1] || g.Version != want[2] {
			t.Errorf("port %d: %q %q %q, want %q", port, g.Service, g.Product, g.Version, want)
		}
	}
	if !strings.Contains(got[443].Info, "target.lab") {
		t.Errorf("443: info %q lacks the certificate's name", got[443].Info)
	}
}

// TestScanUDP: DNS and NTP are found open, closed ports closed, although
// the target's kernel answers at most one port unreachable a second after
// a burst of six.
func TestScanUDP(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	r := l.Sonde("client", "scan", "-sU", "-p", "53,123,9-20", "--json", "--all", "198.18.0.2")
	if r.Code != 0 {
		t.Fatalf("scan -sU: %d %s", r.Code, r.Stderr)
	}
	states := map[uint16]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		var j jsonResult
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			t.Fatal(err)
		}
		if j.Type == "port" {
			states[j.Port] = j.State + " " + j.Reason
		}
	}
	for p := uint16(9); p <= 20; p++ {
		if states[p] != "closed port-unreach" {
			t.Errorf("udp %d: %q, want closed port-unreach", p, states[p])
		}
	}
	for _, p := range []uint16{53, 123} {
		if states[p] != "open udp-response" {
			t.Errorf("udp %d: %q, want open udp-response", p, states[p])
		}
	}
}

// TestScanResume: a scan interrupted by SIGINT prints what it found and
// writes a resume file; --resume finishes it, and together they find
// every open port.
func TestScanResume(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "r.resume")
	r := l.Command("client", "timeout", "-s", "INT", "0.15", labtest.Binary(t), "scan", "-Pn", "-p-", "--rate", "100000", "--max-rate", "100000", "--seed", "4", "--resume-file", file, "198.18.0.2")
	if r.Code == 0 || !strings.Contains(r.Stderr, "--resume "+file) { // timeout(1) exits 124 for it
		t.Fatalf("interrupted scan: exit %d, stderr %q", r.Code, r.Stderr)
	}
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(saved, &st); err != nil || st["answered"] == nil || st["answered"] == "" {
		t.Errorf("the resume file has no record of answered probes (%v): %.300s", err, saved)
	}
	// A damaged record: one line, exit 2.
	st["answered"] = "not base64!"
	damaged := filepath.Join(dir, "damaged.resume")
	b, _ := json.Marshal(st)
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := l.Sonde("client", "scan", "--resume", damaged); r.Code != 2 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 || !strings.Contains(r.Stderr, "damaged") {
		t.Errorf("damaged record: exit %d, stderr %q; want 2 and one line", r.Code, r.Stderr)
	}
	r2 := l.Sonde("client", "scan", "--resume", file)
	if r2.Code != 0 {
		t.Fatalf("resumed: %d %s", r2.Code, r2.Stderr)
	}
	for _, p := range []string{"21", "22", "25", "80", "443", "3306", "8080"} {
		if !regexp.MustCompile(`(?m)^` + p + `/tcp +open`).MatchString(r2.Stdout) {
			t.Errorf("resumed scan lacks %s/tcp open:\n%s", p, r2.Stdout)
		}
	}
}

// TestScanOutputsIPv6UDP: a UDP scan and an IPv6 SYN scan, of an IPv4 and
// an IPv6 target at once, write XML valid against nmap's DTD, grepable
// lines and a table that name the same open ports and the closed ones'
// reason.
func TestScanOutputsIPv6UDP(t *testing.T) {
	labtest.RequireCommand(t, "xmllint", "libxml2-utils")
	l := labtest.New(t, "pair", lab.Options{})
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		open []string
		not  string
	}{
		{[]string{"-sU", "-p", "53,123,1000-1003"}, []string{"53/udp", "123/udp"}, "Not shown: 4 closed udp ports (port-unreach)"},
		{[]string{"-sS", "-p", "1-1000"}, []string{"21/tcp", "22/tcp", "25/tcp", "80/tcp", "443/tcp"}, "Not shown: 995 closed tcp ports (reset)"},
	} {
		base := filepath.Join(dir, tc.args[0])
		args := append([]string{"scan", "-Pn", "--seed", "1", "-oA", base}, tc.args...)
		r := l.Sonde("client", append(args, "198.18.0.2", "2001:2::2")...)
		if r.Code != 0 {
			t.Fatalf("%q: %d %s", args, r.Code, r.Stderr)
		}
		if out, err := exec.Command("xmllint", "--noout", "--dtdvalid", "/usr/share/nmap/nmap.dtd", base+".xml").CombinedOutput(); err != nil {
			t.Errorf("%q: xmllint: %v\n%s", args, err, out)
		}
		xml, _ := os.ReadFile(base + ".xml")
		gnmap, _ := os.ReadFile(base + ".gnmap")
		if !strings.Contains(string(xml), `addr="2001:2::2" addrtype="ipv6"`) {
			t.Errorf("%q: XML lacks the IPv6 host:\n%s", args, xml)
		}
		if n := strings.Count(r.Stdout, tc.not); n != 2 {
			t.Errorf("%q: %d hosts say %q:\n%s", args, n, tc.not, r.Stdout)
		}
		for _, p := range tc.open {
			port, proto, _ := strings.Cut(p, "/")
			if n := len(regexp.MustCompile(`(?m)^`+p+` +open`).FindAllString(r.Stdout, -1)); n != 2 {
				t.Errorf("%q: %d tables show %s open:\n%s", args, n, p, r.Stdout)
			}
			if n := strings.Count(string(gnmap), " "+port+"/open/"+proto+"//"); n != 2 {
				t.Errorf("%q: %d grepable hosts show %s:\n%s", args, n, p, gnmap)
			}
			if n := strings.Count(string(xml), `<port protocol="`+proto+`" portid="`+port+`"><state state="open"`); n != 2 {
				t.Errorf("%q: %d XML hosts show %s", args, n, p)
			}
		}
	}
}

// TestScanHostsJSON: -sn --json prints one "host" line per target, and
// nothing else.
func TestScanHostsJSON(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{Hosts: 3, NoServices: true})
	r := l.Sonde("client", "scan", "-sn", "--json", "198.18.0.8-15")
	if r.Code != 0 {
		t.Fatalf("scan -sn --json: %d %s", r.Code, r.Stderr)
	}
	var up []string
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	for _, line := range lines {
		var j jsonResult
		if err := json.Unmarshal([]byte(line), &j); err != nil || j.Type != "host" {
			t.Fatalf("line %q: %v, want a host line", line, err)
		}
		if j.State == "up" {
			up = append(up, j.Addr.String()+" "+j.Reason)
		} else if j.State != "down" {
			t.Errorf("line %q: state neither up nor down", line)
		}
	}
	want := []string{"198.18.0.11 arp-response", "198.18.0.12 arp-response", "198.18.0.13 arp-response"}
	slices.Sort(up)
	if len(lines) != 8 || !slices.Equal(up, want) {
		t.Errorf("%d lines, up %q; want 8 lines, up %q", len(lines), up, want)
	}
}
