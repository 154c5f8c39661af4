package labsvc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// readSSHPacket reads one unencrypted SSH binary packet and returns its
// payload.
func readSSHPacket(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatal(err)
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	pad := int(hdr[4])
	if (n+4)%8 != 0 || pad < 4 || int(n) < pad+1 {
		t.Fatalf("bad packet framing: length %d, padding %d", n, pad)
	}
	b := make([]byte, n-1)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return b[:len(b)-pad]
}

// sshStrings reads n SSH strings from b.
func sshStrings(t *testing.T, b []byte, n int) ([]string, []byte) {
	t.Helper()
	var out []string
	for range n {
		if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 {
			t.Fatalf("truncated string in %x", b)
		}
		l := binary.BigEndian.Uint32(b)
		out = append(out, string(b[4:4+l]))
		b = b[4+l:]
	}
	return out, b
}

func TestSSH(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		c := r.dial(t, h, SSH)
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil || line != "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n" {
			t.Fatalf("banner %q, %v", line, err)
		}
		io.WriteString(c, "SSH-2.0-sonde_test\r\n")
		p := readSSHPacket(t, br)
		if p[0] != sshMsgKexInit || len(p) < 17 {
			t.Fatalf("first packet is message %d, want KEXINIT", p[0])
		}
		lists, rest := sshStrings(t, p[17:], 10)
		if !strings.Contains(lists[0], "curve25519-sha256") || !strings.Contains(lists[1], "ssh-ed25519") ||
			!strings.HasPrefix(lists[2], "chacha20-poly1305@openssh.com") {
			t.Errorf("KEXINIT lists %q", lists)
		}
		if !bytes.Equal(rest, []byte{0, 0, 0, 0, 0}) {
			t.Errorf("KEXINIT ends with %x", rest)
		}
		// Send our own KEXINIT (the server's one will do) and expect a
		// DISCONNECT.
		c.Write(sshPacket(p))
		d := readSSHPacket(t, br)
		if d[0] != sshMsgDisconnect || binary.BigEndian.Uint32(d[1:]) != 11 {
			t.Fatalf("got message %d reason %x, want DISCONNECT by application", d[0], d[1:5])
		}
		if s, _ := sshStrings(t, d[5:], 2); !strings.Contains(s[0], "accepts no login") {
			t.Errorf("disconnect text %q", s[0])
		}
		expectClosed(t, c, 2e9)
	}
}

func TestSSHBadClient(t *testing.T) {
	r := start(t, nil)
	c := r.dial(t, "127.0.0.1", SSH)
	converse(t, c, []step{
		{"", []string{SSHVersion}},
		{"SSH-1.5-old\r\n", []string{"Protocol major versions differ."}},
	})
	expectClosed(t, c, 2e9)
	c = r.dial(t, "127.0.0.1", SSH)
	converse(t, c, []step{{"", []string{SSHVersion}}})
	c.Write(bytes.Repeat([]byte("x"), 300))
	converse(t, c, []step{{"", []string{"Invalid SSH identification string."}}})
}

func TestSMTP(t *testing.T) {
	r := start(t, &Config{Hostname: "mail.lab"})
	for _, h := range hosts(t) {
		c := r.dial(t, h, SMTP)
		converse(t, c, []step{
			{"", []string{"220 mail.lab ESMTP Postfix (Debian/GNU)"}},
			{"EHLO client.lab\r\n", []string{"250-mail.lab", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN",
				"250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING"}},
			{"helo client.lab\r\n", []string{"250 mail.lab"}},
			{"EHLO\r\n", []string{"501 Syntax: EHLO hostname"}},
			{"NOOP\r\nRSET\r\n", []string{"250 2.0.0 Ok", "250 2.0.0 Ok"}},
			{"MAIL FROM:<a@b>\r\n", []string{"502 5.5.2 Error: command not recognized"}},
			{"QUIT\r\n", []string{"221 2.0.0 Bye"}},
		})
		expectClosed(t, c, 2e9)
	}
	// Too many errors end the session.
	c := r.dial(t, "127.0.0.1", SMTP)
	converse(t, c, []step{{"", []string{"220 mail.lab ESMTP Postfix (Debian/GNU)"}}})
	var want []string
	for range 19 {
		want = append(want, "502 5.5.2 Error: command not recognized")
	}
	converse(t, c, []step{{strings.Repeat("X\r\n", 20), append(want,
		"502 5.5.2 Error: command not recognized", "421 4.7.0 mail.lab Error: too many errors")}})
	expectClosed(t, c, 2e9)
}

