package lab_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sonde/lab"
	"sonde/lab/labtest"
)

func TestPairServicesAndNoRouteOut(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	target := l.Addr("target")
	if r := l.Command("client", "ping", "-c", "1", "-W", "2", target.String()); r.Code != 0 {
		t.Fatalf("ping target: %d %s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := l.Command("client", "ping", "-6", "-c", "1", "-W", "2", l.Addr6("target").String()); r.Code != 0 {
		t.Fatalf("ping6 target: %d %s%s", r.Code, r.Stdout, r.Stderr)
	}
	// The target greets like OpenSSH on 22, from inside the client.
	l.Do("client", func() {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(target.String(), "22"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "SSH-2.0-OpenSSH") {
			t.Errorf("ssh greeting %q, %v", line, err)
		}
	})
	// No route leaves the lab: any other address is unreachable.
	for _, dst := range []string{"192.0.2.1", "10.0.0.1", "2001:db8::1"} {
		r := l.Command("client", "ip", "route", "get", dst)
		if r.Code == 0 || !strings.Contains(r.Stderr, "unreachable") {
			t.Errorf("ip route get %s in the client: %q %q, want unreachable", dst, r.Stdout, r.Stderr)
		}
	}
	// The host does not see the lab's links.
	if links, _ := net.Interfaces(); len(links) > 0 {
		for _, ifc := range links {
			if strings.HasPrefix(ifc.Name, "eth0") && ifc.Index > 1000 {
				t.Errorf("host sees a lab link %s", ifc.Name)
			}
		}
	}
}

func TestChainTracerouteAndSilentRouter(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 6, Silent: []string{"r3"}, NoServices: true})
	r := l.Command("client", "traceroute", "-n", "-q", "1", "-w", "1", l.Addr("far").String())
	if r.Code != 0 {
		t.Fatalf("traceroute: %d %s", r.Code, r.Stderr)
	}
	hops := strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:]
	want := []string{"198.18.0.2", "198.18.1.2", "*", "198.18.3.2", "198.18.4.2", "198.18.5.2", "198.18.200.1"}
	if len(hops) != len(want) {
		t.Fatalf("traceroute shows %d hops, want %d:\n%s", len(hops), len(want), r.Stdout)
	}
	for i, h := range hops {
		if f := strings.Fields(h); len(f) < 2 || f[1] != want[i] {
			t.Errorf("hop %d: %q, want %s", i+1, h, want[i])
		}
	}
}

func TestLossIsSomeButNotAll(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{Loss: 5, NoServices: true})
	r := l.Command("client", "ping", "-q", "-c", "200", "-i", "0.002", "-W", "1", l.Addr("target").String())
	var sent, recv int
	for _, line := range strings.Split(r.Stdout, "\n") {
		if strings.Contains(line, "packets transmitted") {
			f := strings.Fields(line)
			sent, recv = atoi(f[0]), atoi(f[3])
		}
	}
	if sent != 200 || recv == 0 || recv == 200 {
		t.Errorf("5%% loss each way: %d of %d echoes answered, want some but not all\n%s", recv, sent, r.Stdout)
	}
}

func TestFilteredAndRejectedPorts(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{Drop: []uint16{8081}, Reject: []uint16{8082}, NoServices: true})
	target := l.Addr("target").String()
	l.Do("client", func() {
		_, err := net.DialTimeout("tcp", net.JoinHostPort(target, "8081"), 300*time.Millisecond)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("dropped port: %v, want a timeout", err)
		}
		_, err = net.DialTimeout("tcp", net.JoinHostPort(target, "8082"), 2*time.Second)
		if !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, syscall.EACCES) {
			t.Errorf("rejected port: %v, want host unreachable (admin-prohibited)", err)
		}
		_, err = net.DialTimeout("tcp", net.JoinHostPort(target, "8083"), 2*time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("closed port: %v, want connection refused", err)
		}
	})
}

func TestECMPHasTwoPaths(t *testing.T) {
	l := labtest.New(t, "ecmp", lab.Options{NoServices: true})
	r := l.Command("r1", "ip", "route", "show", "198.18.200.1")
	if strings.Count(r.Stdout, "nexthop via") != 2 {
		t.Errorf("r1's route to far is not multipath:\n%s", r.Stdout)
	}
	if r := l.Command("client", "ping", "-c", "1", "-W", "2", l.Addr("far").String()); r.Code != 0 {
		t.Errorf("ping far through ecmp: %s", r.Stdout)
	}
}

func TestLANNeighbours(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{Hosts: 3, NoServices: true})
	for _, h := range []string{"h1", "h2", "h3"} {
		if r := l.Command("client", "ping", "-c", "1", "-W", "2", l.Addr(h).String()); r.Code != 0 {
			t.Errorf("ping %s: %s", h, r.Stdout)
		}
	}
	r := l.Command("client", "ip", "neigh", "show", "dev", "eth0")
	if n := strings.Count(r.Stdout, "lladdr"); n < 3 {
		t.Errorf("client knows %d neighbours' MACs, want 3:\n%s", n, r.Stdout)
	}
}

func TestCloseRemovesEverything(t *testing.T) {
	labtest.RequirePrivileges(t)
	topo, err := lab.Chain(lab.Options{Routers: 2, Loss: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.Up(context.Background(), topo, nil)
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob("/run/netns/sonde-" + l.ID + "-*")
	if len(paths) != 4 {
		t.Errorf("published namespaces: %v, want 4", paths)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if paths, _ := filepath.Glob("/run/netns/sonde-" + l.ID + "-*"); len(paths) != 0 {
		t.Errorf("left behind: %v", paths)
	}
	if _, err := os.Stat("/run/sonde/labs/" + l.ID + ".json"); !os.IsNotExist(err) {
		t.Errorf("state file left behind: %v", err)
	}
}

func TestBadTopologyCreatesNothing(t *testing.T) {
	labtest.RequirePrivileges(t)
	before, _ := filepath.Glob("/run/netns/sonde-*")
	topo, _ := lab.Pair(lab.Options{})
	topo.Nodes[1].Faults.Loss = 150
	if _, err := lab.Up(context.Background(), topo, nil); err == nil || !strings.Contains(err.Error(), "outside 0–100") {
		t.Errorf("Up with 150%% loss: %v", err)
	}
	after, _ := filepath.Glob("/run/netns/sonde-*")
	if len(after) != len(before) {
		t.Errorf("namespaces before %v, after %v", before, after)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
