package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"sonde/packet"
	"sonde/probe"
)

func init() {
	register(func(e *env) *cobra.Command { return newSRCmd(e, "sr") }, "sr")
	register(func(e *env) *cobra.Command { return newSRCmd(e, "sr1") }, "sr1")
	register(func(e *env) *cobra.Command { return newSRCmd(e, "srp") }, "srp")
	register(func(e *env) *cobra.Command { return newSRCmd(e, "srp1") }, "srp1")
	register(newSendCmd, "send")
	addDemoStep(demoStep{order: 12, title: "sr: craft TCP SYNs, send them, match the answers (SYN-ACK: open, RST: closed)", run: func(ctx context.Context, d *demo) error {
		expr := fmt.Sprintf(`IP(dst="%s")/TCP(dport=[21,22,23,80,443,8080],flags="S")`, d.target())
		return d.sonde(ctx, d.lab.Topology.Client, "sr", expr)
	}})
}

// srFlags are the flags of send, sr, sr1, srp and srp1.
type srFlags struct {
	timeout, inter time.Duration
	retry          int
	iface          string
	multi          bool
	show, hex      bool
	json           bool
	write          string
}

func (f *srFlags) add(cmd *cobra.Command, send bool) {
	fl := cmd.Flags()
	fl.Var(secondsFlag{&f.inter}, "inter", "gap between two packets, in seconds or as a duration")
	fl.StringVarP(&f.iface, "iface", "i", "", "interface to send (and receive) on; default: the route's")
	fl.BoolVar(&f.show, "show", false, "show every layer and field of each packet (Scapy's show())")
	fl.BoolVar(&f.hex, "hex", false, "hexdump each packet")
	fl.BoolVar(&f.json, "json", false, "one JSON object per line")
	fl.StringVarP(&f.write, "write", "w", "", "also write the packets sent and received to this pcapng file")
	if send {
		return
	}
	f.timeout = 2 * time.Second
	fl.VarP(secondsFlag{&f.timeout}, "timeout", "t", "how long to wait for answers after the last packet, in seconds or as a duration")
	fl.IntVar(&f.retry, "retry", 0, "resend the unanswered this many more times")
	fl.BoolVar(&f.multi, "multi", false, "keep every answer to a packet, not only the first")
}

func (f *srFlags) config() *probe.Config {
	return &probe.Config{Timeout: f.timeout, Inter: f.inter, Retry: f.retry, Multi: f.multi, Interface: f.iface}
}

func (f *srFlags) check() error {
	switch {
	case f.timeout < 0:
		return usagef("--timeout %v: must not be negative", f.timeout)
	case f.inter < 0:
		return usagef("--inter %v: must not be negative", f.inter)
	case f.retry < 0 || f.retry > 100:
		return usagef("--retry %d: want 0 to 100", f.retry)
	}
	return nil
}

var srHelp = map[string]string{
	"sr":   "Send packets at layer 3 and show the answers (Scapy's sr)",
	"sr1":  "Send packets at layer 3 and show the first answer (Scapy's sr1)",
	"srp":  "Send frames at layer 2 and show the answers (Scapy's srp)",
	"srp1": "Send frames at layer 2 and show the first answer (Scapy's srp1)",
}

func newSRCmd(e *env, name string) *cobra.Command {
	var f srFlags
	layer2 := name == "srp" || name == "srp1"
	first := name == "sr1" || name == "srp1"
	cmd := &cobra.Command{
		Use:   name + " EXPR",
		Short: srHelp[name],
		Long: srHelp[name] + `.

EXPR stacks layers as Scapy does, each with its fields; a field given as a
list [a,b], a range (a,b) or a CIDR makes one packet per value:

  IP(dst="198.18.0.2")/TCP(dport=(1,1000),flags="S")
  IP(dst="198.18.200.1",ttl=(1,10))/UDP(dport=33434)
  Ether(dst="ff:ff:ff:ff:ff:ff")/ARP(pdst="198.18.0.0/24")

Each answer is shown beside the packet it answers, then the unanswered, then
counters: a lost answer is never silent.`,
		Example: `  sonde sr 'IP(dst="198.18.0.2")/TCP(dport=[22,80,443],flags="S")'
  sonde sr1 'IP(dst="198.18.0.2")/ICMP()' --show
  sonde srp 'Ether(dst="ff:ff:ff:ff:ff:ff")/ARP(pdst="198.18.0.0/24")' --timeout 1s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			t, err := parseTemplate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			run := probe.SR
			if layer2 {
				run = probe.SRP
			}
			var rec *pcapRecorder
			cfg := f.config()
			if f.write != "" {
				if rec, err = newPCAPRecorder(f.write); err != nil {
					return err
				}
			}
			res, err := run(cmd.Context(), t, cfg)
			if res == nil {
				return probeError(err)
			}
			if first && len(res.Answered) > 1 {
				res.Answered = res.Answered[:1]
			}
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			if f.json {
				writeResultJSON(out, res, first)
			} else {
				writeResult(out, res, &f, first)
			}
			if rec != nil {
				if werr := rec.writeResult(res); werr != nil {
					return werr
				}
			}
			return probeError(err)
		},
	}
	f.add(cmd, false)
	return cmd
}

func newSendCmd(e *env) *cobra.Command {
	var f srFlags
	cmd := &cobra.Command{
		Use:   "send EXPR",
		Short: "Send packets and do not wait for answers (Scapy's send and sendp)",
		Long: `Send the packets of EXPR (see sonde sr --help). A packet that starts with
Ether() goes out at layer 2 on the route's interface (or --iface); others at
layer 3, routed by the kernel.`,
		Example: `  sonde send 'IP(dst="198.18.0.2")/UDP(dport=7)/"hello"'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			t, err := parseTemplate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			stats, err := probe.Send(cmd.Context(), t, f.config())
			fmt.Fprintf(e.stdout, "Sent %d packets.\n", stats.Sent)
			return probeError(err)
		},
	}
	f.add(cmd, true)
	return cmd
}