func TestFTP(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		c := r.dial(t, h, FTP)
		converse(t, c, []step{
			{"", []string{"220 (vsFTPd 3.0.3)"}},
			{"PASS x\r\n", []string{"503 Login with USER first."}},
			{"LIST\r\n", []string{"530 Please login with USER and PASS."}},
			{"USER anonymous\r\n", []string{"331 Please specify the password."}},
			{"PASS guest@\r\n", []string{"530 Login incorrect."}},
			{"SYST\r\n", []string{"215 UNIX Type: L8"}},
			{"FEAT\r\n", []string{"211-Features:", " EPRT", " EPSV", " MDTM", " PASV", " REST STREAM", " SIZE", " TVFS", "211 End"}},
			{"quit\r\n", []string{"221 Goodbye."}},
		})
		expectClosed(t, c, 2e9)
	}
}

// mysqlHello is the decoded initial handshake.
type mysqlHello struct {
	protocol byte
	version  string
	connID   uint32
	salt     []byte
	caps     uint32
	charset  byte
	plugin   string
}

func decodeMySQLHello(t *testing.T, p []byte) mysqlHello {
	t.Helper()
	var h mysqlHello
	h.protocol = p[0]
	p = p[1:]
	i := bytes.IndexByte(p, 0)
	h.version, p = string(p[:i]), p[i+1:]
	h.connID = binary.LittleEndian.Uint32(p)
	h.salt = append(h.salt, p[4:12]...)
	if p[12] != 0 {
		t.Errorf("filler %x", p[12])
	}
	h.caps = uint32(binary.LittleEndian.Uint16(p[13:]))
	h.charset = p[15]
	h.caps |= uint32(binary.LittleEndian.Uint16(p[18:])) << 16
	saltLen := int(p[20])
	if !bytes.Equal(p[21:31], make([]byte, 10)) {
		t.Errorf("reserved bytes %x", p[21:31])
	}
	p = p[31:]
	part2 := max(13, saltLen-8)
	h.salt = append(h.salt, p[:part2-1]...)
	if p[part2-1] != 0 {
		t.Errorf("salt part 2 not NUL-terminated")
	}
	p = p[part2:]
	i = bytes.IndexByte(p, 0)
	if i != len(p)-1 {
		t.Errorf("plugin name %q not NUL-terminated at the end", p)
	}
	h.plugin = string(p[:i])
	return h
}

func TestMySQL(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		c := r.dial(t, h, MySQL)
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		if hdr[3] != 0 {
			t.Errorf("sequence %d, want 0", hdr[3])
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c, p); err != nil {
			t.Fatal(err)
		}
		hello := decodeMySQLHello(t, p)
		if hello.protocol != 10 || hello.version != "8.0.36-0+deb12u1" || hello.plugin != "caching_sha2_password" ||
			len(hello.salt) != 20 || bytes.IndexByte(hello.salt, 0) >= 0 ||
			hello.caps&mysqlClientProtocol41 == 0 || hello.caps&0x00080000 == 0 /* PLUGIN_AUTH */ {
			t.Errorf("handshake %+v", hello)
		}
		// A HandshakeResponse41 for root.
		resp := binary.LittleEndian.AppendUint32(nil, mysqlClientProtocol41|0x00080000)
		resp = binary.LittleEndian.AppendUint32(resp, 1<<24)
		resp = append(resp, 0xff)
		resp = append(resp, make([]byte, 23)...)
		resp = append(resp, "root\x00\x00"...)
		pkt := append([]byte{byte(len(resp)), 0, 0, 1}, resp...)
		c.Write(pkt)
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		p = make([]byte, int(hdr[0])|int(hdr[1])<<8)
		io.ReadFull(c, p)
		host := h
		if got := binary.LittleEndian.Uint16(p[1:]); p[0] != 0xff || got != 1045 || hdr[3] != 2 ||
			string(p[3:9]) != "#28000" || string(p[9:]) != "Access denied for user 'root'@'"+host+"' (using password: YES)" {
			t.Errorf("reply seq %d %q", hdr[3], p)
		}
		expectClosed(t, c, 2e9)
	}
}

func TestMySQLUser(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		user string
		ok   bool
	}{
		{nil, "", false},
		{make([]byte, 40), "", false}, // no CLIENT_PROTOCOL_41
		{append(append([]byte{0, 2, 0, 0}, make([]byte, 28)...), "bob\x00"...), "bob", true},
		{append([]byte{0, 2, 0, 0}, make([]byte, 28)...), "", false}, // no user
		{append(append([]byte{0, 2, 0, 0}, make([]byte, 28)...), "bob"...), "", false},
	} {
		user, ok := mysqlUser(tc.in)
		if user != tc.user || ok != tc.ok {
			t.Errorf("mysqlUser(%x) = %q, %v; want %q, %v", tc.in, user, ok, tc.user, tc.ok)
		}
	}
}

