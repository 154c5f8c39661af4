package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sonde/internal/labsvc"
	"sonde/lab"
)

// A demoStep is one capability shown by `sonde lab demo`. Each capability's
// file adds its own with addDemoStep; steps run in order.
type demoStep struct {
	order int
	title string
	run   func(ctx context.Context, d *demo) error
}

var demoSteps []demoStep

func addDemoStep(s demoStep) { demoSteps = append(demoSteps, s) }

// demo is what a step gets: the lab and where to write.
type demo struct {
	lab *lab.Lab
	out io.Writer
	// dir holds the files the demo writes (captures, reports).
	dir string
	// keep is set when dir is the user's (--dir) and stays after the demo.
	keep bool
	// sniff is the background capture of the demo's traffic, if running.
	sniff    *exec.Cmd
	sniffErr *bufio.Scanner
	capture  string
}

// target returns the target's preferred IPv4 address.
func (d *demo) target() netip.Addr {
	a, _ := d.lab.Topology.Addr(d.lab.Topology.Target, false)
	return a
}

// sonde runs this sonde binary with args inside node, showing the command
// line as a prompt and its output as it comes.
func (d *demo) sonde(ctx context.Context, node string, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "%s$ sonde %s\n", node, quoteArgs(args))
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Dir = d.dir // files the demo writes and reads are relative to it
	cmd.Stdout, cmd.Stderr = d.out, d.out
	cmd.Env = append(os.Environ(), "NO_COLOR=1", labEnv+"="+d.lab.ID)
	if err := d.lab.Node(node).Run(cmd); err != nil {
		return fmt.Errorf("sonde %s in %s: %w", args[0], node, err)
	}
	return nil
}

// sondeTo runs sonde as sonde does, its standard output going to file (in
// the demo's directory) as a shell's redirection would.
func (d *demo) sondeTo(ctx context.Context, node, file string, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "%s$ sonde %s > %s\n", node, quoteArgs(args), file)
	out, err := os.Create(filepath.Join(d.dir, file))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = out, d.out
	cmd.Env = append(os.Environ(), "NO_COLOR=1", labEnv+"="+d.lab.ID)
	if err := d.lab.Node(node).Run(cmd); err != nil {
		return fmt.Errorf("sonde %s in %s: %w", args[0], node, err)
	}
	return out.Close()
}

