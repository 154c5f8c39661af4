package labsvc

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The versions the services claim: those of Debian 12 (bookworm) packages,
// so that version detection names a coherent, believable host.
const (
	SSHVersion   = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
	NginxVersion = "nginx/1.22.1"
	MySQLVersion = "8.0.36-0+deb12u1"
	RedisVersion = "7.0.15"
	FTPGreeting  = "220 (vsFTPd 3.0.3)"
)

// maxCommands bounds the commands of one connection of a line protocol, so
// a client cannot keep a connection slot busy for ever with cheap requests.
const maxCommands = 200

var errLineTooLong = errors.New("line too long")

// readLine reads one line of at most the reader's buffer size and returns it
// without its line end.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	return string(bytes.TrimRight(b, "\r\n")), nil
}

// quiet turns the end of the client's stream into a normal end.
func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// verb splits a command line into its upper-cased verb and the rest.
func verb(line string) (string, string) {
	v, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	return strings.ToUpper(v), strings.TrimSpace(arg)
}

// sshKexInit lists what OpenSSH 9.2p1 as patched by Debian 12 (with the
// strict key-exchange extension against Terrapin) offers by default.
var sshKexInit = [10]string{
	"sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,kex-strict-s-v00@openssh.com",
	"rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	"none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
}

// SSH message numbers (RFC 4250).
const (
	sshMsgDisconnect = 1
	sshMsgKexInit    = 20
)

// serveSSH sends OpenSSH's identification string, reads the client's
// (RFC 4253 section 4.2: lines before it are allowed), sends a KEXINIT like
// OpenSSH's, waits for the client's first packet and ends with a
// DISCONNECT: enough for banner grabbing, nmap -sV and algorithm
// enumeration, no login.
func (s *Server) serveSSH(c *conn) error {
	if _, err := io.WriteString(c, SSHVersion+"\r\n"); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c, 256)
	var client string
	for range 10 {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				break
			}
			return quiet(err)
		}
		if strings.HasPrefix(line, "SSH-") {
			client = line
			break
		}
	}
	switch {
	case client == "":
		_, err := io.WriteString(c, "Invalid SSH identification string.\r\n")
		return err
	case !strings.HasPrefix(client, "SSH-2.0-") && !strings.HasPrefix(client, "SSH-1.99-"):
		_, err := io.WriteString(c, "Protocol major versions differ.\r\n")
		return err
	}
	var p []byte
	p = append(p, sshMsgKexInit)
	p = append(p, make([]byte, 16)...)
	rand.Read(p[1:17])
	for _, l := range sshKexInit {
		p = sshString(p, l)
	}
	p = append(p, 0, 0, 0, 0, 0) // first_kex_packet_follows, reserved
	if _, err := c.Write(sshPacket(p)); err != nil {
		return err
	}
	// The client's KEXINIT: its length is checked as OpenSSH does
	// (PACKET_MAX_SIZE 256 KiB) and the packet skipped.
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return quiet(err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 5 || n > 256*1024 {
		_, err := c.Write(sshDisconnect(2, "Bad packet length "+strconv.Itoa(int(n))+"."))
		return err
	}
	if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
		return quiet(err)
	}
	_, err := c.Write(sshDisconnect(11, "sonde lab: this SSH server accepts no login"))
	return err
}

