package analyze

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/parquet-go/parquet-go"
)

// PacketRow is the Parquet schema of one packet written by PacketWriter:
// the fields people filter and group by, decoded as the Analyzer decodes.
type PacketRow struct {
	Time       time.Time `parquet:"time,timestamp(nanosecond)"`
	FrameLen   int32     `parquet:"frame_len"`      // bytes on the wire
	CapLen     int32     `parquet:"cap_len"`        // bytes captured
	Protocols  string    `parquet:"protocols,dict"` // hierarchy path, e.g. "eth:ip:tcp:http"
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

// PacketWriter writes one PacketRow per packet to a Parquet file, for
// captures to be queried in DuckDB, Spark or ClickHouse. Its memory grows
// with TCP streams (for their numbers) and a bounded buffer of rows.
type PacketWriter struct {
	w     *parquet.GenericWriter[PacketRow]
	dec   decoder
	app   appStats
	tcp   tcpStreams
	path  []proto
	rows  []PacketRow
	names map[string]string // interned protocol paths
	key   []byte
	n     int
}

// NewPacketWriter returns a PacketWriter writing to w. Close must be called
// to complete the file.
func NewPacketWriter(w io.Writer) *PacketWriter {
	p := &PacketWriter{w: parquet.NewGenericWriter[PacketRow](w, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(256<<10)), names: map[string]string{}}
	p.app.init(Config{})
	p.tcp.init()
	p.rows = make([]PacketRow, 0, 4096)
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
	p.rows = append(p.rows, row)
	if len(p.rows) == cap(p.rows) {
		return p.flush()
	}
	return nil
}

func (p *PacketWriter) flush() error {
	if len(p.rows) == 0 {
		return nil
	}
	n, err := p.w.Write(p.rows)
	p.n += n
	p.rows = p.rows[:0]
	if err != nil {
		return fmt.Errorf("analyze: parquet: %w", err)
	}
	return nil
}

// Rows returns how many rows have been written so far (after Close: all).
func (p *PacketWriter) Rows() int { return p.n }

// Close writes the buffered rows and the file's footer.
func (p *PacketWriter) Close() error {
	if err := p.flush(); err != nil {
		return err
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("analyze: parquet: %w", err)
	}
	return nil
}
