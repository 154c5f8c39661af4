package analyze

import (
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
)

// FlowRow is the Parquet schema of one conversation written by
// WriteFlowsParquet: one row per conversation of every table kept.
type FlowRow struct {
	Kind       string    `parquet:"kind,dict"` // "eth", "ip", "ipv6", "tcp", "udp"
	AddrA      string    `parquet:"addr_a"`    // sender of the first packet
	PortA      int32     `parquet:"port_a"`    // 0 for eth/ip/ipv6
	AddrB      string    `parquet:"addr_b"`    //
	PortB      int32     `parquet:"port_b"`    //
	Stream     int64     `parquet:"stream"`    // tcp.stream, -1 otherwise
	FramesAB   int64     `parquet:"frames_ab"` // A to B
	BytesAB    int64     `parquet:"bytes_ab"`  //
	FramesBA   int64     `parquet:"frames_ba"` // B to A
	BytesBA    int64     `parquet:"bytes_ba"`  //
	Start      time.Time `parquet:"start,timestamp(nanosecond)"`
	DurationNS int64     `parquet:"duration_ns"`
}

var kindNames = map[Kind]string{Eth: "eth", IPv4: "ip", IPv6: "ipv6", TCP: "tcp", UDP: "udp"}

// WriteFlowsParquet writes every conversation of the tables the Config
// selected to w as a Parquet file of FlowRow, for analysis in DuckDB, Spark
// or ClickHouse.
func (a *Analyzer) WriteFlowsParquet(w io.Writer) (rows int, err error) {
	pw := parquet.NewGenericWriter[FlowRow](w, parquet.Compression(&parquet.Zstd))
	buf := make([]FlowRow, 0, 1024)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		n, err := pw.Write(buf)
		rows += n
		buf = buf[:0]
		return err
	}
	for i := range 5 {
		k := Kind(1 << i)
		for _, c := range a.Conversations(k) {
			buf = append(buf, FlowRow{
				Kind: kindNames[k], AddrA: c.A.String(), PortA: int32(c.PortA), AddrB: c.B.String(), PortB: int32(c.PortB),
				Stream: int64(c.Stream), FramesAB: int64(c.FramesAB), BytesAB: int64(c.BytesAB),
				FramesBA: int64(c.FramesBA), BytesBA: int64(c.BytesBA),
				Start: a.first.Add(c.Start).UTC(), DurationNS: int64(c.Duration),
			})
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return rows, fmt.Errorf("analyze: parquet: %w", err)
				}
			}
		}
	}
	if err := flush(); err != nil {
		return rows, fmt.Errorf("analyze: parquet: %w", err)
	}
	if err := pw.Close(); err != nil {
		return rows, fmt.Errorf("analyze: parquet: %w", err)
	}
	return rows, nil
}
