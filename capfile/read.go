package capfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Format is the container format of a capture file.
type Format int

// The formats a Reader understands.
const (
	FormatPcap   Format = iota + 1 // classic libpcap format
	FormatPcapNG                   // pcap next generation
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrTruncated is matched (errors.Is) by the error of a file that ends in the
// middle of a record or block.
var ErrTruncated = errors.New("truncated record")

// ErrCorrupt is matched (errors.Is) by the error of a record or block whose
// content cannot be valid (lengths out of range, unknown interface, bad
// magic).
var ErrCorrupt = errors.New("corrupt record")

// ErrUnknownFormat is returned by NewReader for input that is neither pcap
// nor pcapng.
var ErrUnknownFormat = errors.New("capfile: unknown file format")

// FormatError describes damage found while reading: the number (1-based) of
// the packet that could not be read and the byte offset of the record or
// block where reading it started.
type FormatError struct {
	Packet int   // number of the packet being read, counting from 1
	Offset int64 // byte offset in the (decompressed) file
	Err    error // ErrTruncated or ErrCorrupt, possibly wrapping details
}

// Error formats the error as "capfile: packet N at offset O: ...".
func (e *FormatError) Error() string {
	return fmt.Sprintf("capfile: packet %d at offset %d: %v", e.Packet, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// corruptError wraps a detail message from pcapgo so that it matches
// ErrCorrupt.
type corruptError struct{ detail string }

func (e corruptError) Error() string { return "corrupt record: " + e.detail }
func (e corruptError) Is(target error) bool {
	return target == ErrCorrupt
}

// CaptureInfo is the metadata of one packet.
type CaptureInfo struct {
	Timestamp      time.Time       // when the packet was captured (zero if the file has none)
	CaptureLength  int             // bytes present in the file
	Length         int             // bytes the packet had on the wire
	InterfaceIndex int             // pcapng interface number within its section (0 for pcap)
	LinkType       layers.LinkType // link type of the packet's interface
}

// Interface describes one capture interface of a file.
type Interface struct {
	Name     string          // e.g. "eth0"; may be empty
	LinkType layers.LinkType // e.g. layers.LinkTypeEthernet
	Snaplen  int             // maximum bytes kept per packet (0: unknown/unlimited)
	Comment  string          // free text, pcapng only
}

// ReaderBufferSize is the size of the read buffer a Reader puts in front of
// its input.
const ReaderBufferSize = 1 << 20

// Reader reads packets from a pcap or pcapng file.
type Reader struct {
	format  Format
	counter countingReader
	br      *bufio.Reader
	pcap    *pcapgo.Reader
	ng      *pcapgo.NgReader

	n        int   // packets read successfully
	err      error // sticky error
	comments []string
	gzip     bool
}

// countingReader counts the bytes read from the underlying reader.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// pcap and pcapng magic numbers.
const (
	magicMicros    = 0xa1b2c3d4
	magicNanos     = 0xa1b23c4d
	magicNGSection = 0x0a0d0d0a
)

// NewReader reads the file header from r and returns a Reader for the
// packets that follow. The format (pcap or pcapng, either byte order,
// optionally gzip-compressed) is detected from the magic number.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{}
	rd.counter.r = r
	rd.br = bufio.NewReaderSize(&rd.counter, ReaderBufferSize)
	magic, err := rd.br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			if len(magic) == 0 {
				return nil, fmt.Errorf("capfile: empty file: %w", ErrTruncated)
			}
			return nil, fmt.Errorf("capfile: file header: %w", ErrTruncated)
		}
		return nil, fmt.Errorf("capfile: %w", err)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(rd.br)
		if err != nil {
			return nil, fmt.Errorf("capfile: gzip: %w", err)
		}
		rd.gzip = true
		rd.counter = countingReader{r: zr}
		rd.br = bufio.NewReaderSize(&rd.counter, ReaderBufferSize)
		if magic, err = rd.br.Peek(4); err != nil {
			return nil, fmt.Errorf("capfile: file header: %w", ErrTruncated)
		}
	}
	le, be := binary.LittleEndian.Uint32(magic), binary.BigEndian.Uint32(magic)
	switch {
	case le == magicMicros || le == magicNanos || be == magicMicros || be == magicNanos:
		rd.format = FormatPcap
		rd.pcap, err = pcapgo.NewReader(rd.br)
	case le == magicNGSection:
		rd.format = FormatPcapNG
		rd.ng, err = pcapgo.NewNgReader(rd.br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	default:
		return nil, fmt.Errorf("%w (magic %08x)", ErrUnknownFormat, be)
	}
	if err != nil {
		return nil, fmt.Errorf("capfile: %s header: %w", rd.format, classify(err))
	}
	return rd, nil
}

// classify maps an error of pcapgo to ErrTruncated or ErrCorrupt.
func classify(err error) error {
	msg := err.Error()
	// Some pcapgo errors format io.ErrUnexpectedEOF with %v, not %w.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || strings.HasSuffix(msg, io.ErrUnexpectedEOF.Error()) {
		return ErrTruncated
	}
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return corruptError{detail: msg}
}

