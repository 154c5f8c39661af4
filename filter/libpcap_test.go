package filter

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/bpf"
)

// tcpdumpPath returns tcpdump's path, or skips the test (failing it when
// SONDE_REQUIRE_PRIVILEGED=1, as CI installs tcpdump).
func tcpdumpPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("tcpdump is required (SONDE_REQUIRE_PRIVILEGED=1) but not installed: apt-get install tcpdump")
		}
		t.Skip("tcpdump not installed; install it to compare the compiler with libpcap (apt-get install tcpdump)")
	}
	return p
}

// libpcapResult is libpcap's answer for one expression and link type.
type libpcapResult struct {
	prog       []bpf.RawInstruction // nil if rejected
	rejectsAll bool                 // libpcap: "expression rejects all packets"
	err        string               // libpcap's error otherwise
}

// dltName is the name tcpdump's -y takes for lt.
func dltName(lt LinkType) string { return lt.String() }

// libpcapCompile runs tcpdump -ddd, which compiles with libpcap (optimiser
// on) and prints the program as decimal raw instructions.
func libpcapCompile(tcpdump, expr string, lt LinkType) libpcapResult {
	cmd := exec.Command(tcpdump, "-ddd", "-y", dltName(lt), "--", expr)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		if strings.Contains(text, "expression rejects all packets") {
			return libpcapResult{rejectsAll: true}
		}
		return libpcapResult{err: text}
	}
	prog, perr := parseDDD(text)
	if perr != nil {
		return libpcapResult{err: "unparsable tcpdump output: " + perr.Error() + ": " + text}
	}
	return libpcapResult{prog: prog}
}

// parseDDD parses tcpdump -ddd output: a count, then "code jt jf k" lines.
func parseDDD(s string) ([]bpf.RawInstruction, error) {
	sc := bufio.NewScanner(strings.NewReader(s))
	if !sc.Scan() {
		return nil, errors.New("empty")
	}
	n, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil {
		return nil, err
	}
	var prog []bpf.RawInstruction
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			return nil, fmt.Errorf("bad line %q", sc.Text())
		}
		var v [4]uint64
		for i := range f {
			if v[i], err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, err
			}
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	if len(prog) != n {
		return nil, fmt.Errorf("%d instructions, header says %d", len(prog), n)
	}
	return prog, nil
}

// readLines reads a corpus file: one expression per line; blank lines and
// lines starting with # are skipped.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// vmRun runs a program in x/net/bpf's VM and reports acceptance.
type vmRunner struct {
	vm  *bpf.VM
	own *Program // fallback for what the VM cannot run (BPF_NEG)
}

func newVMRunner(raw []bpf.RawInstruction) (*vmRunner, error) {
	insns := make([]bpf.Instruction, len(raw))
	neg := false
	for i, r := range raw {
		insns[i] = r.Disassemble()
		if _, ok := insns[i].(bpf.NegateA); ok {
			neg = true
		}
	}
	if neg {
		p, err := FromRaw(raw, 0)
		if err != nil {
			return nil, err
		}
		return &vmRunner{own: p}, nil
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return nil, err
	}
	return &vmRunner{vm: vm}, nil
}

func (r *vmRunner) accept(pkt []byte) (bool, error) {
	if r.own != nil {
		return r.own.Match(pkt, len(pkt)), nil
	}
	n, err := r.vm.Run(pkt)
	return n != 0, err
}

// usesExtensions reports whether a libpcap program reads Linux ancillary
// data (SKF_AD_*, e.g. "inbound" on Ethernet), which no packet bytes hold.
func usesExtensions(prog []bpf.RawInstruction) bool {
	for _, r := range prog {
		if ext, ok := r.Disassemble().(bpf.LoadExtension); ok && ext.Num != bpf.ExtLen {
			return true
		}
	}
	return false
}

