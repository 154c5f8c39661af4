package analyze

import (
	"fmt"
	"io"
	"time"

	"sonde/internal/parquet"
)

// FlowRow is the Parquet schema of one conversation written by
// WriteFlowsParquet: one row per conversation of every table kept. The
// struct tags name the columns (for readers such as parquet-go).
type FlowRow struct {
	Kind       string    `parquet:"kind"`      // "eth", "ip", "ipv6", "tcp", "udp"
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

// flowColumns is FlowRow's schema, in its fields' order.
var flowColumns = []parquet.Column{
	{Name: "kind", Type: parquet.String, Dictionary: true},
	{Name: "addr_a", Type: parquet.String, Dictionary: true},
	{Name: "port_a", Type: parquet.Int32},
	{Name: "addr_b", Type: parquet.String, Dictionary: true},
	{Name: "port_b", Type: parquet.Int32},
	{Name: "stream", Type: parquet.Int64},
	{Name: "frames_ab", Type: parquet.Int64},
	{Name: "bytes_ab", Type: parquet.Int64},
	{Name: "frames_ba", Type: parquet.Int64},
	{Name: "bytes_ba", Type: parquet.Int64},
	{Name: "start", Type: parquet.Timestamp},
	{Name: "duration_ns", Type: parquet.Int64},
}

// kindName is a Kind's name in FlowRow.Kind.
func kindName(k Kind) string {
	switch k {
	case Eth:
		return "eth"
	case IPv4:
		return "ip"
	case IPv6:
		return "ipv6"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return ""
}

// WriteFlowsParquet writes every conversation of the tables the Config
// selected to w as a Parquet file of FlowRow (Snappy-compressed), for analysis
// in DuckDB, Spark or ClickHouse.
func (a *Analyzer) WriteFlowsParquet(w io.Writer) (rows int, err error) {
	pw, err := parquet.NewWriter(w, "FlowRow", flowColumns, &parquet.Config{Codec: parquet.Snappy})
	if err != nil {
		return 0, fmt.Errorf("analyze: %w", err)
	}
	for i := range 5 {
		k := Kind(1 << i)
		for _, c := range a.Conversations(k) {
			pw.String(kindName(k))
			pw.String(c.A.String())
			pw.Int32(int32(c.PortA))
			pw.String(c.B.String())
			pw.Int32(int32(c.PortB))
			pw.Int64(int64(c.Stream))
			pw.Int64(int64(c.FramesAB))
			pw.Int64(int64(c.BytesAB))
			pw.Int64(int64(c.FramesBA))
			pw.Int64(int64(c.BytesBA))
			pw.Time(a.first.Add(c.Start))
			pw.Int64(int64(c.Duration))
			if err := pw.EndRow(); err != nil {
				return int(pw.Rows()), fmt.Errorf("analyze: %w", err)
			}
		}
	}
	if err := pw.Close(); err != nil {
		return int(pw.Rows()), fmt.Errorf("analyze: %w", err)
	}
	return int(pw.Rows()), nil
}