func newLabDemoCmd(e *env) *cobra.Command {
	var keep string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Build the demo lab and show every capability of sonde against it",
		Long: `Build the demo lab (a client on a LAN with a few hosts and a router, a chain
of routers, and a target running services), run each of sonde's capabilities
against it, print what each found, and tear the lab down.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reexec, err := needUserns(); reexec || err != nil {
				return runInUserns(cmd.Context(), e, err)
			}
			return runDemo(cmd.Context(), e, keep)
		},
	}
	cmd.Flags().StringVar(&keep, "dir", "", "keep the files the demo writes (captures, reports) in this directory")
	return cmd
}

func runDemo(ctx context.Context, e *env, dir string) error {
	keep := dir != ""
	topo, err := lab.Demo(lab.Options{})
	if err != nil {
		return err
	}
	start := time.Now()
	l, err := lab.Up(ctx, topo, nil)
	if err != nil {
		return labError(err)
	}
	defer l.Close()
	fmt.Fprintf(e.stdout, "== the lab (built in %v)\n", time.Since(start).Round(time.Millisecond))
	printLab(e.stdout, l)
	if dir == "" {
		tmp, err := os.MkdirTemp("", "sonde-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d := &demo{lab: l, out: e.stdout, dir: dir, keep: keep}
	defer func() {
		if d.sniff != nil { // a step failed: do not leave the capture running
			d.sniff.Process.Kill()
			d.sniff.Wait()
		}
	}()
	steps := slices.Clone(demoSteps)
	slices.SortStableFunc(steps, func(a, b demoStep) int { return a.order - b.order })
	for _, s := range steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(e.stdout, "\n== %s\n", s.title)
		if err := s.run(ctx, d); err != nil {
			return err
		}
	}
	if err := l.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n== done in %v; the lab is torn down\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func init() {
	addDemoStep(demoStep{order: 0, title: "services on the target, greeted from the client", run: demoServices})
}

// demoServices talks to each of the target's services from the client and
// prints the first thing each says: the lab is alive.
func demoServices(ctx context.Context, d *demo) error {
	t := d.lab.Topology
	dst, _ := t.Addr(t.Target, false)
	fmt.Fprintf(d.out, "client → %s (%s)\n", t.Target, dst)
	for _, s := range t.Node(t.Target).Services {
		var line string
		err := d.lab.Node(t.Client).Do(func() error {
			var err error
			line, err = greet(ctx, s, netip.AddrPortFrom(dst, s.Port))
			return err
		})
		if err != nil {
			line = "error: " + err.Error()
		}
		fmt.Fprintf(d.out, "  %5d/%s  %-6s %s\n", s.Port, s.Kind.Network(), s.Kind, line)
	}
	return nil
}

// greet opens a connection to a service (in the calling thread's
// namespace) and returns the first line of what it says, prompting it
// first when the protocol makes the client speak first.
func greet(ctx context.Context, s labsvc.Spec, ap netip.AddrPort) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, s.Kind.Network(), ap.String())
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	var prompt []byte
	switch s.Kind {
	case labsvc.HTTP:
		prompt = []byte("HEAD / HTTP/1.0\r\n\r\n")
	case labsvc.HTTPS:
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true}) // the lab's certificate is self-signed
		if err := tc.HandshakeContext(ctx); err != nil {
			return "", err
		}
		cert := tc.ConnectionState().PeerCertificates[0]
		return fmt.Sprintf("%s, certificate for %s", tls.VersionName(tc.ConnectionState().Version), strings.Join(cert.DNSNames, " ")), nil
	case labsvc.DNS:
		prompt = dnsQuery("target.lab")
	case labsvc.NTP:
		prompt = make([]byte, 48)
		prompt[0] = 0x23 // version 4, mode 3 (client)
	case labsvc.UDPEcho, labsvc.Echo:
		prompt = []byte("hello, lab\n")
	}
	if prompt != nil {
		if _, err := conn.Write(prompt); err != nil {
			return "", err
		}
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	reply := buf[:n]
	switch s.Kind {
	case labsvc.DNS:
		return dnsSummary(reply), nil
	case labsvc.NTP:
		if len(reply) < 48 {
			return "", fmt.Errorf("short NTP reply (%d bytes)", len(reply))
		}
		return fmt.Sprintf("NTP mode %d, stratum %d", reply[0]&7, reply[1]), nil
	case labsvc.MySQL:
		// Protocol 10 handshake: 4-byte header, version byte, then the
		// server version as a C string.
		if len(reply) > 5 {
			if v, _, ok := bytes.Cut(reply[5:], []byte{0}); ok {
				return "MySQL " + string(v), nil
			}
		}
	}
	first, _, _ := bufio.NewReader(bytes.NewReader(reply)).ReadLine()
	return strings.TrimSpace(string(first)), nil
}

// dnsQuery builds a recursion-desired query for name's A record (RFC 1035).
func dnsQuery(name string) []byte {
	q := []byte{0x5d, 0x0e, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, label := range strings.Split(name, ".") {
		q = append(q, byte(len(label)))
		q = append(q, label...)
	}
	return append(q, 0, 0, 1, 0, 1)
}

// dnsSummary describes a reply to dnsQuery: its rcode and the first A
// record's address.
func dnsSummary(r []byte) string {
	if len(r) < 12 {
		return "short DNS reply"
	}
	rcode, answers := r[3]&0xf, int(r[6])<<8|int(r[7])
	if rcode != 0 || answers == 0 {
		return fmt.Sprintf("DNS rcode %d, %d answers", rcode, answers)
	}
	// An A answer ends with RDLENGTH 4 and the address.
	return fmt.Sprintf("DNS target.lab A %d.%d.%d.%d", r[len(r)-4], r[len(r)-3], r[len(r)-2], r[len(r)-1])
}

// quoteArgs writes a command line back as a shell would need it.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"()[]*&|;<>$") {
			q[i] = "'" + a + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
