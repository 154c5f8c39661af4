package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"sonde/capfile"
	"sonde/capture"
)

func init() {
	register(newSniffCmd, "sniff")
	addDemoStep(demoStep{order: -1, title: "sniff: capture the demo's own traffic on the client, in the background", run: demoSniffStart})
	addDemoStep(demoStep{order: 90, title: "read and stats: what the capture holds", run: demoSniffStop})
}

// demoSniffStart starts sonde sniff on the client's interface, writing to
// the demo's directory, and waits until it listens.
func demoSniffStart(ctx context.Context, d *demo) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	file := "demo.pcapng"
	args := []string{"sniff", "-i", "eth0", "-w", file}
	fmt.Fprintf(d.out, "%s$ sonde %s &\n", d.lab.Topology.Client, quoteArgs(args))
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), labEnv+"="+d.lab.ID)
	cmd.Dir = d.dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := d.lab.Node(d.lab.Topology.Client).Start(cmd); err != nil {
		return err
	}
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening on") {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("sonde sniff did not start: %s", sc.Text())
	}
	fmt.Fprintln(d.out, sc.Text())
	d.sniff, d.sniffErr, d.capture = cmd, sc, file
	return nil
}

// demoSniffStop stops the capture with SIGINT, as Ctrl-C would, and shows
// what it holds.
func demoSniffStop(ctx context.Context, d *demo) error {
	if d.sniff == nil {
		return nil
	}
	d.sniff.Process.Signal(syscall.SIGINT)
	for d.sniffErr.Scan() {
		fmt.Fprintln(d.out, d.sniffErr.Text())
	}
	if err := d.sniff.Wait(); err != nil {
		return fmt.Errorf("sonde sniff: %w", err)
	}
	d.sniff = nil
	client := d.lab.Topology.Client
	if err := d.sonde(ctx, client, "read", d.capture, "-c", "8", "icmp or arp"); err != nil {
		return err
	}
	return d.sonde(ctx, client, "stats", "--conv", "ip", "--phs", d.capture)
}

type sniffFlags struct {
	printFlags
	iface     string
	write     string
	snaplen   int
	ring      string
	noPromisc bool
}

func newSniffCmd(e *env) *cobra.Command {
	var f sniffFlags
	cmd := &cobra.Command{
		Use:   "sniff [EXPR]",
		Short: "Capture live traffic, as tcpdump does, and print it or write it to a file",
		Long: `Capture the packets that match the pcap-filter expression EXPR (tcpdump's
syntax; the kernel runs the compiled filter) on one interface or all, from an
AF_PACKET ring. Print a line each as they come, or write them to a pcapng
file with -w. Ctrl-C stops cleanly: the file is complete, and the kernel's
counters are printed (captured, received by the filter, dropped).`,
		Example: `  sonde sniff -i eth0 -c 10 icmp
  sonde sniff -i eth0 -w capture.pcapng 'tcp port 80'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSniff(cmd.Context(), e, &f, strings.Join(args, " "))
		},
	}
	f.printFlags.add(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.iface, "interface", "i", "", "interface to capture on (default: all)")
	fl.StringVarP(&f.write, "write", "w", "", "write the packets to this pcapng file instead of printing them")
	fl.IntVarP(&f.snaplen, "snaplen", "s", 262144, "bytes kept of each packet")
	fl.StringVar(&f.ring, "ring", "", "ring buffer as SIZE/BLOCKS, e.g. 64M/16 (default 8M/8)")
	fl.BoolVarP(&f.noPromisc, "no-promiscuous-mode", "p", false, "do not put the interface in promiscuous mode")
	return cmd
}

// parseRing parses SIZE/BLOCKS ("64M/16", "8388608/8").
func parseRing(s string) (size, blocks int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	sz, bl, ok := strings.Cut(s, "/")
	mult := 1
	switch {
	case strings.HasSuffix(sz, "M"):
		mult, sz = 1<<20, strings.TrimSuffix(sz, "M")
	case strings.HasSuffix(sz, "K"):
		mult, sz = 1<<10, strings.TrimSuffix(sz, "K")
	}
	n, err1 := strconv.Atoi(sz)
	b, err2 := strconv.Atoi(bl)
	if !ok || err1 != nil || err2 != nil || n <= 0 || b <= 0 || n*mult > 1<<30 {
		return 0, 0, usagef("--ring %q: want SIZE/BLOCKS such as 64M/16 (at most 1024M)", s)
	}
	return n * mult, b, nil
}

func runSniff(ctx context.Context, e *env, f *sniffFlags, expr string) error {
	size, blocks, err := parseRing(f.ring)
	if err != nil {
		return err
	}
	if f.snaplen <= 0 || f.snaplen > 262144 {
		return usagef("--snaplen %d: want 1 to 262144", f.snaplen)
	}
	lt := layers.LinkTypeEthernet
	if f.iface != "" {
		ifc, err := net.InterfaceByName(f.iface)
		if err != nil {
			return usagef("--interface %s: %v", f.iface, err)
		}
		if ifc.Flags&net.FlagLoopback == 0 && len(ifc.HardwareAddr) != 6 {
			lt = layers.LinkTypeRaw
		}
	}
	fs, err := newFilters(expr, lt, true)
	if err != nil {
		return err
	}
	cfg := capture.Config{Interface: f.iface, Snaplen: f.snaplen, Promisc: !f.noPromisc && f.iface != "", RingSize: size, RingBlocks: blocks}
	if expr != "" {
		prog, _ := fs.program(lt)
		if cfg.Filter, err = prog.RawInstructions(); err != nil {
			return err
		}
	}
	var w *capfile.Writer
	var out *os.File
	var p *printer
	if f.write != "" {
		if out, err = os.Create(f.write); err != nil {
			return usagef("-w %s: %v", f.write, err)
		}
		defer out.Close()
		name := f.iface
		if name == "" {
			name = "any"
		}
		if w, err = capfile.NewWriter(out, capfile.WriterConfig{Interfaces: []capfile.Interface{{Name: name, LinkType: lt, Snaplen: f.snaplen}}}); err != nil {
			return err
		}
	} else if p, err = newPrinter(&f.printFlags, e.stdout); err != nil {
		return err
	}
	h, err := capture.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	if f.iface != "" {
		fmt.Fprintf(e.stderr, "sonde: listening on %s, capture size %d bytes\n", f.iface, f.snaplen)
	} else {
		fmt.Fprintf(e.stderr, "sonde: listening on all interfaces, capture size %d bytes\n", f.snaplen)
	}
	var n uint64
	var readErr error
	for f.count == 0 || n < uint64(f.count) {
		data, ci, err := h.ZeroCopyReadPacketData()
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				readErr = err
			}
			break
		}
		n++
		if w != nil {
			err = w.WritePacket(capfile.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: len(data), Length: ci.Length}, data)
		} else {
			err = p.print(data, ci.Timestamp, ci.Length, ci.LinkType)
			if f.count == 0 && err == nil {
				err = p.w.Flush() // live: each line as it comes
			}
		}
		if err != nil {
			readErr = err
			break
		}
	}
	var werr error
	if w != nil {
		werr = w.Flush()
	} else {
		werr = p.close()
	}
	st, serr := h.Stats()
	fmt.Fprintf(e.stderr, "%d packets captured\n", n)
	if serr == nil {
		fmt.Fprintf(e.stderr, "%d packets received by filter\n%d packets dropped by kernel\n", st.Packets, st.Drops)
	}
	return errors.Join(readErr, werr)
}
