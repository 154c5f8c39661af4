//go:build linux

package cli

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sonde/lab"
	"sonde/lab/labtest"
)

// txPackets reads the client's eth0 transmit counter, to prove that a
// command sent nothing.
func txPackets(t *testing.T, l *labtest.Lab) int {
	t.Helper()
	r := l.Command("client", "cat", "/sys/class/net/eth0/statistics/tx_packets")
	n, err := strconv.Atoi(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatalf("tx_packets: %q %v", r.Stdout, err)
	}
	return n
}

func TestSRBadInputSendsNothing(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sr", `IP(dst="198.18.0.2")/TCP(dprt=80)`}, `column 26`},
		{[]string{"sr", `IP(dst="198.18.0.2")/TPC()`}, `column 22`},
		{[]string{"sr", `IP(dst="198.18.0.2", ttl=300)/ICMP()`}, `column 26`},
		{[]string{"sr", `IP(dst="198.18.0.2")/TCP(dport=70000)`}, `column 32`},
		{[]string{"sr", `IP(dst="198.18.0.300")/ICMP()`}, `column 8`},
		{[]string{"sr", `IP(dst="no-such-host.invalid")/ICMP()`}, `column 8`},
		{[]string{"sr", `IP(dst="198.18.0.2")/ICMP(`}, `column`},
		{[]string{"sr", `Ether()/IP(dst="198.18.0.2")/ICMP()`}, `use srp`},
		{[]string{"srp", `IP(dst="198.18.0.2")/ICMP()`}, `start the expression with Ether()`},
		{[]string{"sr", `IP(dst="198.18.0.0/8")/TCP(dport=(1,1000))`}, `more than`},
		{[]string{"sr", "--timeout", "-1", `IP(dst="198.18.0.2")/ICMP()`}, `timeout`},
		{[]string{"ping", "-c", "3", "-t", "0", "198.18.0.2"}, `--ttl 0`},
		{[]string{"ping", "-c", "1", "no-such-host.invalid"}, `cannot resolve`},
		{[]string{"arping", "198.18.0.0/33"}, `not an IPv4 address or prefix`},
		{[]string{"arping", "2001:2::/64"}, `not an IPv4`},
	} {
		before := txPackets(t, l)
		r := l.Sonde("client", tc.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if r.Code != ExitUsage || !strings.Contains(lines[0], tc.want) || len(lines) > 2 || r.Stdout != "" {
			t.Errorf("sonde %q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
		}
		if after := txPackets(t, l); after != before {
			t.Errorf("sonde %q sent %d packets", tc.args, after-before)
		}
	}
}

// TestPCAPNGReadByTshark: tshark reads what sr -w writes, and its fields
// equal those of sonde's JSON for the same packets.
func TestPCAPNGReadByTshark(t *testing.T) {
	labtest.RequireCommand(t, "tshark", "tshark")
	l := labtest.New(t, "chain", lab.Options{Routers: 2, ICMPRateLimit: lab.NoRateLimit})
	dir := t.TempDir()
	fields := []string{"ip.src", "ip.dst", "ip.ttl", "tcp.flags", "tcp.seq", "udp.srcport", "udp.dstport", "icmp.type", "icmp.code"}
	for i, expr := range []string{
		`IP(dst="198.18.200.1")/TCP(dport=[22,23,80],flags="S")`,
		`IP(dst="198.18.200.1",ttl=(1,4))/UDP(dport=33434)`,
		`IP(dst="198.18.200.1")/UDP(dport=53)/DNS(qd=DNSQR(qname="far.lab"))`,
		`IP(dst="198.18.200.1")/ICMP(id=9,seq=(1,2))`,
	} {
		file := filepath.Join(dir, strconv.Itoa(i)+".pcapng")
		r := l.Sonde("client", "sr", "--json", "-w", file, "--timeout", "1", expr)
		if r.Code != 0 {
			t.Fatalf("sr %s: %d %s", expr, r.Code, r.Stderr)
		}
		want := map[string]map[string]string{} // comment → field → value
		for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			var obj struct {
				Index    *int            `json:"index"`
				Sent     json.RawMessage `json:"sent"`
				Received json.RawMessage `json:"received"`
			}
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("JSON line %q: %v", line, err)
			}
			if obj.Index == nil {
				continue // the stats line
			}
			want["sent #"+strconv.Itoa(*obj.Index)] = firstOccurrences(t, obj.Sent)
			if obj.Received != nil {
				want["answer to #"+strconv.Itoa(*obj.Index)] = firstOccurrences(t, obj.Received)
			}
		}
		args := []string{"-n", "-r", file, "-o", "tcp.relative_sequence_numbers:FALSE", "-T", "fields", "-E", "occurrence=f", "-e", "frame.comment"}
		for _, f := range fields {
			args = append(args, "-e", f)
		}
		out, err := exec.Command("tshark", args...).Output()
		if err != nil {
			t.Fatalf("tshark cannot read %s: %v", file, err)
		}
		rows := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(rows) != len(want) {
			t.Errorf("%s: tshark reads %d packets, sonde's JSON has %d", expr, len(rows), len(want))
		}
		for _, row := range rows {
			cols := strings.Split(row, "\t")
			if len(cols) != len(fields)+1 {
				t.Fatalf("tshark row %q: %d columns", row, len(cols))
			}
			w, ok := want[cols[0]]
			if !ok {
				t.Errorf("%s: tshark row %q has no JSON counterpart", expr, row)
				continue
			}
			for j, f := range fields {
				if got := cols[j+1]; got != w[f] {
					t.Errorf("%s, %s: %s is %q in tshark, %q in sonde's JSON", expr, cols[0], f, got, w[f])
				}
			}
		}
	}
}

// firstOccurrences walks a packet's JSON in document order and keeps the
// first value of each field, as tshark -E occurrence=f does: the outer
// header's before the one an ICMP error quotes.
func firstOccurrences(t *testing.T, raw json.RawMessage) map[string]string {
	t.Helper()
	out := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := walkObject(dec, out); err != nil {
		t.Fatalf("JSON %s: %v", raw, err)
	}
	if len(out) == 0 {
		t.Fatalf("JSON %s has no fields", raw)
	}
	return out
}

// walkObject reads one object, from its opening brace, from dec.
func walkObject(dec *json.Decoder, out map[string]string) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("want an object, got %v %v", tok, err)
	}
	return walkMembers(dec, out)
}

// walkMembers reads the members of an object whose brace was read, and
// its closing brace.
func walkMembers(dec *json.Decoder, out map[string]string) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if tok, err = dec.Token(); err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' {
				if err := walkMembers(dec, out); err != nil {
					return err
				}
				continue
			}
			// An array: keep its first element.
			for dec.More() {
				el, err := dec.Token()
				if err != nil {
					return err
				}
				if _, seen := out[key]; !seen {
					out[key] = fmt.Sprint(el)
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
		default:
			if _, seen := out[key]; !seen {
				out[key] = fmt.Sprint(v)
			}
		}
	}
	_, err := dec.Token()
	return err
}
