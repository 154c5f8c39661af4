package labsvc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultHostname = "target.lab"
	DefaultTimeout  = 10 * time.Second
	DefaultMaxConns = 128
)

// Config tunes a Server. A nil *Config, and the zero value of each field,
// mean the documented defaults.
type Config struct {
	// Hostname is the host's name as the services announce it (SMTP
	// greeting, HTTPS certificate, SNMP sysName). Zero: DefaultHostname.
	Hostname string

	// Names is the DNS zone: each name (any case, with or without the
	// trailing dot) answers A queries with its IPv4 addresses and AAAA
	// queries with its IPv6 ones, and each address answers PTR queries
	// with the first name that holds it. The names and addresses also go
	// into the HTTPS certificate. Zero: an empty zone (every name is
	// NXDOMAIN) and a certificate for Hostname only.
	Names map[string][]netip.Addr

	// Timeout bounds each wait for a client's next message on a TCP
	// connection, and the TLS handshake. Zero: DefaultTimeout.
	Timeout time.Duration

	// MaxConns caps the TCP connections served at once across all
	// services; a connection over the cap is reset as soon as it is
	// accepted. Zero: DefaultMaxConns.
	MaxConns int

	// Banner is the text (a line end is added when missing) that the
	// Banner kind sends. Zero: "sonde lab service on HOSTNAME ready".
	Banner string

	// Logger, when not nil, is called for every connection, request and
	// datagram handled or dropped. It is called from many goroutines at
	// once and must be safe for that, and quick.
	Logger func(Event)
}

// Event describes one thing a Server did, for Config.Logger.
type Event struct {
	Time   time.Time
	Spec   Spec           // the service, with the port it listens on
	Remote netip.AddrPort // the client, IPv4 addresses unmapped
	What   string         // e.g. "connect", "GET /", "A target.lab: 1 answer", "drop: 128 connections open"
}

// String formats the event as one log line without the time.
func (e Event) String() string {
	return e.Spec.String() + " " + e.Remote.String() + " " + e.What
}

// ErrConfig is wrapped by the errors of Listen about an invalid Config.
var ErrConfig = errors.New("bad configuration")

// ErrClosed is returned by Serve on a Server that was closed or is
// already serving.
var ErrClosed = errors.New("labsvc: server closed or already serving")

// Server runs the services of one Listen call. Its methods are safe for
// concurrent use.
type Server struct {
	cfg      Config
	specs    []Spec // with the bound ports
	addrs    []netip.AddrPort
	tcp      []tcpService
	udp      []udpService
	tls      *tls.Config
	zone     *zone
	sem      chan struct{} // one token per TCP connection being served
	greeting []byte        // the Banner kind's text
	start    time.Time     // for SNMP's sysUpTime

	mu      sync.Mutex
	closed  bool
	serving bool
	conns   map[net.Conn]struct{}
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

type tcpService struct {
	spec Spec
	ln   *net.TCPListener
}

type udpService struct {
	spec Spec
	pc   *net.UDPConn
	pkt  pktinfo // how to learn and choose the local address of a datagram
}

// Listen opens a socket for each spec on the wildcard address, dual-stack
// where the system has IPv6 (so it answers on every local address of the
// network namespace it is called in), and prepares the services; nil cfg
// means defaults. It opens every socket in the calling goroutine and starts
// no goroutine, so a caller may run it on a thread locked into another
// network namespace and call Serve from anywhere. Two specs may not share a
// port and transport, except port 0.
func Listen(specs []Spec, cfg *Config) (*Server, error) {
	s := &Server{done: make(chan struct{}), conns: make(map[net.Conn]struct{}), start: time.Now()}
	if cfg != nil {
		s.cfg = *cfg
	}
	if s.cfg.Hostname == "" {
		s.cfg.Hostname = DefaultHostname
	}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = DefaultTimeout
	}
	if s.cfg.MaxConns <= 0 {
		s.cfg.MaxConns = DefaultMaxConns
	}
	banner := s.cfg.Banner
	if banner == "" {
		banner = "sonde lab service on " + s.cfg.Hostname + " ready"
	}
	if n := len(banner); n == 0 || banner[n-1] != '\n' {
		banner += "\r\n"
	}
	s.greeting = []byte(banner)
	s.sem = make(chan struct{}, s.cfg.MaxConns)

	if err := checkSpecs(specs); err != nil {
		return nil, err
	}
	var err error
	if s.zone, err = newZone(s.cfg.Names); err != nil {
		return nil, err
	}
	for _, sp := range specs {
		if sp.Kind == HTTPS && s.tls == nil {
			if s.tls, err = selfSignedTLS(s.cfg.Hostname, s.cfg.Names, time.Now()); err != nil {
				return nil, err
			}
		}
	}
	var lc net.ListenConfig
	for _, sp := range specs {
		addr := ":" + strconv.Itoa(int(sp.Port))
		switch sp.Kind.Network() {
		case "tcp":
			ln, err := lc.Listen(context.Background(), "tcp", addr)
			if err != nil {
				s.closeSockets()
				return nil, fmt.Errorf("labsvc: %s: %w", sp, err)
			}
			tl := ln.(*net.TCPListener)
			ap := tl.Addr().(*net.TCPAddr).AddrPort()
			sp.Port = ap.Port()
			s.tcp = append(s.tcp, tcpService{spec: sp, ln: tl})
			s.addrs = append(s.addrs, ap)
		case "udp":
			pc, err := lc.ListenPacket(context.Background(), "udp", addr)
			if err != nil {
				s.closeSockets()
				return nil, fmt.Errorf("labsvc: %s: %w", sp, err)
			}
			uc := pc.(*net.UDPConn)
			ap := uc.LocalAddr().(*net.UDPAddr).AddrPort()
			sp.Port = ap.Port()
			s.udp = append(s.udp, udpService{spec: sp, pc: uc})
			pi, err := enablePktinfo(uc)
			if err != nil {
				s.closeSockets()
				return nil, fmt.Errorf("labsvc: %s: %w", sp, err)
			}
			s.udp[len(s.udp)-1].pkt = pi
			s.addrs = append(s.addrs, ap)
		}
		s.specs = append(s.specs, sp)
	}
	return s, nil
}

