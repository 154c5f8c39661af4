// Package labtest builds sonde labs for tests: a lab per test, torn down
// when the test ends, and helpers to run code and commands inside its nodes.
//
//	l := labtest.New(t, "pair", lab.Options{})
//	l.Do("client", func() { … }) // sockets opened here live in the client
//	out := l.Sonde("client", "ping", "-c", "1", l.Addr("target").String())
//
// # Privileges
//
// Building a lab needs root. Without it a test skips with a hint; when
// the environment sets SONDE_REQUIRE_PRIVILEGED=1 (as CI does) it fails
// instead, so no privileged test is skipped silently.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"sonde/lab"
)

// Lab is a lab owned by one test.
type Lab struct {
	*lab.Lab
	t testing.TB
}

// RequirePrivileges skips the test when the process cannot build labs, or
// fails it when SONDE_REQUIRE_PRIVILEGED=1.
func RequirePrivileges(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		skipOrFail(t, "labs need Linux network namespaces")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "this test builds a lab of network namespaces: run it as root (sudo -E go test …)")
	}
}

func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
		t.Fatalf("%s; SONDE_REQUIRE_PRIVILEGED=1 forbids skipping", why)
	}
	t.Skip(why)
}

// New builds the built-in topology name with o for the test.
func New(t testing.TB, name string, o lab.Options) *Lab {
	t.Helper()
	topo, err := lab.Build(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return Up(t, topo)
}

// Up builds topo for the test and tears it down when the test ends.
func Up(t testing.TB, topo lab.Topology) *Lab {
	t.Helper()
	RequirePrivileges(t)
	l, err := lab.Up(context.Background(), topo, nil)
	if err != nil {
		t.Fatalf("lab up %s: %v", topo.Name, err)
	}
	t.Cleanup(func() {
		if err := l.Err(); err != nil {
			t.Errorf("lab %s: %v", l.ID, err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("lab %s down: %v", l.ID, err)
		}
	})
	return &Lab{Lab: l, t: t}
}

// node returns the named node or fails the test.
func (l *Lab) node(name string) *lab.Node {
	l.t.Helper()
	n := l.Node(name)
	if n == nil {
		l.t.Fatalf("lab %s has no node %q", l.Topology.Name, name)
	}
	return n
}

// Do runs fn on the test's goroutine with its thread inside node. Sockets
// opened in fn stay in the node; goroutines started in fn do not run there.
func (l *Lab) Do(node string, fn func()) {
	l.t.Helper()
	if err := l.node(node).Do(func() error { fn(); return nil }); err != nil {
		l.t.Fatal(err)
	}
}

// Addr returns node's preferred IPv4 address (its loopback address if it
// has one).
func (l *Lab) Addr(node string) netip.Addr {
	l.t.Helper()
	a, ok := l.Topology.Addr(node, false)
	if !ok {
		l.t.Fatalf("node %s has no IPv4 address", node)
	}
	return a
}

// Addr6 returns node's preferred IPv6 address.
func (l *Lab) Addr6(node string) netip.Addr {
	l.t.Helper()
	a, ok := l.Topology.Addr(node, true)
	if !ok {
		l.t.Fatalf("node %s has no IPv6 address", node)
	}
	return a
}

// Result is what a command run in a node did.
type Result struct {
	Stdout, Stderr string
	Code           int // exit status; -1 when killed
}

// Command runs name with args inside node, with a one-minute bound, and
// returns its output and exit status. Failing to start it fails the test.
func (l *Lab) Command(node, name string, args ...string) Result {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := l.node(node).Run(cmd)
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		l.t.Fatalf("%s in %s: %v", name, node, err)
	}
	return r
}

// Sonde runs the sonde binary inside node with args.
func (l *Lab) Sonde(node string, args ...string) Result {
	l.t.Helper()
	return l.Command(node, Binary(l.t), args...)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of a sonde binary for tests to run: $SONDE_BIN
// when set (CI builds one), otherwise one built once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SONDE_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sonde-test-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sonde")
		cmd := exec.Command("go", "build", "-o", binPath, "sonde/cmd/sonde")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New("building sonde: " + strings.TrimSpace(string(out)))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// RequireCommand skips the test when the program name is not installed
// (with the Debian package to install as the hint), or fails it when
// SONDE_REQUIRE_PRIVILEGED=1: CI installs every peer the tests compare
// against.
func RequireCommand(t testing.TB, name, debianPackage string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		skipOrFail(t, name+" is not installed (apt-get install "+debianPackage+")")
	}
}
