package capfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// WriterConfig describes the file a Writer produces. The zero value of each
// field is documented next to it.
type WriterConfig struct {
	// Format is FormatPcap or FormatPcapNG (zero: FormatPcapNG).
	Format Format
	// Interfaces are the capture interfaces; at least one is required. A
	// pcap file has exactly one (its link type and snap length go into the
	// file header). Snaplen 0 means 262144 for pcap and unlimited for pcapng.
	Interfaces []Interface
	// Nanoseconds selects nanosecond timestamps for pcap (zero: microseconds).
	// pcapng always records nanoseconds.
	Nanoseconds bool
	// Application names the writing program in the pcapng section header
	// (zero: "sonde").
	Application string
	// Comment is the pcapng section comment (zero: none).
	Comment string
}

// Writer writes packets to a pcap or pcapng file through a buffer; call Flush
// before closing the underlying file.
type Writer struct {
	format Format
	bw     *bufio.Writer
	pcap   *pcapgo.Writer
	ng     *pcapgo.NgWriter
	nIface int
}

// NewWriter writes the file header (pcap) or the section header and the
// interface descriptions (pcapng) to w and returns a Writer for packets.
func NewWriter(w io.Writer, cfg WriterConfig) (*Writer, error) {
	if cfg.Format == 0 {
		cfg.Format = FormatPcapNG
	}
	if len(cfg.Interfaces) == 0 {
		return nil, errors.New("capfile: writer needs at least one interface")
	}
	wr := &Writer{format: cfg.Format, nIface: len(cfg.Interfaces)}
	switch cfg.Format {
	case FormatPcap:
		if len(cfg.Interfaces) != 1 {
			return nil, fmt.Errorf("capfile: pcap holds one interface, got %d", len(cfg.Interfaces))
		}
		wr.bw = bufio.NewWriterSize(w, 1<<16)
		if cfg.Nanoseconds {
			wr.pcap = pcapgo.NewWriterNanos(wr.bw)
		} else {
			wr.pcap = pcapgo.NewWriter(wr.bw)
		}
		ifc := cfg.Interfaces[0]
		snap := ifc.Snaplen
		if snap <= 0 {
			snap = 262144
		}
		if err := wr.pcap.WriteFileHeader(uint32(snap), ifc.LinkType); err != nil {
			return nil, fmt.Errorf("capfile: %w", err)
		}
	case FormatPcapNG:
		app := cfg.Application
		if app == "" {
			app = "sonde"
		}
		opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: app, Comment: cfg.Comment}}
		ng, err := pcapgo.NewNgWriterInterface(w, ngInterface(cfg.Interfaces[0]), opts)
		if err != nil {
			return nil, fmt.Errorf("capfile: %w", err)
		}
		wr.ng = ng
		for _, ifc := range cfg.Interfaces[1:] {
			if _, err := ng.AddInterface(ngInterface(ifc)); err != nil {
				return nil, fmt.Errorf("capfile: %w", err)
			}
		}
	default:
		return nil, fmt.Errorf("capfile: unknown format %v", cfg.Format)
	}
	return wr, nil
}

func ngInterface(ifc Interface) pcapgo.NgInterface {
	snap := ifc.Snaplen
	if snap < 0 {
		snap = 0
	}
	return pcapgo.NgInterface{
		Name:                ifc.Name,
		Comment:             ifc.Comment,
		LinkType:            ifc.LinkType,
		SnapLength:          uint32(snap),
		TimestampResolution: 9,
	}
}

// WritePacket appends one packet. ci.InterfaceIndex selects the interface
// (pcapng); ci.LinkType is ignored (the interface's applies). Comments are
// stored as pcapng packet comments; a pcap file cannot hold them, and asking
// for them there is an error.
func (w *Writer) WritePacket(ci CaptureInfo, data []byte, comments ...string) error {
	if ci.CaptureLength == 0 {
		ci.CaptureLength = len(data)
	}
	if ci.CaptureLength != len(data) {
		return fmt.Errorf("capfile: capture length %d but %d bytes of data", ci.CaptureLength, len(data))
	}
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	gci := gopacket.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: ci.CaptureLength, Length: ci.Length, InterfaceIndex: ci.InterfaceIndex}
	if ci.InterfaceIndex < 0 || ci.InterfaceIndex >= w.nIface {
		return fmt.Errorf("capfile: no interface %d (have %d)", ci.InterfaceIndex, w.nIface)
	}
	var err error
	if w.pcap != nil {
		if len(comments) > 0 {
			return errors.New("capfile: pcap cannot store packet comments (use pcapng)")
		}
		err = w.pcap.WritePacket(gci, data)
	} else if len(comments) > 0 {
		err = w.ng.WritePacketWithOptions(gci, data, pcapgo.NgPacketOptions{Comments: comments})
	} else {
		err = w.ng.WritePacket(gci, data)
	}
	if err != nil {
		return fmt.Errorf("capfile: %w", err)
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	var err error
	if w.pcap != nil {
		err = w.bw.Flush()
	} else {
		err = w.ng.Flush()
	}
	if err != nil {
		return fmt.Errorf("capfile: %w", err)
	}
	return nil
}