// checkSpecs rejects invalid kinds and two services on one port.
func checkSpecs(specs []Spec) error {
	type key struct {
		network string
		port    uint16
	}
	seen := make(map[key]Spec)
	for _, sp := range specs {
		if sp.Kind.Network() == "" {
			return fmt.Errorf("labsvc: %w: invalid kind %d", ErrSpec, sp.Kind)
		}
		if sp.Port == 0 {
			continue
		}
		k := key{sp.Kind.Network(), sp.Port}
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("labsvc: %w: %s and %s use the same port", ErrSpec, prev, sp)
		}
		seen[k] = sp
	}
	return nil
}

// Specs returns the services in the order given to Listen, each with the
// port it listens on (the kernel's choice where the spec said 0).
func (s *Server) Specs() []Spec { return append([]Spec(nil), s.specs...) }

// Addrs returns the local address of each service, in the order given to
// Listen: the wildcard address ([::] when dual-stack, else 0.0.0.0) and
// the bound port.
func (s *Server) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), s.addrs...) }

// Serve runs the services until ctx is done or Close is called, then
// closes every socket and connection and returns once every goroutine it
// started has ended. It returns nil then, ErrClosed if the Server was
// closed before or is already serving, or the first error that stopped a
// service (which stops the others too).
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.closed || s.serving {
		s.mu.Unlock()
		return ErrClosed
	}
	s.serving = true
	s.wg.Add(len(s.tcp) + len(s.udp))
	s.mu.Unlock()

	var (
		errOnce  sync.Once
		firstErr error
		stop     = make(chan struct{})
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; close(stop) })
	}
	for i := range s.tcp {
		go func() { defer s.wg.Done(); s.acceptLoop(&s.tcp[i], fail) }()
	}
	for i := range s.udp {
		go func() { defer s.wg.Done(); s.packetLoop(&s.udp[i], fail) }()
	}
	select {
	case <-ctx.Done():
	case <-s.done:
	case <-stop:
	}
	s.shutdown()
	s.wg.Wait() // orders the loops' writes of firstErr before the read
	return firstErr
}

// Close stops the services: it closes every socket and connection and
// waits until every goroutine that Serve started has ended (Serve itself
// then returns). It is safe to call more than once.
func (s *Server) Close() error {
	s.shutdown()
	s.wg.Wait()
	return nil
}

// shutdown marks the server closed and closes its sockets and the open
// connections, which ends the loops.
func (s *Server) shutdown() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.closeSockets()
}

func (s *Server) closeSockets() {
	for _, t := range s.tcp {
		t.ln.Close()
	}
	for _, u := range s.udp {
		u.pc.Close()
	}
}

func (s *Server) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Server) log(sp Spec, remote netip.AddrPort, what string) {
	if s.cfg.Logger == nil {
		return
	}
	s.cfg.Logger(Event{Time: time.Now(), Spec: sp, Remote: netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port()), What: what})
}

func (s *Server) logf(sp Spec, remote netip.AddrPort, format string, args ...any) {
	if s.cfg.Logger == nil {
		return
	}
	s.log(sp, remote, fmt.Sprintf(format, args...))
}

