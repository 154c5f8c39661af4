package labsvc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needRoot skips a test that needs root, or fails it when CI says the
// privilege must be there.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("SONDE_REQUIRE_PRIVILEGED") == "1" {
		t.Fatalf("%s needs root (SONDE_REQUIRE_PRIVILEGED=1)", why)
	}
	t.Skipf("%s needs root: run the tests as root", why)
}

// inNewNetns runs f on an OS thread moved into a fresh network namespace
// with its loopback up, as the lab does, and returns the namespace as an
// open file. The thread is never returned to the scheduler: it ends with
// the goroutine, and the namespace lives while the file is open.
func inNewNetns(t *testing.T, f func()) *os.File {
	t.Helper()
	type result struct {
		ns  *os.File
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("unshare: %w", err)}
			return
		}
		ns, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			done <- result{err: err}
			return
		}
		if err := linkUp("lo"); err != nil {
			ns.Close()
			done <- result{err: err}
			return
		}
		f()
		done <- result{ns: ns}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.ns.Close() })
	return r.ns
}

// inNetns runs f on an OS thread that has joined the namespace ns.
func inNetns(t *testing.T, ns *os.File, f func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // no Unlock, as above
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// TestServeFromOtherNamespace does what the lab does: Listen on a thread
// inside another network namespace, Serve from ordinary goroutines. The
// services must answer inside that namespace on their standard ports, on
// every address of a local route, UDP replies coming from the address
// asked. nmap, when installed, then names the UDP services too (on their
// standard ports it tries the right probe first; elsewhere UDP version
// detection takes minutes).
func TestServeFromOtherNamespace(t *testing.T) {
	needRoot(t, "a network namespace")
	var (
		srv *Server
		err error
	)
	specs := []Spec{{SSH, 22}, {HTTP, 80}, {Redis, 6379}, {DNS, 53}, {NTP, 123}, {SNMP, 161}, {UDPEcho, 7}}
	ns := inNewNetns(t, func() { srv, err = Listen(specs, &Config{Names: testNames}) })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	// Inside: the banner. (A connection from this namespace to port 22
	// could reach a real sshd; the test only dials inside.)
	inNetns(t, ns, func() {
		c, err := net.DialTimeout("tcp", "127.0.0.1:22", 2*time.Second)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		if got := string(buf[:n]); got != SSHVersion+"\r\n" {
			t.Errorf("banner in the namespace: %q", got)
		}
	})

	// A local route makes a whole range local; a client bound to the
	// loopback address asks an address of the range, so a reply from any
	// other address than the one asked would be dropped by its connected
	// socket.
	inNetns(t, ns, func() {
		for _, c := range [][]string{
			{"ip", "route", "add", "local", "198.19.0.0/16", "dev", "lo"},
			{"ip", "-6", "route", "add", "local", "fd00:5::/64", "dev", "lo"},
		} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				t.Errorf("%s: %v %s", strings.Join(c, " "), err, out)
				return
			}
		}
		for _, tc := range []struct{ from, to string }{{"127.0.0.1:0", "198.19.7.7:53"}, {"[::1]:0", "[fd00:5::77]:53"}} {
			laddr, _ := net.ResolveUDPAddr("udp", tc.from)
			raddr, _ := net.ResolveUDPAddr("udp", tc.to)
			c, err := net.DialUDP("udp", laddr, raddr)
			if err != nil {
				t.Error(err)
				continue
			}
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write(dnsQuery(t, 77, "target.lab", 1))
			buf := make([]byte, 512)
			n, err := c.Read(buf)
			c.Close()
			if err != nil {
				t.Errorf("DNS to %s from %s: %v", tc.to, tc.from, err)
				continue
			}
			if d := decodeDNS(t, buf[:n]); d.ID != 77 || len(d.Answers) != 1 {
				t.Errorf("DNS to %s: %+v", tc.to, d)
			}
			tcp, err := net.DialTimeout("tcp", tc.to[:strings.LastIndex(tc.to, ":")]+":80", 2*time.Second)
			if err != nil {
				t.Errorf("HTTP on the local route: %v", err)
				continue
			}
			tcp.Close()
		}
	})

	if _, err := exec.LookPath("nmap"); err != nil || testing.Short() {
		return
	}
	var out []byte
	inNetns(t, ns, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err = exec.CommandContext(ctx, "nmap", "-n", "-Pn", "-sU", "-sV", "-p", "53,123,161,7", "127.0.0.1").CombinedOutput()
	})
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	for _, want := range []string{
		"53/udp  open  domain", "123/udp open  ntp     NTP v4 (secondary server)", "161/udp open  snmp    SNMPv1 server (public)", "7/udp   open  echo",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nmap output lacks %q:\n%s", want, out)
		}
	}
}
