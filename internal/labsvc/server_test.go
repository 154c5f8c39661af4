package labsvc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testNames is the zone of the tests.
var testNames = map[string][]netip.Addr{
	"target.lab":  {netip.MustParseAddr("198.19.0.10"), netip.MustParseAddr("fd00:5::10")},
	"Router.LAB.": {netip.MustParseAddr("198.19.0.1")},
	"v6only.lab":  {netip.MustParseAddr("fd00:5::20")},
}

// logBook collects the events of a server.
type logBook struct {
	mu     sync.Mutex
	events []Event
}

func (l *logBook) log(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// has reports whether an event of kind k contains what, waiting a little
// since events of a connection are logged after its reply was sent.
func (l *logBook) has(k Kind, what string) bool {
	for range 100 {
		l.mu.Lock()
		for _, e := range l.events {
			if e.Spec.Kind == k && strings.Contains(e.What, what) {
				l.mu.Unlock()
				return true
			}
		}
		l.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// running is a server under test.
type running struct {
	srv  *Server
	port map[Kind]uint16
	log  *logBook
}

// start runs a server with every kind on ports chosen by the kernel; it is
// stopped, and its goroutines checked, when the test ends.
func start(t *testing.T, cfg *Config) *running {
	t.Helper()
	if cfg == nil {
		cfg = &Config{}
	}
	r := &running{port: make(map[Kind]uint16), log: &logBook{}}
	if cfg.Names == nil {
		cfg.Names = testNames
	}
	cfg.Logger = r.log.log
	var specs []Spec
	for _, k := range Kinds() {
		specs = append(specs, Spec{Kind: k})
	}
	srv, err := Listen(specs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, sp := range srv.Specs() {
		if sp.Port == 0 || srv.Addrs()[i].Port() != sp.Port {
			t.Fatalf("spec %v, address %v", sp, srv.Addrs()[i])
		}
		r.port[sp.Kind] = sp.Port
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	r.srv = srv
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return 5s after its context was canceled")
		}
	})
	return r
}

func (r *running) addr(host string, k Kind) string {
	return net.JoinHostPort(host, strconv.Itoa(int(r.port[k])))
}

// dial connects over TCP to kind k on host with a deadline for the whole
// exchange.
func (r *running) dial(t *testing.T, host string, k Kind) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.addr(host, k), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// hosts are the loopback addresses the tests use; ::1 only where the
// system has IPv6.
func hosts(t *testing.T) []string {
	h := []string{"127.0.0.1"}
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		h = append(h, "::1")
	} else {
		t.Logf("no IPv6 loopback (%v): testing 127.0.0.1 only", err)
	}
	return h
}

// dialog writes each request and checks the reply lines that follow it.
type step struct {
	send string   // written as is ("" to send nothing)
	want []string // the lines expected, without line ends
}

func converse(t *testing.T, c net.Conn, steps []step) {
	t.Helper()
	br := bufio.NewReader(c)
	for _, s := range steps {
		if s.send != "" {
			if _, err := io.WriteString(c, s.send); err != nil {
				t.Fatalf("send %q: %v", s.send, err)
			}
		}
		for _, w := range s.want {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: want %q, got %q, %v", s.send, w, line, err)
			}
			if got := strings.TrimSuffix(line, "\r\n"); got != w {
				t.Fatalf("after %q: got %q, want %q", s.send, got, w)
			}
			if !strings.HasSuffix(line, "\r\n") {
				t.Fatalf("after %q: line %q does not end in CRLF", s.send, line)
			}
		}
	}
}

// expectClosed checks that the server closes the connection soon.
func expectClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("connection not closed within %v: read %q, %v", within, b, err)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestListenStartsNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	srv, err := Listen([]Spec{{Kind: SSH}, {Kind: HTTPS}, {Kind: DNS}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := goleak.Find(before); err != nil {
		t.Errorf("Listen started goroutines: %v", err)
	}
	srv.Close()
	srv.Close() // twice is fine
	if err := srv.Serve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close = %v, want ErrClosed", err)
	}
}

func TestCloseStopsServe(t *testing.T) {
	srv, err := Listen([]Spec{{Kind: Echo}, {Kind: UDPEcho}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()
	// An open connection must not keep Serve from returning.
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.Specs()[0].Port))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Serve = %v, want ErrClosed", err)
	}
	srv.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve still running 2s after Close returned")
	}
	expectClosed(t, c, time.Second)
}

