package labsvc

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxRequestBytes bounds the head and body read for one HTTP request.
const maxRequestBytes = 64 << 10

// lastModified is the date the pages claim, fixed so ETags stay stable.
var lastModified = time.Date(2024, 11, 22, 9, 30, 0, 0, time.UTC)

// serveHTTP answers HTTP/1.x requests like nginx 1.22 serving a small
// static site: requests are parsed by net/http, responses are written with
// nginx's status lines, headers (in nginx's order) and error pages, and a
// malformed request gets nginx's 400 page before the connection closes.
func (s *Server) serveHTTP(sp Spec, c net.Conn, remote netip.AddrPort, https bool) error {
	lr := &io.LimitedReader{R: c, N: maxRequestBytes}
	br := bufio.NewReaderSize(lr, 4096)
	bw := bufio.NewWriter(c)
	for range maxCommands {
		lr.N = maxRequestBytes
		req, err := http.ReadRequest(br)
		if err != nil {
			if quiet(err) == nil || isTimeout(err) {
				return quiet(err)
			}
			s.logf(sp, remote, "HTTP bad request: %v", err)
			writeHTTP(bw, 400, nil, nginxPage(400), false, false)
			return bw.Flush()
		}
		io.Copy(io.Discard, req.Body) // bounded by lr
		req.Body.Close()
		keep := !req.Close && (req.ProtoAtLeast(1, 1) || strings.EqualFold(req.Header.Get("Connection"), "keep-alive"))
		status, hdr, body := s.route(req)
		s.logf(sp, remote, "%s %s %d", req.Method, respClean(req.RequestURI), status)
		writeHTTP(bw, status, hdr, body, keep, req.Method == http.MethodHead)
		if err := bw.Flush(); err != nil || !keep {
			return err
		}
	}
	return nil
}

// route picks the response to a request: the home page, robots.txt, 404
// for other paths, 405 for methods other than GET, HEAD and OPTIONS.
func (s *Server) route(req *http.Request) (int, []string, []byte) {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		return http.StatusNoContent, []string{"Allow", "GET, HEAD, OPTIONS"}, nil
	default:
		return http.StatusMethodNotAllowed, nil, nginxPage(http.StatusMethodNotAllowed)
	}
	var body []byte
	ctype := "text/html"
	switch req.URL.Path {
	case "/", "/index.html":
		body = s.homePage()
	case "/robots.txt":
		body, ctype = []byte("User-agent: *\nDisallow: /admin/\n"), "text/plain"
	default:
		return http.StatusNotFound, nil, nginxPage(http.StatusNotFound)
	}
	etag := fmt.Sprintf("\"%x-%x\"", lastModified.Unix(), len(body))
	return http.StatusOK, []string{
		"Content-Type", ctype,
		"Last-Modified", lastModified.Format(http.TimeFormat),
		"ETag", etag,
		"Accept-Ranges", "bytes",
	}, body
}

func (s *Server) homePage() []byte {
	h := html.EscapeString(s.cfg.Hostname)
	return []byte(`<!DOCTYPE html>
<html>
<head>
<title>` + h + ` - sonde practice lab</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>` + h + `</h1>
<p>This web server runs inside a sonde practice lab: a virtual network that
exists only on the machine that built it. Scan it, trace it, capture it.</p>
</body>
</html>
`)
}

// nginxPage is nginx's built-in error page for status.
func nginxPage(status int) []byte {
	text := http.StatusText(status)
	if status == http.StatusMethodNotAllowed {
		text = "Not Allowed" // nginx's wording
	}
	line := strconv.Itoa(status) + " " + text
	return []byte("<html>\r\n<head><title>" + line + "</title></head>\r\n<body>\r\n<center><h1>" + line +
		"</h1></center>\r\n<hr><center>" + NginxVersion + "</center>\r\n</body>\r\n</html>\r\n")
}

// writeHTTP writes a response in nginx's header order; hdr holds extra
// name, value pairs that go after Content-Length (Content-Type first when
// present).
func writeHTTP(bw *bufio.Writer, status int, hdr []string, body []byte, keep, head bool) {
	text := http.StatusText(status)
	if status == http.StatusMethodNotAllowed {
		text = "Not Allowed"
	}
	ctype := "text/html"
	if len(hdr) >= 2 && hdr[0] == "Content-Type" {
		ctype, hdr = hdr[1], hdr[2:]
	}
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\n", status, text, NginxVersion, time.Now().UTC().Format(http.TimeFormat))
	if status != http.StatusNoContent {
		fmt.Fprintf(bw, "Content-Type: %s\r\nContent-Length: %d\r\n", ctype, len(body))
	}
	// nginx puts Last-Modified before Connection and the rest after it.
	if len(hdr) >= 2 && hdr[0] == "Last-Modified" {
		fmt.Fprintf(bw, "%s: %s\r\n", hdr[0], hdr[1])
		hdr = hdr[2:]
	}
	if keep {
		bw.WriteString("Connection: keep-alive\r\n")
	} else {
		bw.WriteString("Connection: close\r\n")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(bw, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	bw.WriteString("\r\n")
	if !head {
		bw.Write(body)
	}
}

// serveHTTPS runs the TLS handshake (bounded by the connection's read
// deadline) and then the HTTP dialogue inside it.
func (s *Server) serveHTTPS(sp Spec, c *conn, remote netip.AddrPort) error {
	tc := tls.Server(c, s.tls)
	if err := tc.Handshake(); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && rh.Conn != nil && looksLikeHTTP(rh.RecordHeader[:]) {
			// As nginx does, answer plain HTTP on the TLS port in plain HTTP.
			bw := bufio.NewWriter(c)
			writeHTTP(bw, http.StatusBadRequest, nil, []byte(plainHTTPPage), false, false)
			bw.Flush()
			return errors.New("plain HTTP request on the HTTPS port")
		}
		return fmt.Errorf("tls handshake: %w", err)
	}
	st := tc.ConnectionState()
	s.logf(sp, remote, "TLS %s %s SNI %q", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.ServerName)
	err := s.serveHTTP(sp, tc, remote, true)
	tc.Close() // close_notify
	return err
}

const plainHTTPPage = "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n" +
	"<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n" +
	"<hr><center>" + NginxVersion + "</center>\r\n</body>\r\n</html>\r\n"

// looksLikeHTTP reports whether the first bytes of a connection start an
// HTTP request line.
func looksLikeHTTP(b []byte) bool {
	for _, m := range []string{"GET ", "HEAD ", "POST ", "PUT ", "DELET", "OPTIO", "PATCH", "CONNE", "TRACE"} {
		if strings.HasPrefix(string(b), m[:min(len(m), len(b))]) {
			return true
		}
	}
	return false
}

// selfSignedTLS makes a TLS configuration with a fresh self-signed ECDSA
// P-256 certificate for hostname and the names and addresses of the zone.
func selfSignedTLS(hostname string, names map[string][]netip.Addr, now time.Time) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("labsvc: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("labsvc: certificate serial: %w", err)
	}
	dns := []string{normName(hostname)}
	var ips []net.IP
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if n := normName(name); n != "" && !slices.Contains(dns, n) {
			dns = append(dns, n)
		}
		for _, a := range names[name] {
			ips = append(ips, net.IP(a.Unmap().AsSlice()))
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: normName(hostname), Organization: []string{"sonde practice lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("labsvc: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("labsvc: certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}, nil
}