func sshString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// sshPacket frames an unencrypted binary packet (RFC 4253 section 6):
// length, padding length, payload and 4 to 11 bytes of padding, to a
// multiple of 8.
func sshPacket(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

// sshDisconnect builds SSH_MSG_DISCONNECT (RFC 4253 section 11.1).
func sshDisconnect(reason uint32, text string) []byte {
	p := []byte{sshMsgDisconnect}
	p = binary.BigEndian.AppendUint32(p, reason)
	p = sshString(p, text)
	p = sshString(p, "")
	return sshPacket(p)
}

// serveSMTP speaks the start of an SMTP session like Postfix on Debian:
// greeting, EHLO/HELO, NOOP, RSET and QUIT; any other command is not
// recognised (the lab accepts no mail). Like Postfix it hangs up after 20
// errors.
func (s *Server) serveSMTP(sp Spec, c *conn, remote netip.AddrPort) error {
	host := s.cfg.Hostname
	bw := bufio.NewWriter(c)
	br := bufio.NewReaderSize(c, 2048)
	fmt.Fprintf(bw, "220 %s ESMTP Postfix (Debian/GNU)\r\n", host)
	errs := 0
	for range maxCommands {
		if err := bw.Flush(); err != nil {
			return err
		}
		line, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			fmt.Fprintf(bw, "500 5.5.0 Error: line too long\r\n")
			bw.Flush()
			return nil
		}
		if err != nil {
			return quiet(err)
		}
		cmd, arg := verb(line)
		s.log(sp, remote, "SMTP "+cmd)
		switch cmd {
		case "EHLO":
			if arg == "" {
				fmt.Fprintf(bw, "501 Syntax: EHLO hostname\r\n")
				errs++
				break
			}
			fmt.Fprintf(bw, "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"+
				"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n", host)
		case "HELO":
			if arg == "" {
				fmt.Fprintf(bw, "501 Syntax: HELO hostname\r\n")
				errs++
				break
			}
			fmt.Fprintf(bw, "250 %s\r\n", host)
		case "NOOP", "RSET":
			fmt.Fprintf(bw, "250 2.0.0 Ok\r\n")
		case "QUIT":
			fmt.Fprintf(bw, "221 2.0.0 Bye\r\n")
			return bw.Flush()
		default:
			fmt.Fprintf(bw, "502 5.5.2 Error: command not recognized\r\n")
			errs++
		}
		if errs >= 20 {
			fmt.Fprintf(bw, "421 4.7.0 %s Error: too many errors\r\n", host)
			return bw.Flush()
		}
	}
	return bw.Flush()
}

// serveFTP speaks the control connection of vsFTPd before login: USER is
// accepted, every PASS is refused, SYST and FEAT answer, other commands
// ask for a login.
func (s *Server) serveFTP(sp Spec, c *conn, remote netip.AddrPort) error {
	bw := bufio.NewWriter(c)
	br := bufio.NewReaderSize(c, 1024)
	bw.WriteString(FTPGreeting + "\r\n")
	user := false
	for range maxCommands {
		if err := bw.Flush(); err != nil {
			return err
		}
		line, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			bw.WriteString("500 Input line too long.\r\n")
			return bw.Flush()
		}
		if err != nil {
			return quiet(err)
		}
		cmd, _ := verb(line)
		s.log(sp, remote, "FTP "+cmd)
		switch cmd {
		case "USER":
			user = true
			bw.WriteString("331 Please specify the password.\r\n")
		case "PASS":
			if !user {
				bw.WriteString("503 Login with USER first.\r\n")
				break
			}
			user = false
			bw.WriteString("530 Login incorrect.\r\n")
		case "SYST":
			bw.WriteString("215 UNIX Type: L8\r\n")
		case "FEAT":
			bw.WriteString("211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n")
		case "NOOP":
			bw.WriteString("200 NOOP ok.\r\n")
		case "QUIT":
			bw.WriteString("221 Goodbye.\r\n")
			return bw.Flush()
		default:
			bw.WriteString("530 Please login with USER and PASS.\r\n")
		}
	}
	return bw.Flush()
}

// MySQL capability flags (see the MySQL client/server protocol).
const (
	mysqlClientSSL        = 0x00000800
	mysqlClientProtocol41 = 0x00000200
	mysqlCapabilities     = 0xdfffffff &^ mysqlClientSSL // MySQL 8.0's, without TLS
)

