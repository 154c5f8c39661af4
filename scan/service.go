package scan

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// tlsPorts are ports where a client speaks first in TLS.
var tlsPorts = []uint16{443, 465, 636, 853, 993, 995, 8443, 9443}

// DetectService names the service behind r's open TCP port and its
// version (-sV): it reads the banner of services that speak first (SSH,
// FTP, SMTP, MySQL), else asks in HTTP, TLS (reporting the certificate's
// names) and Redis, and fills r.Service, r.Product, r.Version and r.Info.
// Each attempt is bounded by timeout. It leaves r alone when nothing
// answers in a way it knows. Its connections are the Go runtime's: call it
// from a process that runs wholly in the target's network namespace (as
// the CLI does), not from a goroutine of a thread locked in one.
func DetectService(ctx context.Context, r *Result, timeout time.Duration) {
	addr := hostPort(r.Addr, r.Port)
	d := net.Dialer{Timeout: timeout}
	talk := func(send []byte, wait time.Duration) []byte {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil
		}
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		if send != nil {
			c.SetWriteDeadline(time.Now().Add(timeout))
			if _, err := c.Write(send); err != nil {
				return nil
			}
		}
		return readSome(c, wait)
	}
	// Services that greet first.
	banner := talk(nil, min(timeout, 800*time.Millisecond))
	if matchBanner(r, banner) {
		return
	}
	if slices.Contains(tlsPorts, r.Port) || len(banner) == 0 && r.Port != 80 && r.Port != 8080 {
		if detectTLS(ctx, r, addr, timeout) {
			return
		}
	}
	if resp := talk([]byte("GET / HTTP/1.0\r\nHost: "+r.Addr.String()+"\r\nUser-Agent: sonde\r\n\r\n"), timeout); matchHTTP(r, resp, "http") {
		return
	}
	if resp := talk([]byte("*1\r\n$4\r\nINFO\r\n"), timeout); bytes.HasPrefix(resp, []byte("$")) && bytes.Contains(resp, []byte("redis_version:")) {
		r.Service, r.Product = "redis", "Redis key-value store"
		r.Version = field(string(resp), "redis_version:")
		return
	}
	if r.Port == 53 {
		// DNS over TCP (RFC 7766): a length-prefixed query for
		// version.bind in class CHAOS.
		q := []byte{0, 30, 0x50, 0x53, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0, 0, 16, 0, 3}
		if resp := talk(q, timeout); len(resp) >= 14 && resp[2] == 0x50 && resp[3] == 0x53 && resp[4]&0x80 != 0 {
			r.Service = "domain"
			return
		}
	}
}

func readSome(c net.Conn, wait time.Duration) []byte {
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, _ := c.Read(buf)
	if n > 0 {
		// Gather what follows at once (a greeting in several lines).
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		m, _ := c.Read(buf[n:])
		n += m
	}
	return buf[:n]
}

// The banner patterns are compiled on first use, not at start-up: every
// sonde command would pay for them otherwise.
var (
	sshRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^SSH-([\d.]+)-([^\s_]+)(?:_(\S+))?(?:\s+(.*))?`) })
	vsftpdRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\(vsFTPd ([\d.]+)\)`) })
	proftpdRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`ProFTPD ([\d.]+\w*)`) })
)