// parseTemplate parses a packet expression and resolves the host names it
// holds; every failure is a usage error that points at its column.
func parseTemplate(ctx context.Context, expr string) (*packet.Template, error) {
	t, err := packet.Parse(expr)
	if err != nil {
		return nil, asUsage(err)
	}
	if len(t.Names()) > 0 {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := t.Resolve(func(name string, ipv6 bool) (netip.Addr, error) {
			return resolveHost(ctx, name, ipv6)
		})
		if err != nil {
			return nil, asUsage(err)
		}
	}
	return t, nil
}

// resolveHost looks name up (the hosts file first, as the system does),
// returning an address of the wanted family.
func resolveHost(ctx context.Context, name string, ipv6 bool) (netip.Addr, error) {
	network := "ip4"
	if ipv6 {
		network = "ip6"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, name)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return netip.Addr{}, errors.New(dnsErr.Err)
		}
		return netip.Addr{}, err
	}
	return addrs[0].Unmap(), nil
}

// probeError makes the probe's errors fit for the CLI: too many packets is
// the user's input.
func probeError(err error) error {
	if errors.Is(err, probe.ErrTooMany) || errors.Is(err, probe.ErrBadTemplate) {
		return asUsage(err)
	}
	if errors.Is(err, context.Canceled) {
		return nil // interrupted: what we have was printed
	}
	return err
}

// writeResult prints the pairs as Scapy's ans.summary() does, then the
// unanswered, then the counters.
func writeResult(w io.Writer, res *probe.Result, f *srFlags, first bool) {
	var b []byte
	sdec, rdec := decoders{}, decoders{}
	for _, p := range res.Answered {
		sd, rd := sdec.decode(p.Sent.Link, p.Sent.Data), rdec.decode(p.Received.Link, p.Received.Data)
		b = sd.AppendSummary(b[:0])
		b = append(b, " ==> "...)
		b = rd.AppendSummary(b)
		b = append(b, "  "...)
		b = appendRTT(b, p.RTT())
		b = append(b, '\n')
		if f.show {
			b = append(b, "--- sent\n"...)
			b = sd.AppendShow(b)
			b = append(b, "--- received\n"...)
			b = rd.AppendShow(b)
		}
		if f.hex {
			b = packet.AppendHexdump(append(b, "--- sent\n"...), p.Sent.Data)
			b = packet.AppendHexdump(append(b, "--- received\n"...), p.Received.Data)
		}
		w.Write(b)
	}
	if len(res.Unanswered) > 0 && !first {
		fmt.Fprintf(w, "Unanswered:\n")
		for _, s := range res.Unanswered {
			sd := sdec.decode(s.Link, s.Data)
			b = append(sd.AppendSummary(b[:0]), '\n')
			if f.show {
				b = sd.AppendShow(b)
			}
			w.Write(b)
		}
	}
	s := res.Stats
	fmt.Fprintf(w, "Sent %d packets, received %d answers for %d of them (%d duplicates), %d unanswered, %d resent, %d dropped by the kernel, in %s.\n",
		s.Sent, s.Answered+s.Duplicates, s.Answered, s.Duplicates, s.Unanswered, s.Retried, s.Drops, roundDuration(s.Elapsed))
}

func appendRTT(b []byte, d time.Duration) []byte {
	return append(strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 3, 64), " ms"...)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}

// writeResultJSON writes one JSON object per pair and per unanswered
// request, then one with the counters.
func writeResultJSON(w io.Writer, res *probe.Result, first bool) {
	var b []byte
	sdec, rdec := decoders{}, decoders{}
	for _, p := range res.Answered {
		sd, rd := sdec.decode(p.Sent.Link, p.Sent.Data), rdec.decode(p.Received.Link, p.Received.Data)
		b = fmt.Appendf(b[:0], `{"index":%d,"answered":true,"rtt_ms":%.3f,"sent":`, p.Sent.Index, float64(p.RTT().Microseconds())/1000)
		b = sd.AppendJSON(b)
		b = append(b, `,"received":`...)
		b = rd.AppendJSON(b)
		b = append(b, "}\n"...)
		w.Write(b)
	}
	if !first {
		for _, s := range res.Unanswered {
			sd := sdec.decode(s.Link, s.Data)
			b = fmt.Appendf(b[:0], `{"index":%d,"answered":false,"sent":`, s.Index)
			b = append(sd.AppendJSON(b), "}\n"...)
			w.Write(b)
		}
	}
	s := res.Stats
	fmt.Fprintf(w, `{"stats":{"sent":%d,"answered":%d,"unanswered":%d,"duplicates":%d,"retried":%d,"received":%d,"kernel_drops":%d,"elapsed_ms":%.3f}}`+"\n",
		s.Sent, s.Answered, s.Unanswered, s.Duplicates, s.Retried, s.Received, s.Drops, float64(s.Elapsed.Microseconds())/1000)
}

// decoders keeps one reused decoder per link type.
type decoders map[packet.LinkType]*packet.Decoder

// decode decodes data with the decoder of link and returns it; a partial
// decode keeps the layers it found.
func (ds decoders) decode(link packet.LinkType, data []byte) *packet.Decoder {
	d := ds[link]
	if d == nil {
		d = packet.NewDecoder(link)
		ds[link] = d
	}
	d.Decode(data)
	return d
}
