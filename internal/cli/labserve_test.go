package cli

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLabServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"lab-serve", "--tcp", "ssh:0,smtp:0", "--udp", "dns:0", "--hostname", "mail.lab",
			"--name", "target.lab=198.19.0.10,fd00::10", "-v"}, strings.NewReader(""), &stdout, &stderr)
	}()
	// Wait for the three "listening" lines.
	re := regexp.MustCompile(`(?m)^(\w+):(\d+)/(tcp|udp) +listening on \[::\]:(\d+)$|^(\w+):(\d+)/(tcp|udp) +listening on 0\.0\.0\.0:(\d+)$`)
	ports := map[string]string{}
	for deadline := time.Now().Add(5 * time.Second); len(ports) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no listening lines: stdout %q stderr %q", stdout.String(), stderr.String())
		}
		for _, m := range re.FindAllStringSubmatch(stdout.String(), -1) {
			if m[1] != "" {
				ports[m[1]] = m[2]
			} else {
				ports[m[5]] = m[6]
			}
		}
	}

	c, err := net.DialTimeout("tcp", "127.0.0.1:"+ports["smtp"], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 100)
	n, _ := c.Read(buf)
	c.Close()
	if got := string(buf[:n]); got != "220 mail.lab ESMTP Postfix (Debian/GNU)\r\n" {
		t.Errorf("greeting %q", got)
	}

	// A DNS query for an A record of the --name.
	u, err := net.Dial("udp", "127.0.0.1:"+ports["dns"])
	if err != nil {
		t.Fatal(err)
	}
	u.SetDeadline(time.Now().Add(2 * time.Second))
	u.Write([]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06target\x03lab\x00\x00\x01\x00\x01"))
	n, err = u.Read(buf)
	u.Close()
	if err != nil || n < 16 || !bytes.HasSuffix(buf[:n], []byte{0, 4, 198, 19, 0, 10}) {
		t.Errorf("DNS reply %x, %v", buf[:n], err)
	}

	cancel()
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("exit %d, stderr %q", c, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lab-serve did not stop when its context ended")
	}
	// -v logged the connection and the query.
	for _, want := range []string{"smtp:" + ports["smtp"] + "/tcp 127.0.0.1:", " connect", "A target.lab: 1 answer"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestLabServeUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lab-serve"}, "no service given"},
		{[]string{"lab-serve", "--tcp", "ssh:22,htp:80"}, `"htp:80": unknown service "htp"`},
		{[]string{"lab-serve", "--tcp", "ntp:123"}, "ntp is a udp service"},
		{[]string{"lab-serve", "--udp", "ntp:123456"}, `port "123456"`},
		{[]string{"lab-serve", "--tcp", "ssh:2222,http:2222"}, "use the same port"},
		{[]string{"lab-serve", "--udp", "dns:0", "--name", "target.lab"}, "want NAME=ADDR"},
		{[]string{"lab-serve", "--udp", "dns:0", "--name", "target.lab=1.2.3"}, `--name "target.lab=1.2.3"`},
		{[]string{"lab-serve", "--udp", "dns:0", "--name", "a b=1.2.3.4"}, "not a valid host name"},
		{[]string{"lab-serve", "extra"}, "unknown command"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != ExitUsage || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 2 with %q", tc.args, code, stderr.String(), stdout.String(), tc.want)
		}
	}
}