func TestRedis(t *testing.T) {
	r := start(t, nil)
	for _, h := range hosts(t) {
		c := r.dial(t, h, Redis)
		converse(t, c, []step{
			{"*1\r\n$4\r\nPING\r\n", []string{"+PONG"}},
			{"ping\r\n", []string{"+PONG"}},
			{"*2\r\n$4\r\necho\r\n$5\r\nhello\r\n", []string{"$5", "hello"}},
			{"FLUSHALL now\r\n", []string{"-ERR unknown command 'FLUSHALL', with args beginning with: 'now' "}},
			{"ECHO\r\n", []string{"-ERR wrong number of arguments for 'echo' command"}},
			{"GET / HTTP/1.0\r\n\r\n", []string{"-ERR wrong number of arguments for 'get' command"}}, // as nmap -sV asks
			{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"$-1"}},
			{"set k v\r\n", []string{"-READONLY You can't write against a read only replica."}},
		})
		io.WriteString(c, "*1\r\n$4\r\nINFO\r\n")
		br := bufio.NewReader(c)
		line, _ := br.ReadString('\n')
		if !strings.HasPrefix(line, "$") {
			t.Fatalf("INFO reply %q", line)
		}
		var size int
		for _, ch := range strings.TrimSpace(line[1:]) {
			size = size*10 + int(ch-'0')
		}
		body := make([]byte, size+2)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "\r\nredis_version:7.0.15\r\n") || !strings.HasPrefix(string(body), "# Server\r\n") {
			t.Errorf("INFO %q", body)
		}
		converse(t, &readConn{c, br}, []step{{"*1\r\n$4\r\nquit\r\n", []string{"+OK"}}})
		expectClosed(t, c, 2e9)
	}
	c := r.dial(t, "127.0.0.1", Redis)
	converse(t, c, []step{{"*1\r\n+x\r\n", []string{"-ERR Protocol error: expected '$', got '+'"}}})
	expectClosed(t, c, 2e9)
}

// readConn reads through a bufio.Reader already holding part of c.
type readConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *readConn) Read(p []byte) (int, error) { return c.br.Read(p) }

func TestEchoAndBanner(t *testing.T) {
	r := start(t, &Config{Banner: "220 lab banner"})
	for _, h := range hosts(t) {
		c := r.dial(t, h, Echo)
		converse(t, c, []step{{"one\r\ntwo\r\n", []string{"one", "two"}}})
		c = r.dial(t, h, Banner)
		converse(t, c, []step{{"", []string{"220 lab banner"}}})
		c.(*net.TCPConn).CloseWrite()
		expectClosed(t, c, 2e9)
	}
}

func FuzzRESP(f *testing.F) {
	for _, s := range []string{"*1\r\n$4\r\nPING\r\n", "PING\r\n", "*2\r\n$4\r\necho\r\n$-1\r\n", "*9999\r\n", "*1\r\n$99999999\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(b), 4096)
		for range 10 {
			args, perr, err := readRESP(br)
			if err != nil || perr != "" {
				return
			}
			for _, a := range args {
				if len(a) > 64*1024 {
					t.Fatalf("argument of %d bytes", len(a))
				}
			}
		}
	})
}

// memConn is a connection whose client has sent in and then half-closed:
// reads return in, then EOF; writes are kept.
type memConn struct {
	r *bytes.Reader
	w bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzTCPDialogues runs the dialogue of each TCP kind (but HTTPS) with
// arbitrary client bytes: it must never panic or loop, and whatever the
// client says, the greeting comes first.
func FuzzTCPDialogues(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-x\r\n\x00\x00\x00\x0c\x0a\x14", "EHLO x\r\nQUIT\r\n", "USER a\r\nPASS b\r\nFEAT\r\n",
		"\x20\x00\x00\x01\x00\x02\x00\x00", "*1\r\n$4\r\nINFO\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.0\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "\x00\xff\r\n\r\n",
		"\x00\x1c\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06target\x03lab\x00\x00\x01\x00\x01",
	} {
		for _, k := range []Kind{SSH, HTTP, SMTP, FTP, MySQL, Redis, Echo, Banner, DNSTCP} {
			f.Add(uint8(k), []byte(s))
		}
	}
	srv, err := Listen(nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	greeting := map[Kind]string{SSH: SSHVersion, SMTP: "220 target.lab ESMTP", FTP: FTPGreeting, Banner: "sonde lab service"}
	f.Fuzz(func(t *testing.T, k uint8, in []byte) {
		kind := Kind(k)
		if kind.Network() != "tcp" || kind == HTTPS {
			return
		}
		c := &memConn{r: bytes.NewReader(in)}
		srv.serveConn(Spec{Kind: kind, Port: 1}, c, netip.MustParseAddrPort("127.0.0.1:4000"))
		b := c.w.Bytes()
		if g, ok := greeting[kind]; ok && !strings.HasPrefix(string(b), g) {
			t.Fatalf("%v: reply starts %q", kind, b[:min(len(b), 40)])
		}
		switch {
		case kind == MySQL && (len(b) < 5 || b[4] != 10):
			t.Fatalf("mysql: reply starts %x", b[:min(len(b), 8)])
		case kind == HTTP && len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 "):
			t.Fatalf("http: reply starts %q", b[:min(len(b), 40)])
		case kind == Echo && !bytes.Equal(b, in):
			t.Fatalf("echo: %q for %q", b, in)
		}
	})
}