// offset is the position of the next unread byte.
func (r *Reader) offset() int64 { return r.counter.n - int64(r.br.Buffered()) }

// Format reports whether the file is pcap or pcapng.
func (r *Reader) Format() Format { return r.format }

// Compressed reports whether the file was gzip-compressed; offsets in errors
// then count decompressed bytes.
func (r *Reader) Compressed() bool { return r.gzip }

// LinkType returns the link type of the file (pcap) or of the first
// interface of the current section (pcapng). Packets carry their own link
// type in CaptureInfo, which is what mixed-interface files need.
func (r *Reader) LinkType() layers.LinkType {
	if r.pcap != nil {
		return r.pcap.LinkType()
	}
	if iface, err := r.ng.Interface(0); err == nil {
		return iface.LinkType
	}
	return layers.LinkTypeNull
}

// Interfaces returns the interfaces of the current section (pcapng), or the
// one implied interface of a pcap file. For pcapng, interfaces described
// later in the file appear once the reader has passed their description.
func (r *Reader) Interfaces() []Interface {
	if r.pcap != nil {
		return []Interface{{LinkType: r.pcap.LinkType(), Snaplen: int(r.pcap.Snaplen())}}
	}
	out := make([]Interface, 0, r.ng.NInterfaces())
	for i := range r.ng.NInterfaces() {
		ifc, err := r.ng.Interface(i)
		if err != nil {
			break
		}
		out = append(out, Interface{Name: ifc.Name, LinkType: ifc.LinkType, Snaplen: int(ifc.SnapLength), Comment: ifc.Comment})
	}
	return out
}

// Packets returns how many packets have been read successfully.
func (r *Reader) Packets() int { return r.n }

// Comments returns the comments (pcapng opt_comment) of the packet read last.
// The slice is valid until the next read.
func (r *Reader) Comments() []string { return r.comments }

// ReadPacketData returns the next packet in a newly allocated slice. At the
// end of the file it returns io.EOF; on damage a *FormatError, and the same
// error on every later call.
func (r *Reader) ReadPacketData() ([]byte, CaptureInfo, error) {
	data, ci, err := r.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, err
	}
	return bytes.Clone(data), ci, nil
}

// ZeroCopyReadPacketData returns the next packet in a buffer owned by the
// Reader, valid until the next call. It does not allocate for packets of
// ordinary size. End of file and errors are as for ReadPacketData.
func (r *Reader) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	if r.err != nil {
		return nil, CaptureInfo{}, r.err
	}
	start := r.offset()
	var (
		data []byte
		gci  gopacket.CaptureInfo
		err  error
		ci   CaptureInfo
	)
	if r.pcap != nil {
		data, gci, err = r.pcap.ZeroCopyReadPacketData()
		ci.LinkType = r.pcap.LinkType()
	} else {
		var opts pcapgo.NgPacketOptions
		data, gci, opts, err = r.ng.ZeroCopyReadPacketDataWithOptions()
		r.comments = opts.Comments
		if err == nil && len(gci.AncillaryData) > 0 {
			ci.LinkType, _ = gci.AncillaryData[0].(layers.LinkType)
		}
	}
	if err != nil {
		if err == io.EOF && (r.ng != nil || r.offset() == start) {
			// pcapgo reports a partial pcapng block as io.ErrUnexpectedEOF; a
			// pcap record whose header was read but not its data as io.EOF.
			r.err = io.EOF
		} else {
			r.err = &FormatError{Packet: r.n + 1, Offset: start, Err: classify(err)}
		}
		return nil, CaptureInfo{}, r.err
	}
	r.n++
	ci.Timestamp = gci.Timestamp
	ci.CaptureLength = gci.CaptureLength
	ci.Length = gci.Length
	ci.InterfaceIndex = gci.InterfaceIndex
	return data, ci, nil
}