// serveMySQL sends a protocol version 10 initial handshake like MySQL 8.0's,
// reads the client's handshake response and refuses it with error 1045
// (access denied), as a server with no matching account does.
func (s *Server) serveMySQL(sp Spec, c *conn, remote netip.AddrPort) error {
	id := uint32(time.Now().UnixNano()>>10) & 0xffff
	if _, err := c.Write(mysqlHandshake(id, mysqlSalt())); err != nil {
		return err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return quiet(err)
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > 64*1024 {
		return nil
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		return quiet(err)
	}
	user, ok := mysqlUser(body)
	if !ok {
		_, err := c.Write(mysqlError(hdr[3]+1, 1158, "08S01", "Got an error reading communication packets"))
		return err
	}
	s.log(sp, remote, "MySQL login "+strconv.Quote(user))
	host := remote.Addr().Unmap().String()
	_, err := c.Write(mysqlError(hdr[3]+1, 1045, "28000",
		fmt.Sprintf("Access denied for user '%s'@'%s' (using password: YES)", user, host)))
	return err
}

// mysqlSalt returns 20 random printable bytes without NUL, as the server's
// scramble must be.
func mysqlSalt() [20]byte {
	var salt [20]byte
	rand.Read(salt[:])
	for i, b := range salt {
		salt[i] = 0x21 + b%94
	}
	return salt
}

// mysqlHandshake builds the Protocol::HandshakeV10 packet, sequence 0.
func mysqlHandshake(connID uint32, salt [20]byte) []byte {
	p := make([]byte, 4, 96) // header filled in last
	p = append(p, 10)        // protocol version
	p = append(p, MySQLVersion...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint32(p, connID)
	p = append(p, salt[:8]...)
	p = append(p, 0) // filler
	p = binary.LittleEndian.AppendUint16(p, uint16(mysqlCapabilities&0xffff))
	p = append(p, 0xff)                          // utf8mb4_0900_ai_ci
	p = binary.LittleEndian.AppendUint16(p, 0x2) // SERVER_STATUS_AUTOCOMMIT
	p = binary.LittleEndian.AppendUint16(p, uint16(mysqlCapabilities>>16))
	p = append(p, 21) // length of the auth plugin data
	p = append(p, make([]byte, 10)...)
	p = append(p, salt[8:]...)
	p = append(p, 0)
	p = append(p, "caching_sha2_password"...)
	p = append(p, 0)
	n := len(p) - 4
	p[0], p[1], p[2], p[3] = byte(n), byte(n>>8), byte(n>>16), 0
	return p
}

// mysqlUser extracts the user name of a HandshakeResponse41; it reports
// false for anything else (an old protocol, an SSL request, garbage).
func mysqlUser(b []byte) (string, bool) {
	if len(b) < 32 || binary.LittleEndian.Uint32(b)&mysqlClientProtocol41 == 0 {
		return "", false
	}
	rest := b[32:] // capabilities, max packet, charset, 23 reserved
	i := bytes.IndexByte(rest, 0)
	if i < 0 || i > 256 {
		return "", false
	}
	return string(rest[:i]), true
}

// mysqlError builds an ERR_Packet.
func mysqlError(seq byte, code uint16, state, msg string) []byte {
	p := make([]byte, 4, 16+len(msg))
	p = append(p, 0xff)
	p = binary.LittleEndian.AppendUint16(p, code)
	p = append(p, '#')
	p = append(p, state...)
	p = append(p, msg...)
	n := len(p) - 4
	p[0], p[1], p[2], p[3] = byte(n), byte(n>>8), byte(n>>16), seq
	return p
}

// serveRedis answers RESP requests, in multibulk or inline form, like a
// Redis 7.0 read-only replica with an empty database: PING, ECHO, INFO,
// GET (always nil), SET and DEL (refused), QUIT; others are unknown.
func (s *Server) serveRedis(sp Spec, c *conn, remote netip.AddrPort) error {
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriter(c)
	for range maxCommands {
		if err := bw.Flush(); err != nil {
			return err
		}
		args, perr, err := readRESP(br)
		if err != nil {
			return quiet(err)
		}
		if perr != "" {
			bw.WriteString("-ERR Protocol error: " + perr + "\r\n")
			return bw.Flush()
		}
		if len(args) == 0 {
			continue
		}
		cmd := strings.ToLower(args[0])
		s.log(sp, remote, "Redis "+strings.ToUpper(cmd))
		switch {
		case cmd == "ping" && len(args) == 1:
			bw.WriteString("+PONG\r\n")
		case cmd == "ping" && len(args) == 2, cmd == "echo" && len(args) == 2:
			respBulk(bw, args[1])
		case cmd == "get" && len(args) == 2:
			bw.WriteString("$-1\r\n") // the lab's database is empty
		case cmd == "set" && len(args) >= 3, cmd == "del" && len(args) >= 2:
			bw.WriteString("-READONLY You can't write against a read only replica.\r\n")
		case cmd == "ping", cmd == "echo", cmd == "get", cmd == "set", cmd == "del":
			fmt.Fprintf(bw, "-ERR wrong number of arguments for '%s' command\r\n", cmd)
		case cmd == "info":
			respBulk(bw, s.redisInfo(sp, c))
		case cmd == "quit":
			bw.WriteString("+OK\r\n")
			return bw.Flush()
		default:
			bw.WriteString("-ERR unknown command '" + respClean(args[0]) + "', with args beginning with: ")
			for _, a := range args[1:] {
				bw.WriteString("'" + respClean(a) + "' ")
			}
			bw.WriteString("\r\n")
		}
	}
	return bw.Flush()
}

// respClean keeps an echoed argument on the error line.
func respClean(a string) string {
	if len(a) > 128 {
		a = a[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, a)
}

func respBulk(bw *bufio.Writer, s string) {
	bw.WriteString("$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n")
}

// readRESP reads one request: a multibulk array of bulk strings or an
// inline command. perr is a protocol error to report before hanging up.
func readRESP(br *bufio.Reader) (args []string, perr string, err error) {
	line, err := readLine(br)
	if errors.Is(err, errLineTooLong) {
		return nil, "too big inline request", nil
	}
	if err != nil {
		return nil, "", err
	}
	if !strings.HasPrefix(line, "*") {
		return strings.Fields(line), "", nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n > 1024 {
		return nil, "invalid multibulk length", nil
	}
	for range n {
		line, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			return nil, "too big bulk count string", nil
		}
		if err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(line, "$") {
			return nil, "expected '$', got '" + respClean(line[:min(len(line), 1)]) + "'", nil
		}
		size, err := strconv.Atoi(line[1:])
		if err != nil || size < 0 || size > 64*1024 {
			return nil, "invalid bulk length", nil
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, "", err
		}
		args = append(args, string(b[:size]))
	}
	return args, "", nil
}

func (s *Server) redisInfo(sp Spec, c *conn) string {
	up := time.Since(s.start)
	return "# Server\r\n" +
		"redis_version:" + RedisVersion + "\r\n" +
		"redis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:d81b8ff71cfb150e\r\n" +
		"redis_mode:standalone\r\nos:Linux 6.1.0-28-amd64 x86_64\r\narch_bits:64\r\n" +
		"monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\ngcc_version:12.2.0\r\n" +
		"process_id:" + strconv.Itoa(1000+int(sp.Port)%1000) + "\r\n" +
		"tcp_port:" + strconv.Itoa(int(sp.Port)) + "\r\n" +
		"uptime_in_seconds:" + strconv.Itoa(int(up.Seconds())) + "\r\n" +
		"uptime_in_days:" + strconv.Itoa(int(up.Hours()/24)) + "\r\n" +
		"executable:/usr/bin/redis-server\r\nconfig_file:/etc/redis/redis.conf\r\n\r\n" +
		"# Clients\r\nconnected_clients:" + strconv.Itoa(len(s.sem)) + "\r\n\r\n" +
		"# Keyspace\r\n"
}

// serveEcho sends back what it reads (RFC 862) until the client closes or
// goes quiet.
func serveEcho(c *conn) error {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return quiet(err)
		}
	}
}

// serveBanner sends the banner and discards what the client sends until it
// closes or goes quiet.
func (s *Server) serveBanner(c *conn) error {
	if _, err := c.Write(s.greeting); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, struct{ io.Reader }{c})
	return err
}

// serveDNSTCP answers DNS queries over TCP (RFC 1035 section 4.2.2, RFC
// 7766): each message has a two-byte length before it; several may follow
// on one connection. A malformed query ends the connection.
func (s *Server) serveDNSTCP(sp Spec, c *conn, remote netip.AddrPort) error {
	br := bufio.NewReader(c)
	msg := make([]byte, 0, 512)
	out := make([]byte, 2, 514)
	for range maxCommands {
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return quiet(err)
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		msg = slices.Grow(msg[:0], n)[:n]
		if _, err := io.ReadFull(br, msg); err != nil {
			return quiet(err)
		}
		reply, what := s.zone.answer(msg, out[:2], dnsMaxTCP, s.cfg.Logger != nil)
		if reply == nil {
			s.log(sp, remote, "ignored: "+what)
			return nil
		}
		binary.BigEndian.PutUint16(reply, uint16(len(reply)-2))
		if _, err := c.Write(reply); err != nil {
			return err
		}
		out = reply[:2]
		s.log(sp, remote, what)
	}
	return nil
}
