//go:build linux

package cli

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sonde/lab"
	"sonde/lab/labtest"
)

// startCapture starts a capturing command in node and waits until it says
// it is listening (on stderr, as tcpdump and sonde sniff both do).
func startCapture(t *testing.T, l *labtest.Lab, node string, name string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Node(node).Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var rest strings.Builder
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "listening on") {
				close(ready)
				signalled = true
				continue
			}
			rest.WriteString(sc.Text() + "\n")
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start listening", name)
	}
	return cmd, &rest
}

// TestSniffSeesWhatTcpdumpSees sends a burst as fast as sonde send can into
// the target, captured there by tcpdump and sonde sniff at once; both are
// stopped with SIGINT. sonde must see every packet tcpdump sees, and its
// pcapng must hold every packet it counted.
func TestSniffSeesWhatTcpdumpSees(t *testing.T) {
	labtest.RequireCommand(t, "tcpdump", "tcpdump")
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "sonde.pcapng"), filepath.Join(dir, "tcpdump.pcap")
	sniff, sniffErr := startCapture(t, l, "target", labtest.Binary(t), "sniff", "-i", "eth0", "-w", ours, "--ring", "32M/16", "udp", "port", "9")
	tcpdump, _ := startCapture(t, l, "target", "tcpdump", "-n", "-i", "eth0", "-B", "32768", "-w", theirs, "udp port 9")
	const burst = 20000
	r := l.Sonde("client", "send", `IP(dst="198.18.0.2")/UDP(sport=(1,20000),dport=9)/"sonde"`)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Sent 20000 packets") {
		t.Fatalf("send: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	time.Sleep(500 * time.Millisecond)
	for _, c := range []*exec.Cmd{sniff, tcpdump} {
		c.Process.Signal(syscall.SIGINT)
	}
	if err := sniff.Wait(); err != nil {
		t.Errorf("sonde sniff after SIGINT: %v", err)
	}
	tcpdump.Wait()
	time.Sleep(100 * time.Millisecond) // the stderr reader
	m := regexp.MustCompile(`(\d+) packets captured`).FindStringSubmatch(sniffErr.String())
	if m == nil {
		t.Fatalf("sonde sniff did not report its count:\n%s", sniffErr)
	}
	counted, _ := strconv.Atoi(m[1])
	inFile := countPackets(t, ours)
	seenByTcpdump := countPackets(t, theirs)
	t.Logf("sent %d; tcpdump saw %d; sonde counted %d and wrote %d", burst, seenByTcpdump, counted, inFile)
	if inFile != counted {
		t.Errorf("sonde counted %d packets but its pcapng holds %d", counted, inFile)
	}
	if inFile < seenByTcpdump {
		t.Errorf("sonde saw %d packets, tcpdump %d", inFile, seenByTcpdump)
	}
	if inFile == 0 {
		t.Error("sonde saw nothing")
	}
	labtest.RequireCommand(t, "tshark", "tshark")
	out, err := exec.Command("tshark", "-n", "-r", ours, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark cannot read sonde's pcapng: %v", err)
	}
	if n := strings.Count(string(out), "\n"); n != inFile {
		t.Errorf("tshark reads %d packets in sonde's pcapng, sonde %d", n, inFile)
	}
}

// countPackets counts a capture file's packets with sonde read, which also
// proves the file valid to the end.
func countPackets(t *testing.T, file string) int {
	t.Helper()
	code, out, errs := run(t, "read", file, "-t")
	if code != 0 {
		t.Fatalf("read %s: exit %d: %s", file, code, errs)
	}
	return strings.Count(out, "\n")
}
