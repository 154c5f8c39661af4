package analyze_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"

	"sonde/analyze"
	"sonde/capfile"
)

func TestWriteFlowsParquet(t *testing.T) {
	a := analyzeFile(t, "testdata/tcpdump/dns_tcp.pcap", analyze.Config{Conversations: analyze.AllKinds})
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

func TestPacketWriterParquet(t *testing.T) {
	const file = "testdata/tcpdump/dns_tcp.pcap"
	a := analyzeFile(t, file, analyze.Config{Conversations: analyze.TCP, Hierarchy: true})
	var buf bytes.Buffer
	pw := analyze.NewPacketWriter(&buf)
	forEachPacket(t, file, func(data []byte, ci capfile.CaptureInfo) {
		if err := pw.Add(data, ci.Timestamp, ci.Length, ci.LinkType); err != nil {
			t.Fatal(err)
		}
	})
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[analyze.PacketRow](bytes.NewReader(buf.Bytes()))
	defer r.Close()
	rows := make([]analyze.PacketRow, a.Packets()+1)
	n, err := r.Read(rows)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if uint64(n) != a.Packets() || pw.Rows() != n {
		t.Fatalf("read back %d rows (writer says %d), the file has %d packets", n, pw.Rows(), a.Packets())
	}
	// The rows must add up to the Analyzer's tables: per TCP stream,
	// frames and bytes; per protocol path, frames.
	frames := map[int64]uint64{}
	bytesByStream := map[int64]uint64{}
	paths := map[string]uint64{}
	var total uint64
	for _, row := range rows[:n] {
		total += uint64(row.FrameLen)
		if row.TCPStream >= 0 {
			frames[row.TCPStream]++
			bytesByStream[row.TCPStream] += uint64(row.FrameLen)
		}
		paths[row.Protocols]++
	}
	if total != a.Bytes() {
		t.Errorf("rows hold %d bytes, the analyzer counted %d", total, a.Bytes())
	}
	for _, c := range a.Conversations(analyze.TCP) {
		if frames[int64(c.Stream)] != c.Frames() || bytesByStream[int64(c.Stream)] != c.Bytes() {
			t.Errorf("stream %d: rows %d frames %d bytes, conversation %+v", c.Stream, frames[int64(c.Stream)], bytesByStream[int64(c.Stream)], c)
		}
	}
	if paths["eth:ip:tcp"] == 0 || paths["eth:ip:tcp:dns"] == 0 {
		t.Errorf("protocol paths %v", paths)
	}
	var sum uint64
	for _, v := range paths {
		sum += v
	}
	if sum != a.Packets() {
		t.Errorf("paths cover %d packets of %d", sum, a.Packets())
	}
}
