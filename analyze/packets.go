package analyze

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"

	"sonde/internal/parquet"
)

// PacketRow is the Parquet schema of one packet written by PacketWriter:
// the fields people filter and group by, decoded as the Analyzer decodes.
// An empty address is written as a null. The struct tags name the columns
// (for readers such as parquet-go).
type PacketRow struct {
	Time       time.Time `parquet:"time,timestamp(nanosecond)"`
	FrameLen   int32     `parquet:"frame_len"` // bytes on the wire
	CapLen     int32     `parquet:"cap_len"`   // bytes captured
	Protocols  string    `parquet:"protocols"` // hierarchy path, e.g. "eth:ip:tcp:http"
	EthSrc     string    `parquet:"eth_src,optional"`
	EthDst     string    `parquet:"eth_dst,optional"`
	IPSrc      string    `parquet:"ip_src,optional"`
	IPDst      string    `parquet:"ip_dst,optional"`
	SrcPort    int32     `parquet:"src_port"` // 0 without TCP or UDP
	DstPort    int32     `parquet:"dst_port"`
	TCPFlags   int32     `parquet:"tcp_flags"`  // FIN 1, SYN 2, RST 4, ACK 16
	TCPStream  int64     `parquet:"tcp_stream"` // tcp.stream, -1 without TCP
	PayloadLen int32     `parquet:"payload_len"`
}

// packetColumns is PacketRow's schema, in its fields' order.
var packetColumns = []parquet.Column{
	{Name: "time", Type: parquet.Timestamp},
	{Name: "frame_len", Type: parquet.Int32},
	{Name: "cap_len", Type: parquet.Int32},
	{Name: "protocols", Type: parquet.String, Dictionary: true},
	{Name: "eth_src", Type: parquet.String, Optional: true, Dictionary: true},
	{Name: "eth_dst", Type: parquet.String, Optional: true, Dictionary: true},
	{Name: "ip_src", Type: parquet.String, Optional: true, Dictionary: true},
	{Name: "ip_dst", Type: parquet.String, Optional: true, Dictionary: true},
	{Name: "src_port", Type: parquet.Int32},
	{Name: "dst_port", Type: parquet.Int32},
	{Name: "tcp_flags", Type: parquet.Int32},
	{Name: "tcp_stream", Type: parquet.Int64},
	{Name: "payload_len", Type: parquet.Int32},
}

// PacketWriter writes one PacketRow per packet to a Parquet file
// (Snappy-compressed), for captures to be queried in DuckDB, Spark or
// ClickHouse. Its memory grows with TCP streams (for their numbers) and a
// row group of rows (65536).
type PacketWriter struct {
	w     *parquet.Writer
	err   error
	dec   decoder
	app   appStats
	tcp   tcpStreams
	path  []proto
	names map[string]string // interned protocol paths
	key   []byte
}

// NewPacketWriter returns a PacketWriter writing to w. Close must be called
// to complete the file.
func NewPacketWriter(w io.Writer) *PacketWriter {
	pw, err := parquet.NewWriter(w, "PacketRow", packetColumns, &parquet.Config{Codec: parquet.Snappy})
	p := &PacketWriter{w: pw, names: map[string]string{}}
	if err != nil { // the schema is constant: cannot happen
		p.err = fmt.Errorf("analyze: %w", err)
	}
	p.app.init(Config{})
	p.tcp.init()
	return p
}

// Add decodes one packet and appends its row.
func (p *PacketWriter) Add(data []byte, ts time.Time, wireLen int, link layers.LinkType) error {
	if wireLen < len(data) {
		wireLen = len(data)
	}
	var fp flowPacket
	p.path = p.dec.walk(data, link, &fp, p.path)
	streams := [maxHops]int{-1, -1, -1, -1}
	for i := range fp.nL4 {
		if fp.l4[i].kind == TCP {
			streams[i], _ = p.tcp.stream(&fp.l4[i])
		}
	}
	if fp.nL4 > 0 {
		p.path = appProto(p.path, &fp, streams[fp.nL4-1], &p.app)
	}
	row := PacketRow{Time: ts, FrameLen: int32(wireLen), CapLen: int32(len(data)), TCPStream: -1}
	p.key = p.key[:0]
	for i, pr := range p.path {
		if i > 0 {
			p.key = append(p.key, ':')
		}
		p.key = append(p.key, protoNames[pr]...)
	}
	name, ok := p.names[string(p.key)]
	if !ok {
		name = string(p.key)
		p.names[name] = name
	}
	row.Protocols = name
	// The outermost headers: those of the network the capture was made on.
	if fp.nEth > 0 {
		row.EthSrc, row.EthDst = fp.eth[0][0].address().String(), fp.eth[0][1].address().String()
	}
	if fp.nIP > 0 {
		row.IPSrc, row.IPDst = fp.ip[0].src.address().String(), fp.ip[0].dst.address().String()
	}
	if fp.nL4 > 0 {
		r := &fp.l4[0]
		row.SrcPort, row.DstPort = int32(r.src.port), int32(r.dst.port)
		row.PayloadLen = int32(len(r.payload))
		if r.kind == TCP {
			row.TCPStream = int64(streams[0])
			row.TCPFlags = int32(r.flags)
		}
	}
	if p.err != nil {
		return p.err
	}
	w := p.w
	w.Time(row.Time)
	w.Int32(row.FrameLen)
	w.Int32(row.CapLen)
	w.String(row.Protocols)
	for _, s := range [...]string{row.EthSrc, row.EthDst, row.IPSrc, row.IPDst} {
		if s == "" {
			w.Null()
		} else {
			w.String(s)
		}
	}
	w.Int32(row.SrcPort)
	w.Int32(row.DstPort)
	w.Int32(row.TCPFlags)
	w.Int64(row.TCPStream)
	w.Int32(row.PayloadLen)
	if err := w.EndRow(); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// Rows returns how many rows have been added so far.
func (p *PacketWriter) Rows() int {
	if p.w == nil {
		return 0
	}
	return int(p.w.Rows())
}

// Close writes the buffered rows and the file's footer.
func (p *PacketWriter) Close() error {
	if p.err != nil {
		return p.err
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
