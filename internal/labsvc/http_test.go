package labsvc

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var titleRE = regexp.MustCompile(`<title>([^<]*)</title>`)

func httpClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsConfig, DisableKeepAlives: true},
	}
}

func checkSite(t *testing.T, c *http.Client, base string) {
	t.Helper()
	for _, tc := range []struct {
		method, path string
		status       int
		title        string
	}{
		{"GET", "/", 200, "target.lab - sonde practice lab"},
		{"GET", "/index.html", 200, "target.lab - sonde practice lab"},
		{"GET", "/admin/", 404, "404 Not Found"},
		{"HEAD", "/", 200, ""},
		{"OPTIONS", "/", 204, ""},
		{"POST", "/", 405, "405 Not Allowed"},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(""))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status || resp.Header.Get("Server") != "nginx/1.22.1" {
			t.Errorf("%s %s: %s, Server %q", tc.method, tc.path, resp.Status, resp.Header.Get("Server"))
		}
		if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
			t.Errorf("%s %s: Date %q: %v", tc.method, tc.path, resp.Header.Get("Date"), err)
		}
		var title string
		if m := titleRE.FindSubmatch(body); m != nil {
			title = string(m[1])
		}
		if title != tc.title {
			t.Errorf("%s %s: title %q, want %q", tc.method, tc.path, title, tc.title)
		}
		switch tc.method {
		case "HEAD":
			if len(body) != 0 || resp.ContentLength <= 0 {
				t.Errorf("HEAD: body %d bytes, Content-Length %d", len(body), resp.ContentLength)
			}
		case "OPTIONS":
			if resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("OPTIONS: Allow %q", resp.Header.Get("Allow"))
			}
		}
	}
}

func TestHTTP(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		checkSite(t, httpClient(nil), "http://"+r.addr(h, HTTP))
	}
	if !r.log.has(HTTP, "GET / 200") {
		t.Error("no GET event logged")
	}
}

// TestHTTPWire checks the exact response head to HTTP/1.0 (as nmap sends
// it), keep-alive and a malformed request.
func TestHTTPWire(t *testing.T) {
	r := start(t, nil)
	c := r.dial(t, "127.0.0.1", HTTP)
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(b), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	var names []string
	for _, l := range lines[1:] {
		n, _, _ := strings.Cut(l, ":")
		names = append(names, n)
	}
	want := []string{"Server", "Date", "Content-Type", "Content-Length", "Last-Modified", "Connection", "ETag", "Accept-Ranges"}
	if lines[0] != "HTTP/1.1 200 OK" || lines[1] != "Server: nginx/1.22.1" || !slices.Equal(names, want) ||
		!slices.Contains(lines, "Connection: close") {
		t.Errorf("response head:\n%s\nwant headers %q", head, want)
	}

	// HTTP/1.1 keeps the connection.
	c = r.dial(t, "127.0.0.1", HTTP)
	br := bufio.NewReader(c)
	for range 2 {
		io.WriteString(c, "HEAD /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Connection") != "keep-alive" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("keep-alive response %s %v", resp.Status, resp.Header)
		}
	}

	c = r.dial(t, "127.0.0.1", HTTP)
	io.WriteString(c, "\x16\x03\x01garbage\r\n\r\n")
	b, _ = io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\n") ||
		!strings.Contains(string(b), "<center>nginx/1.22.1</center>") {
		t.Errorf("malformed request answered %q", b)
	}
}

func TestHTTPS(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		var peer *x509.Certificate
		cfg := &tls.Config{
			InsecureSkipVerify: true, // self-signed: checked by hand below
			ServerName:         "Router.LAB",
			VerifyConnection: func(cs tls.ConnectionState) error {
				peer = cs.PeerCertificates[0]
				return nil
			},
		}
		checkSite(t, httpClient(cfg), "https://"+r.addr(h, HTTPS))
		if peer == nil {
			t.Fatal("no certificate seen")
		}
		want := []string{"target.lab", "router.lab", "v6only.lab"}
		if !slices.Equal(peer.DNSNames, want) || peer.Subject.CommonName != "target.lab" {
			t.Errorf("certificate names %q, CN %q; want %q", peer.DNSNames, peer.Subject.CommonName, want)
		}
		var ips []netip.Addr
		for _, ip := range peer.IPAddresses {
			a, _ := netip.AddrFromSlice(ip)
			ips = append(ips, a.Unmap())
		}
		if !slices.Contains(ips, netip.MustParseAddr("198.19.0.10")) || !slices.Contains(ips, netip.MustParseAddr("fd00:5::20")) {
			t.Errorf("certificate addresses %v", ips)
		}
		// The certificate verifies against itself as a root for each name.
		roots := x509.NewCertPool()
		roots.AddCert(peer)
		for _, n := range append(want, "198.19.0.1") {
			if _, err := peer.Verify(x509.VerifyOptions{DNSName: n, Roots: roots}); err != nil {
				t.Errorf("verify %s: %v", n, err)
			}
		}
	}
	if !r.log.has(HTTPS, `SNI "Router.LAB"`) {
		t.Error("no TLS event logged")
	}
}

func TestHTTPSPlainRequest(t *testing.T) {
	r := start(t, nil)
	c := r.dial(t, "127.0.0.1", HTTPS)
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if m := titleRE.FindSubmatch(body); resp.StatusCode != 400 || resp.Header.Get("Server") != NginxVersion ||
		m == nil || string(m[1]) != "400 The plain HTTP request was sent to HTTPS port" {
		t.Errorf("plain HTTP on the TLS port: %s %v %q", resp.Status, resp.Header, body)
	}
}

func TestHTTPSHandshakeTimeout(t *testing.T) {
	r := start(t, &Config{Timeout: 100 * time.Millisecond})
	c := r.dial(t, "127.0.0.1", HTTPS)
	expectClosed(t, c, 2*time.Second)
	// A client that speaks TLS badly gets an alert, not a hang.
	c = r.dial(t, "127.0.0.1", HTTPS)
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
}
