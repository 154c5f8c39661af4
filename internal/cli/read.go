package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"sonde/analyze"
	"sonde/capfile"
	"sonde/filter"
	"sonde/packet"
)

func init() { register(newReadCmd, "read") }

// printFlags choose how packets are printed, by read and sniff.
type printFlags struct {
	fields   string
	sep      string
	header   bool
	json     bool
	show     bool
	hex      bool
	noTime   bool
	count    int
	parquet  string
	absolute bool
}

func (f *printFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.fields, "fields", "e", "", "print these fields of each packet, named as tshark names them (ip.src,tcp.dstport,…)")
	fl.StringVar(&f.sep, "separator", "\t", "between --fields")
	fl.BoolVar(&f.header, "header", false, "with --fields, a first line naming them")
	fl.BoolVar(&f.json, "json", false, "one JSON object per packet, with tshark's field names")
	fl.BoolVar(&f.show, "show", false, "every layer and field of each packet")
	fl.BoolVarP(&f.hex, "hex", "X", false, "each packet's bytes, as a hexdump")
	fl.BoolVarP(&f.noTime, "no-time", "t", false, "no timestamp at the start of each line (tcpdump -t)")
	fl.IntVarP(&f.count, "count", "c", 0, "stop after this many packets")
	fl.BoolVarP(&f.absolute, "absolute-tcp-sequence-numbers", "S", false, "print absolute TCP sequence numbers (tcpdump -S)")
	var numeric bool
	fl.BoolVarP(&numeric, "numeric", "n", true, "addresses and ports as numbers (always: sonde never resolves names; accepted for tcpdump's -n)")
}

// printer renders packets as the flags ask; one per command, reused for
// every packet so that the common case allocates nothing.
type printer struct {
	f      *printFlags
	w      *bufio.Writer
	ds     decoders
	fields *packet.Fields
	sep    byte
	buf    []byte
	n      uint64
	first  time.Time
	seqs   *packet.TCPSeqs
	pw     *analyze.PacketWriter
	pout   *os.File
}

func newPrinter(f *printFlags, w io.Writer) (*printer, error) {
	if f.count < 0 {
		return nil, usagef("--count %d: must not be negative", f.count)
	}
	p := &printer{f: f, w: bufio.NewWriterSize(w, 256<<10), ds: decoders{}}
	if f.fields != "" {
		if len(f.sep) != 1 {
			return nil, usagef("--separator %q: want one character", f.sep)
		}
		p.sep = f.sep[0]
		names := strings.Split(f.fields, ",")
		var err error
		if p.fields, err = packet.NewFields(names); err != nil {
			return nil, asUsage(err)
		}
		if f.header {
			p.w.WriteString(strings.Join(names, f.sep) + "\n")
		}
	}
	if f.parquet != "" {
		out, err := os.Create(f.parquet)
		if err != nil {
			return nil, usagef("--parquet %s: %v", f.parquet, err)
		}
		p.pout, p.pw = out, analyze.NewPacketWriter(out)
	}
	return p, nil
}

// done reports whether --count packets were printed.
func (p *printer) done() bool { return p.f.count > 0 && p.n >= uint64(p.f.count) }

