package analyze_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"

	"sonde/analyze"
)

func TestWriteFlowsParquet(t *testing.T) {
	a := analyzeFile(t, "testdata/tcpdump/dns_tcp.pcap", analyze.Config{Conversations: analyze.AllKinds, FollowStream: -1})
	var buf bytes.Buffer
	n, err := a.WriteFlowsParquet(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]analyze.Conversation{}
	total := 0
	for _, k := range []analyze.Kind{analyze.Eth, analyze.IPv4, analyze.IPv6, analyze.TCP, analyze.UDP} {
		for _, c := range a.Conversations(k) {
			want[fmt.Sprintf("%v %s:%d %s:%d %d", k, c.A, c.PortA, c.B, c.PortB, c.Stream)] = c
			total++
		}
	}
	if n != total || total == 0 {
		t.Fatalf("wrote %d rows, want %d", n, total)
	}
	r := parquet.NewGenericReader[analyze.FlowRow](bytes.NewReader(buf.Bytes()))
	defer r.Close()
	rows := make([]analyze.FlowRow, total+1)
	got, err := r.Read(rows)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if got != total {
		t.Fatalf("read back %d rows, want %d", got, total)
	}
	names := map[string]analyze.Kind{"eth": analyze.Eth, "ip": analyze.IPv4, "ipv6": analyze.IPv6, "tcp": analyze.TCP, "udp": analyze.UDP}
	for _, row := range rows[:got] {
		key := fmt.Sprintf("%v %s:%d %s:%d %d", names[row.Kind], row.AddrA, row.PortA, row.AddrB, row.PortB, row.Stream)
		c, ok := want[key]
		if !ok {
			t.Errorf("row %+v is no conversation", row)
			continue
		}
		if uint64(row.FramesAB) != c.FramesAB || uint64(row.BytesAB) != c.BytesAB || uint64(row.FramesBA) != c.FramesBA || uint64(row.BytesBA) != c.BytesBA || row.DurationNS != int64(c.Duration) || !row.Start.Equal(a.First().Add(c.Start)) {
			t.Errorf("row %+v, conversation %+v", row, c)
		}
	}
}