// TestAgainstLibpcap compiles every expression of testdata/exprs.txt for
// every link type with both this package and libpcap (via tcpdump -ddd),
// runs both programs in x/net/bpf's VM over every packet of the corpus, and
// requires the same verdict everywhere.
func TestAgainstLibpcap(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	if v, err := exec.Command(tcpdump, "--version").CombinedOutput(); err == nil {
		// The expected verdicts are libpcap 1.10's (tcpdump 4.99); say
		// which one answered.
		t.Logf("reference: %s", strings.Join(strings.Fields(string(v)), " "))
	}
	exprs := readLines(t, "testdata/exprs.txt")
	if len(exprs) < 300 {
		t.Errorf("expression corpus has %d expressions, want at least 300", len(exprs))
	}
	c := loadCorpus(t)
	type job struct {
		expr string
		lt   LinkType
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var compared, programs, mismatches, bothRejected, ourLen, libLen int
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		mismatches++
		if len(failures) < 200 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				lib := libpcapCompile(tcpdump, j.expr, j.lt)
				ours, err := Compile(j.expr, j.lt, DefaultSnaplen)
				switch {
				case lib.err != "" && err != nil:
					mu.Lock()
					bothRejected++
					mu.Unlock()
					continue
				case lib.err != "":
					fail("%s %q: libpcap rejects (%s), we accept", j.lt, j.expr, lib.err)
					continue
				case lib.prog != nil && usesExtensions(lib.prog):
					if err == nil {
						fail("%s %q: libpcap needs kernel ancillary data, we accept", j.lt, j.expr)
					}
					continue
				case err != nil:
					fail("%s %q: libpcap accepts, we reject: %v", j.lt, j.expr, err)
					continue
				}
				raw, _ := ours.RawInstructions()
				mine, err := newVMRunner(raw)
				if err != nil {
					fail("%s %q: x/net/bpf refuses our program: %v", j.lt, j.expr, err)
					continue
				}
				var theirs *vmRunner
				if !lib.rejectsAll {
					if theirs, err = newVMRunner(lib.prog); err != nil {
						fail("%s %q: x/net/bpf refuses libpcap's program: %v", j.lt, j.expr, err)
						continue
					}
				}
				n, bad := 0, 0
				for i, pk := range c[j.lt] {
					want := false
					if theirs != nil {
						if want, err = theirs.accept(pk.data); err != nil {
							fail("%s %q: libpcap's program fails in the VM: %v", j.lt, j.expr, err)
							break
						}
					}
					got, err := mine.accept(pk.data)
					if err != nil {
						fail("%s %q: our program fails in the VM: %v", j.lt, j.expr, err)
						break
					}
					if fast := ours.Match(pk.data, len(pk.data)); fast != got {
						fail("%s %q: packet %d (%s): Match says %v, x/net/bpf says %v", j.lt, j.expr, i, pk.name, fast, got)
					}
					n++
					if got != want {
						bad++
						if bad <= 3 {
							fail("%s %q: packet %d (%s): libpcap %v, sonde %v", j.lt, j.expr, i, pk.name, want, got)
						}
					}
				}
				mu.Lock()
				compared += n
				programs++
				if theirs != nil {
					ourLen += len(raw)
					libLen += len(lib.prog)
				}
				mu.Unlock()
			}
		}()
	}
	for _, e := range exprs {
		for _, lt := range linkTypesUnderTest {
			jobs <- job{e, lt}
		}
	}
	close(jobs)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	pk := 0
	for _, lt := range linkTypesUnderTest {
		pk += len(c[lt])
	}
	t.Logf("%d expressions x %d link types: %d programs compared on %d packets (%d expression x packet verdicts), %d rejected by both, %d mismatches",
		len(exprs), len(linkTypesUnderTest), programs, pk, compared, bothRejected, mismatches)
	t.Logf("program size: %d instructions in all, libpcap %d (%.2fx)", ourLen, libLen, float64(ourLen)/float64(max(libLen, 1)))
}

// TestRejectedLikeLibpcap checks that expressions libpcap refuses are
// refused here too, with an error that points inside the expression.
func TestRejectedLikeLibpcap(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	for _, e := range readLines(t, "testdata/bad_exprs.txt") {
		lib := libpcapCompile(tcpdump, e, LinkTypeEthernet)
		if lib.err == "" {
			t.Errorf("%q: libpcap accepts it; it does not belong in bad_exprs.txt", e)
			continue
		}
		_, err := Compile(e, LinkTypeEthernet, 0)
		if err == nil {
			t.Errorf("%q: libpcap rejects it (%s), we accept it", e, lib.err)
			continue
		}
		var se *SyntaxError
		if errors.As(err, &se) && (se.Offset < 0 || se.Offset > len(e)) {
			t.Errorf("%q: error offset %d outside the expression", e, se.Offset)
		}
	}
}