// acceptLoop accepts connections of one TCP service and serves each in a
// goroutine of its own while a token of the connection cap is free; over
// the cap it resets the connection at once.
func (s *Server) acceptLoop(t *tcpService, fail func(error)) {
	var backoff time.Duration
	for {
		c, err := t.ln.AcceptTCP()
		if err != nil {
			if s.isClosed() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors or similar: back off as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-s.done:
					return
				}
			}
			fail(fmt.Errorf("labsvc: %s: %w", t.spec, err))
			return
		}
		backoff = 0
		remote := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		select {
		case s.sem <- struct{}{}:
		default:
			c.SetLinger(0) // reset: no TIME_WAIT, the client learns at once
			c.Close()
			s.logf(t.spec, remote, "drop: %d connections open", cap(s.sem))
			continue
		}
		if !s.track(c) {
			<-s.sem
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { s.untrack(c); c.Close(); <-s.sem }()
			s.log(t.spec, remote, "connect")
			s.serveConn(t.spec, c, remote)
		}()
	}
}

// track records an open connection so shutdown can close it; it reports
// false when the server is already shutting down.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serveConn runs the dialogue of one TCP service.
func (s *Server) serveConn(sp Spec, c net.Conn, remote netip.AddrPort) {
	cc := &conn{Conn: c, timeout: s.cfg.Timeout, end: time.Now().Add(MaxLifetime)}
	var err error
	switch sp.Kind {
	case SSH:
		err = s.serveSSH(cc)
	case HTTP:
		err = s.serveHTTP(sp, cc, remote, false)
	case HTTPS:
		err = s.serveHTTPS(sp, cc, remote)
	case SMTP:
		err = s.serveSMTP(sp, cc, remote)
	case FTP:
		err = s.serveFTP(sp, cc, remote)
	case MySQL:
		err = s.serveMySQL(sp, cc, remote)
	case Redis:
		err = s.serveRedis(sp, cc, remote)
	case Echo:
		err = serveEcho(cc)
	case Banner:
		err = s.serveBanner(cc)
	case DNSTCP:
		err = s.serveDNSTCP(sp, cc, remote)
	}
	switch {
	case err == nil:
		s.log(sp, remote, "close")
	case isTimeout(err):
		s.log(sp, remote, "close: idle timeout")
	default:
		s.logf(sp, remote, "close: %v", err)
	}
}

// MaxLifetime bounds the life of a TCP connection, however busy: a client
// trickling bytes cannot hold one of the Config.MaxConns slots for ever.
const MaxLifetime = 10 * time.Minute

// conn is a TCP connection whose every Read and Write waits at most
// timeout, and nothing past end.
type conn struct {
	net.Conn
	timeout time.Duration
	end     time.Time
}

func (c *conn) deadline() time.Time {
	d := time.Now().Add(c.timeout)
	if d.After(c.end) {
		return c.end
	}
	return d
}

func (c *conn) Read(p []byte) (int, error) {
	if err := c.SetReadDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// packetLoop reads the datagrams of one UDP service with one reused buffer
// and answers each in turn.
func (s *Server) packetLoop(u *udpService, fail func(error)) {
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	out := make([]byte, 0, 1500)
	for {
		n, local, remote, err := u.pkt.read(u.pc, buf, oob)
		if err != nil {
			if s.isClosed() {
				return
			}
			if isTemporary(err) {
				continue // e.g. ICMP errors reported on the socket
			}
			fail(fmt.Errorf("labsvc: %s: %w", u.spec, err))
			return
		}
		var what string
		out, what = s.answer(u.spec, buf[:n], remote, out[:0])
		if out == nil {
			s.log(u.spec, remote, "ignored: "+what)
			continue
		}
		if err := u.pkt.write(u.pc, out, local, remote); err != nil {
			s.logf(u.spec, remote, "%s: send: %v", what, err)
			continue
		}
		s.log(u.spec, remote, what)
	}
}

// answer builds the reply to one datagram into out, or returns nil to send
// nothing; what says what it did, for the log.
func (s *Server) answer(sp Spec, req []byte, remote netip.AddrPort, out []byte) ([]byte, string) {
	switch sp.Kind {
	case DNS:
		return s.zone.answer(req, out, dnsMaxUDP, s.cfg.Logger != nil)
	case NTP:
		now := time.Now()
		return ntpReply(req, now, now, out)
	case UDPEcho:
		if reflector(remote.Port()) || remote.Port() == sp.Port {
			return nil, "echo from port " + strconv.Itoa(int(remote.Port())) + " (a loop?)"
		}
		return append(out, req...), "echo " + strconv.Itoa(len(req)) + " bytes"
	case SNMP:
		return snmpReply(req, s.cfg.Hostname, time.Since(s.start), out)
	}
	return nil, "no handler"
}

// reflector reports the source ports of services that answer whatever they
// receive. UDP echo ignores datagrams from them, so a datagram forged with
// such a source (easy with sonde send) cannot start an endless echo loop
// between two lab hosts.
func reflector(port uint16) bool {
	switch port {
	case 0, 7, 13, 17, 19, 37, 53, 123, 161, 162, 1900, 5353:
		return true
	}
	return false
}
