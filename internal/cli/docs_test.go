package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sonde/lab"
	"sonde/lab/labtest"
)

// The docs are contracts: every ```console block of docs/*.md and the
// README runs here, and its output must match what the block shows.
//
//	```console                      runs from the repository root
//	```console privileged           the same, needing root (it builds labs)
//	```console lab=pair node=client runs inside a node of a fresh lab
//	```console lab=chain routers=3 silent=r2   … built with these options
//	```console privileged sections         only the sections and commands
//	                                        must match (live captures vary)
//
// Lines starting with "$ sonde " are commands; the lines after one, up to
// the next command, are its expected output (stdout and stderr). Durations
// and lab names are normalised before comparing. SONDE_DOCS_UPDATE=1
// rewrites the blocks with what the commands print now.

type docBlock struct {
	file       string
	line       int // of the opening fence
	info       map[string]string
	start, end int // byte offsets of the block's body in the file
	cmds       []docCmd
}

type docCmd struct {
	args []string
	want string
}

var fenceRE = regexp.MustCompile("(?m)^```console([^\n]*)\n")

func parseDocBlocks(t *testing.T, file string, src string) []docBlock {
	var blocks []docBlock
	for _, m := range fenceRE.FindAllStringSubmatchIndex(src, -1) {
		body := m[1]
		end := strings.Index(src[body:], "\n```")
		if end < 0 {
			t.Fatalf("%s: unterminated console block", file)
		}
		b := docBlock{file: file, line: strings.Count(src[:m[0]], "\n") + 1, info: map[string]string{},
			start: body, end: body + end + 1}
		for _, f := range strings.Fields(src[m[2]:m[3]]) {
			k, v, _ := strings.Cut(f, "=")
			b.info[k] = v
		}
		var cur *docCmd
		for _, line := range strings.SplitAfter(src[b.start:b.end], "\n") {
			if rest, ok := strings.CutPrefix(line, "$ sonde "); ok {
				args, err := splitArgs(strings.TrimSpace(rest))
				if err != nil {
					t.Fatalf("%s:%d: %v", file, b.line, err)
				}
				b.cmds = append(b.cmds, docCmd{args: args})
				cur = &b.cmds[len(b.cmds)-1]
			} else if cur != nil {
				cur.want += line
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// splitArgs splits a command line as a POSIX shell would for the simple
// quoting the docs use: single and double quotes, no expansions.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

var normalisers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\d+\.\d+/\d+\.\d+/\d+\.\d+/\d+\.\d+`), "RTTS"},
	{regexp.MustCompile(`\d+(\.\d+)?\s?(ns|µs|us|ms|s|m)\b`), "DUR"},
	{regexp.MustCompile(`\blab [0-9a-f]{6}\b`), "lab ID"},
	{regexp.MustCompile(`\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b`), "MAC"},
	{regexp.MustCompile(`(?m)[ \t]+$`), ""},
	// A scan's retries and estimated loss depend on the machine's load (a
	// reply dropped by a busy ring is sent again); what was answered and
	// the coverage are still compared.
	{regexp.MustCompile(`\d+ sent \(\d+ retries\)`), "N sent (N retries)"},
	{regexp.MustCompile(`estimated loss \d+\.\d+%`), "estimated loss L%"},
}

// sections keeps the lines of s that start a section ("== ") or show a
// command ("$ sonde "), normalised.
func sections(s string) string {
	var keep []string
	for _, line := range strings.Split(normalise(s), "\n") {
		if strings.HasPrefix(line, "== ") || strings.Contains(line, "$ sonde ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func normalise(s string) string {
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return strings.TrimRight(s, "\n")
}

func TestDocs(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	update := os.Getenv("SONDE_DOCS_UPDATE") == "1"
	t.Setenv("TZ", "UTC") // timestamps in the docs are in UTC
	ran := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		blocks := parseDocBlocks(t, file, src)
		var edits []string // new bodies, when updating; "" for a block that did not run
		for _, b := range blocks {
			var got strings.Builder
			t.Run(fmt.Sprintf("%s:%d", filepath.Base(file), b.line), func(t *testing.T) {
				runner := docRunner(t, b)
				for _, c := range b.cmds {
					out := runner(c.args)
					ran++
					fmt.Fprintf(&got, "$ sonde %s\n%s", quoteArgs(c.args), out)
					if _, ok := b.info["sections"]; ok {
						// Output that varies from run to run (packet counts of
						// a live capture): the sections and commands must
						// match, and the run succeed.
						if !update && sections(out) != sections(c.want) {
							t.Errorf("%s:%d: sonde %s shows the sections:\n%s\nthe doc shows:\n%s", file, b.line, quoteArgs(c.args), sections(out), sections(c.want))
						}
						continue
					}
					if !update && normalise(out) != normalise(c.want) {
						t.Errorf("%s:%d: sonde %s prints:\n%s\nthe doc shows:\n%s", file, b.line, quoteArgs(c.args), out, c.want)
					}
				}
			})
			edits = append(edits, got.String())
		}
		if update && len(blocks) > 0 {
			var out strings.Builder
			prev := 0
			for i, b := range blocks {
				out.WriteString(src[prev:b.start])
				if edits[i] == "" { // filtered out by -run: keep it as it is
					out.WriteString(src[b.start:b.end])
				} else {
					out.WriteString(edits[i])
				}
				prev = b.end
			}
			out.WriteString(src[prev:])
			if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no command of the docs ran")
	}
}

// docRunner returns a function that runs sonde with args where block b
// says, returning stdout and stderr together.
func docRunner(t *testing.T, b docBlock) func(args []string) string {
	if topo, ok := b.info["lab"]; ok {
		var o lab.Options
		for k, v := range b.info {
			n, _ := strconv.Atoi(v)
			switch k {
			case "routers":
				o.Routers = n
			case "hosts":
				o.Hosts = n
			case "loss":
				o.Loss = float64(n)
			case "drop":
				o.Drop = append(o.Drop, uint16(n))
			case "reject":
				o.Reject = append(o.Reject, uint16(n))
			case "silent":
				o.Silent = append(o.Silent, v)
			case "lab", "node":
			default:
				t.Fatalf("%s:%d: unknown lab option %s", b.file, b.line, k)
			}
		}
		l := labtest.New(t, topo, o)
		node := b.info["node"]
		if node == "" {
			node = l.Topology.Client
		}
		return func(args []string) string {
			r := l.Sonde(node, args...)
			return r.Stdout + r.Stderr
		}
	}
	if _, ok := b.info["privileged"]; ok {
		labtest.RequirePrivileges(t)
	}
	return func(args []string) string {
		cmd := exec.Command(labtest.Binary(t), args...)
		cmd.Dir = "../.."
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		if err := cmd.Run(); err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatal(err)
			}
		}
		return out.String()
	}
}

func TestSplitArgs(t *testing.T) {
	got, err := splitArgs(`sr 'IP(dst="198.18.0.2")/TCP(dport=80)' --timeout 1s "a b"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sr", `IP(dst="198.18.0.2")/TCP(dport=80)`, "--timeout", "1s", "a b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("splitArgs = %q, want %q", got, want)
	}
	if _, err := splitArgs(`'open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}