// matchBanner names a service from the greeting it sent unasked.
func matchBanner(r *Result, b []byte) bool {
	s := string(b)
	line, _, _ := strings.Cut(s, "\n")
	line = strings.TrimRight(line, "\r")
	switch {
	case strings.HasPrefix(s, "SSH-"):
		m := sshRE().FindStringSubmatch(line)
		r.Service = "ssh"
		if m != nil {
			r.Product, r.Version = m[2], m[3]
			if m[4] != "" {
				// "Debian-2+deb12u3" is the package, as nmap prints it.
				r.Version = strings.TrimSpace(r.Version + " " + strings.Replace(m[4], "-", " ", 1))
			}
			r.Info = "protocol " + m[1]
			if m[2] == "OpenSSH" {
				r.Product = "OpenSSH"
			}
		}
		return true
	case strings.HasPrefix(line, "220"):
		low := strings.ToLower(line)
		switch {
		case strings.Contains(low, "smtp"):
			r.Service = "smtp"
			if strings.Contains(line, "Postfix") {
				r.Product = "Postfix smtpd"
			} else if strings.Contains(line, "Exim") {
				r.Product = "Exim smtpd"
			}
		default:
			r.Service = "ftp"
			if m := vsftpdRE().FindStringSubmatch(line); m != nil {
				r.Product, r.Version = "vsftpd", m[1]
			} else if m := proftpdRE().FindStringSubmatch(line); m != nil {
				r.Product, r.Version = "ProFTPD", m[1]
			}
		}
		return true
	case len(b) > 5 && int(binary.LittleEndian.Uint32(append(b[:3:3], 0))) == len(b)-4 && b[3] == 0 && b[4] == 10:
		// MySQL's initial handshake: a 3-byte length, sequence 0,
		// protocol version 10, then the server version, NUL-terminated.
		v, _, ok := strings.Cut(string(b[5:]), "\x00")
		if !ok {
			return false
		}
		r.Service, r.Product, r.Version = "mysql", "MySQL", v
		return true
	case len(b) > 5 && b[4] == 0xff && b[3] == 0:
		r.Service, r.Product, r.Info = "mysql", "MySQL", "unauthorized"
		return true
	case strings.HasPrefix(line, "+OK") || strings.HasPrefix(line, "* OK"):
		r.Service = map[bool]string{true: "pop3", false: "imap"}[strings.HasPrefix(line, "+OK")]
		return true
	}
	return false
}

// matchHTTP reads an HTTP response and names its server.
func matchHTTP(r *Result, b []byte, service string) bool {
	if !bytes.HasPrefix(b, []byte("HTTP/")) {
		return false
	}
	r.Service = service
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(strings.ToLower(line), "server:"); ok {
			server := strings.TrimSpace(line[len(line)-len(v):])
			name, ver, _ := strings.Cut(server, "/")
			ver, _, _ = strings.Cut(ver, " ")
			r.Product, r.Version = name, ver
			if strings.EqualFold(name, "nginx") {
				r.Product = "nginx"
			} else if strings.EqualFold(name, "apache") {
				r.Product = "Apache httpd"
			}
		}
	}
	return true
}

// detectTLS completes a TLS handshake (any certificate: this names, it
// does not trust), reads the certificate's names, and asks in HTTP over it.
func detectTLS(ctx context.Context, r *Result, addr string, timeout time.Duration) bool {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // naming, not trusting
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer nc.Close()
	c := nc.(*tls.Conn)
	st := c.ConnectionState()
	var names []string
	if len(st.PeerCertificates) > 0 {
		cert := st.PeerCertificates[0]
		if cert.Subject.CommonName != "" {
			names = append(names, cert.Subject.CommonName)
		}
		for _, n := range cert.DNSNames {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for _, ip := range cert.IPAddresses {
			names = append(names, ip.String())
		}
	}
	r.Service = "ssl"
	r.Info = tls.VersionName(st.Version)
	if len(names) > 4 {
		names = append(names[:4:4], fmt.Sprintf("+%d more", len(names)-4))
	}
	if len(names) > 0 {
		r.Info += "; certificate: " + strings.Join(names, ", ")
	}
	c.SetDeadline(time.Now().Add(timeout))
	c.Write([]byte("GET / HTTP/1.0\r\nHost: " + r.Addr.String() + "\r\nUser-Agent: sonde\r\n\r\n"))
	if resp := readSome(c, timeout); bytes.HasPrefix(resp, []byte("HTTP/")) {
		info := r.Info
		matchHTTP(r, resp, "https")
		r.Info = info
	}
	return true
}

// field returns the value after key up to the end of its line.
func field(s, key string) string {
	_, v, ok := strings.Cut(s, key)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, "\r")
	v, _, _ = strings.Cut(v, "\n")
	return v
}