// print renders one packet.
func (p *printer) print(data []byte, ts time.Time, wireLen int, lt layers.LinkType) error {
	p.n++
	if p.n == 1 {
		p.first = ts
	}
	if p.pw != nil {
		return p.pw.Add(data, ts, wireLen, lt)
	}
	link, ok := packet.LinkTypeFromDLT(uint32(lt))
	b := p.buf[:0]
	if !ok {
		b = fmt.Appendf(b, "[link type %d not decoded] %d bytes\n", lt, len(data))
		p.buf = b
		_, err := p.w.Write(b)
		return err
	}
	d := p.ds.decode(link, data)
	d.Length = wireLen
	if !p.f.absolute {
		if p.seqs == nil {
			p.seqs = packet.NewTCPSeqs()
		}
		d.Seqs = p.seqs
	}
	switch {
	case p.fields != nil:
		b = p.fields.Append(b, d, packet.FrameInfo{Number: p.n, Time: ts, Length: wireLen, CapLen: len(data), Relative: ts.Sub(p.first)}, p.sep)
		b = append(b, '\n')
	case p.f.json:
		b = fmt.Appendf(b, `{"frame":{"frame.number":"%d","frame.time_epoch":"%d.%09d","frame.len":"%d","frame.cap_len":"%d"},`,
			p.n, ts.Unix(), ts.Nanosecond(), wireLen, len(data))
		j := len(b)
		b = d.AppendJSON(b)
		b = append(b[:j], b[j+1:]...) // drop AppendJSON's opening brace
		if b[len(b)-2] == ',' {
			b = append(b[:len(b)-2], '}')
		}
		b = append(b, '\n')
	default:
		if !p.f.noTime {
			b = ts.Local().AppendFormat(b, "15:04:05.000000 ")
		}
		b = append(d.AppendTCPDump(b), '\n')
		if p.f.show {
			b = d.AppendShow(b)
		}
	}
	if p.f.hex {
		b = packet.AppendHexdump(b, data)
	}
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

// close flushes the output and finishes a Parquet file.
func (p *printer) close() error {
	err := p.w.Flush()
	if p.pw != nil {
		err = errors.Join(err, finishPackets(p.pw, p.pout))
	}
	return err
}

// filters compiles a pcap-filter expression once per link type met.
type filters struct {
	expr  string
	progs map[layers.LinkType]*filter.Program
	// skipUnknown makes packets of a link type the expression cannot be
	// compiled for fail the filter, instead of ending the read with an error.
	skipUnknown bool
}

// newFilters compiles expr for the first link type (for Ethernet when it
// is not known yet), so that a bad expression is reported before anything
// is read or captured.
func newFilters(expr string, lt layers.LinkType, known bool) (*filters, error) {
	fs := &filters{expr: expr, progs: map[layers.LinkType]*filter.Program{}}
	if expr == "" {
		return fs, nil
	}
	if !known {
		if _, err := filter.Compile(expr, filter.LinkType(layers.LinkTypeEthernet), 262144); err != nil {
			return nil, asUsage(err)
		}
		return fs, nil
	}
	if _, err := fs.program(lt); err != nil {
		return nil, asUsage(err)
	}
	return fs, nil
}

func (fs *filters) program(lt layers.LinkType) (*filter.Program, error) {
	if p, ok := fs.progs[lt]; ok {
		return p, nil
	}
	p, err := filter.Compile(fs.expr, filter.LinkType(lt), 262144)
	if err != nil && !fs.skipUnknown {
		return nil, err
	}
	fs.progs[lt] = p // nil when skipped: no packet of lt matches
	return p, err
}

// match reports whether a packet passes the filter.
func (fs *filters) match(data []byte, wireLen int, lt layers.LinkType) (bool, error) {
	if fs.expr == "" {
		return true, nil
	}
	p, err := fs.program(lt)
	if p == nil {
		if fs.skipUnknown {
			return false, nil
		}
		return false, err
	}
	return p.Match(data, wireLen), nil
}

// openCapture opens a pcap or pcapng file, or standard input for "-".
func openCapture(e *env, name string) (*capfile.Reader, func(), error) {
	var in io.Reader = e.stdin
	closer := func() {}
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return nil, nil, asUsage(err)
		}
		in, closer = file, func() { file.Close() }
	}
	r, err := capfile.NewReader(in)
	if err != nil {
		closer()
		return nil, nil, usagef("%s: %v", name, err)
	}
	return r, closer, nil
}

func newReadCmd(e *env) *cobra.Command {
	var f printFlags
	cmd := &cobra.Command{
		Use:   "read FILE [EXPR]",
		Short: "Print the packets of a pcap or pcapng file, as tcpdump -r and tshark -r do",
		Long: `Print the packets of FILE (pcap or pcapng; - for standard input) that match
the pcap-filter expression EXPR (tcpdump's syntax: "tcp port 80 and host
198.18.0.2"): a tcpdump-like line each, or the fields you name (tshark's
names), JSON, every field (--show), or a Parquet file of per-packet fields.`,
		Example: `  sonde read capture.pcapng
  sonde read capture.pcapng 'tcp[tcpflags] & tcp-syn != 0'
  sonde read capture.pcapng --fields frame.number,ip.src,ip.dst,tcp.dstport udp or tcp
  sonde read capture.pcapng --parquet packets.parquet`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRead(cmd.Context(), e, &f, args[0], strings.Join(args[1:], " "))
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&f.parquet, "parquet", "", "write the matching packets' fields to this Parquet file instead of printing them")
	return cmd
}

func runRead(ctx context.Context, e *env, f *printFlags, name, expr string) error {
	r, closeIn, err := openCapture(e, name)
	if err != nil {
		return err
	}
	defer closeIn()
	fs, err := newFilters(expr, r.LinkType(), len(r.Interfaces()) > 0)
	if err != nil {
		return err
	}
	p, err := newPrinter(f, e.stdout)
	if err != nil {
		return err
	}
	var readErr error
	for n := 0; !p.done(); n++ {
		if n&0xfff == 0 && ctx != nil && ctx.Err() != nil {
			break // interrupted: what was read is printed
		}
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("%s: %w", name, err)
			break
		}
		ok, err := fs.match(data, ci.Length, ci.LinkType)
		if err != nil {
			readErr = err
			break
		}
		if ok {
			if err := p.print(data, ci.Timestamp, ci.Length, ci.LinkType); err != nil {
				return errors.Join(err, p.close())
			}
		}
	}
	return errors.Join(p.close(), readErr)
}