func TestListenErrors(t *testing.T) {
	for _, tc := range []struct {
		specs []Spec
		cfg   *Config
		want  string
	}{
		{[]Spec{{SSH, 2222}, {HTTP, 2222}}, nil, "ssh:2222/tcp and http:2222/tcp use the same port"},
		{[]Spec{{Kind: 0, Port: 1}}, nil, "invalid kind"},
		{[]Spec{{DNS, 0}}, &Config{Names: map[string][]netip.Addr{"bad name": {netip.MustParseAddr("1.2.3.4")}}}, `DNS name "bad name"`},
		{[]Spec{{DNS, 0}}, &Config{Names: map[string][]netip.Addr{"x.lab": {{}}}}, "invalid address"},
	} {
		_, err := Listen(tc.specs, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Listen(%v) = %v, want error with %q", tc.specs, err, tc.want)
		}
	}
	// A port in use: the error names the spec, and the sockets opened
	// before are closed again.
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	_, err = Listen([]Spec{{Kind: Echo}, {Kind: SSH, Port: port}}, nil)
	if err == nil || !strings.Contains(err.Error(), "ssh:"+strconv.Itoa(int(port))) {
		t.Errorf("Listen on a busy port = %v", err)
	}
}

func TestDualStackAddrs(t *testing.T) {
	srv, err := Listen([]Spec{{Kind: Echo}, {Kind: UDPEcho}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, a := range srv.Addrs() {
		if !a.Addr().IsUnspecified() {
			t.Errorf("listening on %v, want the wildcard address", a)
		}
	}
}

func TestMaxConns(t *testing.T) {
	r := start(t, &Config{MaxConns: 2})
	// Two connections are served ...
	for range 2 {
		c := r.dial(t, "127.0.0.1", Echo)
		converse(t, c, []step{{"hi\r\n", []string{"hi"}}})
	}
	// ... the third is reset at once (so fast on loopback that connect
	// may already see the reset).
	t0 := time.Now()
	c, err := net.DialTimeout("tcp", r.addr("127.0.0.1", Echo), 2*time.Second)
	if err == nil {
		defer c.Close()
		expectClosed(t, c, 2*time.Second)
	} else if !isReset(err) {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("connection over the cap lived %v", d)
	}
	if !r.log.has(Echo, "drop: 2 connections open") {
		t.Error("no drop event logged")
	}
}

func TestIdleTimeout(t *testing.T) {
	r := start(t, &Config{Timeout: 200 * time.Millisecond})
	c := r.dial(t, "127.0.0.1", Banner)
	converse(t, c, []step{{"", []string{"sonde lab service on target.lab ready"}}})
	t0 := time.Now()
	expectClosed(t, c, 3*time.Second)
	if d := time.Since(t0); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("idle connection closed after %v, want about 200ms", d)
	}
	if !r.log.has(Banner, "idle timeout") {
		t.Error("no idle timeout event")
	}
}

func TestEventString(t *testing.T) {
	e := Event{Spec: Spec{DNS, 53}, Remote: netip.MustParseAddrPort("198.19.0.2:4000"), What: "A target.lab: 1 answer"}
	if got, want := e.String(), "dns:53/udp 198.19.0.2:4000 A target.lab: 1 answer"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestFloodIsBounded opens many connections at once, as a fast scan does:
// the server keeps at most MaxConns, resets the others at once, keeps its
// goroutines bounded, and serves again afterwards.
func TestFloodIsBounded(t *testing.T) {
	const maxConns, flood = 8, 200
	base := runtime.NumGoroutine()
	r := start(t, &Config{MaxConns: maxConns, Timeout: 3 * time.Second})
	base += 1 + len(Kinds()) // Serve and one loop per socket
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	served, reset := 0, 0
	for range flood {
		c, err := net.DialTimeout("tcp", r.addr("127.0.0.1", SSH), 2*time.Second)
		if err != nil {
			if !isReset(err) {
				t.Fatal(err)
			}
			reset++
			continue
		}
		conns = append(conns, c)
	}
	// Every connection either gets the banner or is reset promptly.
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 64)
		n, err := c.Read(b)
		switch {
		case err == nil && strings.HasPrefix(string(b[:n]), "SSH-2.0-"):
			served++
		case isReset(err) || errors.Is(err, io.EOF):
			reset++
		default:
			t.Fatalf("neither served nor reset: %q, %v", b[:n], err)
		}
	}
	if served != maxConns || reset != flood-maxConns {
		t.Errorf("served %d, reset %d; want %d and %d", served, reset, maxConns, flood-maxConns)
	}
	if g := runtime.NumGoroutine(); g > base+maxConns+2 {
		t.Errorf("%d goroutines during the flood, want at most %d", g, base+maxConns+2)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	// The slots come back once the clients have gone.
	deadline := time.Now().Add(3 * time.Second)
	for {
		c := r.dial(t, "127.0.0.1", SSH)
		b := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(time.Second))
		if n, err := c.Read(b); err == nil && strings.HasPrefix(string(b[:n]), "SSH-2.0-") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection served after the flood")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConnLifetime(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &conn{Conn: a, timeout: time.Hour, end: time.Now().Add(50 * time.Millisecond)}
	t0 := time.Now()
	_, err := c.Read(make([]byte, 1))
	if !isTimeout(err) || time.Since(t0) > 2*time.Second {
		t.Errorf("read past the end of life: %v after %v", err, time.Since(t0))
	}
}
