package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sonde/lab/labtest"
)

// readFieldsCaptures are compared with tshark field by field.
var readFieldsCaptures = []string{
	"../../analyze/testdata/mix.pcap",
	"../../capfile/testdata/tcpdump/dns_udp.pcap",
	"../../capfile/testdata/tcpdump/icmpv6.pcap",
	"../../capfile/testdata/tcpdump/print-flags.pcap",
	"../../capfile/testdata/tcpdump/ssh.pcap",
	"../../capfile/testdata/tcpdump/QinQpacket.pcap",
}

var readFields = "frame.number,frame.len,frame.cap_len,eth.src,eth.dst,ip.src,ip.dst,ip.ttl,ip.proto,ip.id," +
	"ipv6.src,ipv6.dst,ipv6.hlim,tcp.srcport,tcp.dstport,tcp.seq,tcp.ack,tcp.seq_raw,tcp.flags,tcp.len," +
	"tcp.window_size_value,udp.srcport,udp.dstport,udp.length,icmp.type,icmp.code,icmpv6.type,icmpv6.code,arp.opcode,dns.qry.name"

func TestReadFieldsEqualTshark(t *testing.T) {
	labtest.RequireCommand(t, "tshark", "tshark")
	files := 0
	for _, file := range readFieldsCaptures {
		matches, _ := filepath.Glob(file)
		if len(matches) == 0 {
			continue
		}
		files++
		args := []string{"-n", "-r", file, "-T", "fields", "-E", "separator=/t"}
		for _, f := range strings.Split(readFields, ",") {
			args = append(args, "-e", f)
		}
		want, err := exec.Command("tshark", args...).Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		code, got, errs := run(t, "read", file, "--fields", readFields)
		if code != 0 {
			t.Fatalf("sonde read %s: exit %d: %s", file, code, errs)
		}
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		if len(wl) != len(gl) {
			t.Errorf("%s: tshark prints %d lines, sonde %d", file, len(wl), len(gl))
		}
		names := strings.Split(readFields, ",")
		bad := 0
		for i := 0; i < len(wl) && i < len(gl) && bad < 10; i++ {
			wf, gf := strings.Split(wl[i], "\t"), strings.Split(gl[i], "\t")
			for j := range names {
				if j < len(wf) && j < len(gf) && wf[j] != gf[j] {
					t.Errorf("%s frame %d: %s is %q in tshark, %q in sonde", filepath.Base(file), i+1, names[j], wf[j], gf[j])
					bad++
				}
			}
		}
	}
	if files < 3 {
		t.Fatalf("only %d of the captures found", files)
	}
}

func TestReadFilterAndCount(t *testing.T) {
	file := "../../analyze/testdata/mix.pcap"
	code, all, _ := run(t, "read", file)
	code2, tcp, _ := run(t, "read", file, "tcp", "and", "port", "443")
	if code != 0 || code2 != 0 {
		t.Fatalf("exit %d, %d", code, code2)
	}
	nAll, nTCP := strings.Count(all, "\n"), strings.Count(tcp, "\n")
	if nTCP == 0 || nTCP >= nAll {
		t.Errorf("filter kept %d of %d packets", nTCP, nAll)
	}
	for _, line := range strings.Split(strings.TrimSpace(tcp), "\n") {
		if !strings.Contains(line, ".443") {
			t.Errorf("filtered line without port 443: %s", line)
			break
		}
	}
	if labtest.RequireCommand(t, "tcpdump", "tcpdump"); true {
		out, err := exec.Command("tcpdump", "-nn", "-r", file, "tcp and port 443").Output()
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(out, []byte("\n")); n != nTCP {
			t.Errorf("tcpdump keeps %d packets, sonde %d", n, nTCP)
		}
	}
	_, five, _ := run(t, "read", file, "-c", "5")
	if n := strings.Count(five, "\n"); n != 5 {
		t.Errorf("-c 5 printed %d lines", n)
	}
}

func TestReadBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"read", "../../analyze/testdata/mix.pcap", "tcp", "port", "70000"}, "70000"},
		{[]string{"read", "../../analyze/testdata/mix.pcap", "tcp and (port 80"}, "filter"},
		{[]string{"read", "../../analyze/testdata/mix.pcap", "--fields", "ip.sorc"}, `unknown field "ip.sorc"`},
		{[]string{"read", "no-such-file.pcap"}, "no such file"},
		{[]string{"read", "../../README.md"}, "README.md"},
	} {
		code, out, errs := run(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 || out != "" {
			t.Errorf("sonde %q: exit %d, stdout %d bytes, stderr %q; want exit 2 with %q", tc.args, code, len(out), errs, tc.want)
		}
	}
}

func TestReadTruncatedKeepsWhatItRead(t *testing.T) {
	code, out, errs := run(t, "read", "../../analyze/testdata/truncated.pcap")
	if code != ExitFailure || out == "" || !strings.Contains(errs, "truncated.pcap") {
		t.Errorf("truncated file: exit %d, %d bytes out, stderr %q; want the packets, then an error and exit 1", code, len(out), errs)
	}
	_ = context.Background
}

// TestReadLinesEqualTcpdump: the default output is tcpdump -nn's, relative
// sequence numbers included, and with -S tcpdump -nn -S's.
func TestReadLinesEqualTcpdump(t *testing.T) {
	labtest.RequireCommand(t, "tcpdump", "tcpdump")
	for _, file := range []string{"../../analyze/testdata/mix.pcap", "../../capfile/testdata/tcpdump/ssh.pcap", "../../capfile/testdata/tcpdump/dns_udp.pcap"} {
		for _, abs := range []bool{false, true} {
			targs, sargs := []string{"-nn", "-r", file}, []string{"read", file}
			if abs {
				targs, sargs = append(targs, "-S"), append(sargs, "-S")
			}
			cmd := exec.Command("tcpdump", targs...)
			cmd.Env = append(cmd.Environ(), "TZ=UTC")
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("tcpdump %s: %v", file, err)
			}
			t.Setenv("TZ", "UTC")
			code, got, errs := run(t, sargs...)
			if code != 0 {
				t.Fatalf("sonde read %s: %d %s", file, code, errs)
			}
			wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
			if len(wl) != len(gl) {
				t.Errorf("%s: tcpdump prints %d lines, sonde %d", file, len(wl), len(gl))
			}
			bad := 0
			for i := 0; i < len(wl) && i < len(gl) && bad < 5; i++ {
				if wl[i] != gl[i] {
					t.Errorf("%s -S=%v line %d:\ntcpdump: %s\nsonde:   %s", filepath.Base(file), abs, i+1, wl[i], gl[i])
					bad++
				}
			}
		}
	}
}

// TestReadTcpdumpCaptures reads every capture of tcpdump's own test suite,
// malformed ones included: no crash, and the packet count tcpdump reports
// (MANIFEST.tsv), all three output modes exercised.
func TestReadTcpdumpCaptures(t *testing.T) {
	manifest, err := os.ReadFile("../../capfile/testdata/tcpdump/MANIFEST.tsv")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n")[1:] {
		f := strings.Split(line, "\t")
		file := filepath.Join("../../capfile/testdata/tcpdump", f[0])
		want, _ := strconv.Atoi(f[4])
		if _, err := os.Stat(file); err != nil {
			continue // not copied into the project
		}
		for _, mode := range [][]string{nil, {"--json"}, {"--show"}, {"--fields", readFields}} {
			code, out, errs := run(t, append([]string{"read", file}, mode...)...)
			if code != 0 && code != ExitFailure {
				t.Errorf("%s %v: exit %d: %s", f[0], mode, code, errs)
				continue
			}
			if mode == nil {
				if got := strings.Count(out, "\n"); got != want && code == 0 {
					t.Errorf("%s: %d lines, tcpdump reports %d packets", f[0], got, want)
				}
			}
		}
		checked++
	}
	if checked < 50 {
		t.Errorf("only %d captures checked", checked)
	}
}
