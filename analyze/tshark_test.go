package analyze_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sonde/analyze"
	"sonde/capfile"
)

// requireTshark returns tshark's path, skipping the test when it is missing
// (failing when SONDE_REQUIRE_PRIVILEGED=1 says the full environment is
// there).
func requireTshark(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("tshark not found but SONDE_REQUIRE_PRIVILEGED=1: install it (apt-get install tshark)")
		}
		t.Skip("tshark not found: install it (apt-get install tshark) to compare with it")
	}
	return p
}

// analyzeFile runs an Analyzer with every table over a capture file.
func analyzeFile(t testing.TB, name string, cfg analyze.Config) *analyze.Analyzer {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	a := analyze.New(cfg)
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		a.Add(data, ci.Timestamp, ci.Length, ci.LinkType)
	}
	return a
}

// formatSize is tshark's format_size with SI prefixes, which its
// conversation tables use for bytes.
func formatSize(n uint64) string {
	for _, u := range []struct {
		div  uint64
		unit string
	}{{1e15, "PB"}, {1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if n/u.div >= 10 {
			return fmt.Sprintf("%d %s", n/u.div, u.unit)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// tsharkSections runs tshark with the -z arguments and returns its output
// split into the tables it prints, by their title line.
func tsharkSections(t *testing.T, tshark, file string, z ...string) map[string][]string {
	t.Helper()
	args := []string{"-n", "-q", "-r", file}
	for _, a := range z {
		args = append(args, "-z", a)
	}
	cmd := exec.Command(tshark, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	sections := map[string][]string{}
	var title string
	lines := strings.Split(out.String(), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "=====") {
			if i+1 < len(lines) && (strings.HasSuffix(lines[i+1], "Conversations") || strings.HasSuffix(lines[i+1], "Endpoints") || lines[i+1] == "Protocol Hierarchy Statistics") {
				title = lines[i+1]
				i++
				continue
			}
			title = ""
			continue
		}
		if title != "" && !strings.HasPrefix(l, "Filter:") && !strings.Contains(l, "|") && strings.TrimSpace(l) != "" {
			sections[title] = append(sections[title], l)
		}
	}
	return sections
}

func convRows(cs []analyze.Conversation) []string {
	var out []string
	for _, c := range cs {
		a, b := c.A.String(), c.B.String()
		if c.Kind == analyze.TCP || c.Kind == analyze.UDP {
			a, b = fmt.Sprintf("%s:%d", a, c.PortA), fmt.Sprintf("%s:%d", b, c.PortB)
		}
		out = append(out, fmt.Sprintf("%s <-> %s %d %s %d %s %d %s", a, b,
			c.FramesBA, formatSize(c.BytesBA), c.FramesAB, formatSize(c.BytesAB), c.Frames(), formatSize(c.Bytes())))
	}
	return out
}

func tsharkConvRows(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 12 {
			continue
		}
		out = append(out, strings.Join(f[:12], " "))
	}
	return out
}

func epRows(es []analyze.Endpoint) []string {
	var out []string
	for _, e := range es {
		port := ""
		if e.Kind == analyze.TCP || e.Kind == analyze.UDP {
			port = fmt.Sprintf(" %d", e.Port)
		}
		out = append(out, fmt.Sprintf("%s%s %d %d %d %d %d %d", e.Addr, port, e.Frames(), e.Bytes(), e.TxFrames, e.TxBytes, e.RxFrames, e.RxBytes))
	}
	return out
}

func tsharkEpRows(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

// ourProtocols are the protocols the hierarchy of analyze decodes; only
// paths made of them are compared.
var ourProtocols = map[string]bool{"eth": true, "sll": true, "null": true, "vlan": true, "ieee8021ad": true,
	"arp": true, "ip": true, "ipv6": true, "icmp": true, "icmpv6": true, "tcp": true, "udp": true, "dns": true}

func phsFlat(nodes []*analyze.ProtocolNode, prefix string, out map[string]string) {
	for _, n := range nodes {
		if !ourProtocols[n.Name] {
			continue
		}
		p := prefix + n.Name
		out[p] = fmt.Sprintf("frames:%d bytes:%d", n.Frames, n.Bytes)
		phsFlat(n.Children, p+":", out)
	}
}

func tsharkPHS(lines []string) map[string]string {
	out := map[string]string{}
	var stack []string
	for _, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		depth := (len(l) - len(trimmed)) / 2
		f := strings.Fields(trimmed)
		if len(f) != 3 {
			continue
		}
		stack = append(stack[:depth], f[0])
		ok := true
		for _, p := range stack {
			ok = ok && ourProtocols[p]
		}
		if ok {
			out[strings.Join(stack, ":")] = f[1] + " " + f[2]
		}
	}
	return out
}

func TestAgainstTshark(t *testing.T) {
	tshark := requireTshark(t)
	files, _ := filepath.Glob("testdata/*/*.pcap*")
	if len(files) < 40 {
		t.Fatalf("%d test captures, want the whole corpus", len(files))
	}
	if extra := os.Getenv("SONDE_TSHARK_FILES"); extra != "" {
		files = strings.Fields(extra)
	}
	z := []string{"io,phs"}
	for _, k := range []string{"eth", "ip", "ipv6", "tcp", "udp"} {
		z = append(z, "conv,"+k, "endpoints,"+k)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			a := analyzeFile(t, file, analyze.Config{Conversations: analyze.AllKinds, Endpoints: analyze.AllKinds, Hierarchy: true, FollowStream: -1})
			ts := tsharkSections(t, tshark, file, z...)
			for _, k := range []analyze.Kind{analyze.Eth, analyze.IPv4, analyze.IPv6, analyze.TCP, analyze.UDP} {
				if diff := cmp.Diff(tsharkConvRows(ts[k.String()+" Conversations"]), convRows(a.Conversations(k))); diff != "" {
					t.Errorf("%v conversations (-tshark +sonde):\n%s", k, diff)
				}
				if diff := cmp.Diff(tsharkEpRows(ts[k.String()+" Endpoints"]), epRows(a.Endpoints(k))); diff != "" {
					t.Errorf("%v endpoints (-tshark +sonde):\n%s", k, diff)
				}
			}
			ours := map[string]string{}
			phsFlat(a.Hierarchy(), "", ours)
			if diff := cmp.Diff(tsharkPHS(ts["Protocol Hierarchy Statistics"]), ours); diff != "" {
				t.Errorf("protocol hierarchy (-tshark +sonde):\n%s", diff)
			}
		})
	}
}
