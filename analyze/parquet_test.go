package analyze_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
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

// TestParquetSchema checks that the files' schemas are those parquet-go
// derives from FlowRow and PacketRow, the documented ones.
func TestParquetSchema(t *testing.T) {
	a := analyzeFile(t, "testdata/mix.pcap", analyze.Config{Conversations: analyze.AllKinds})
	var flows, packets bytes.Buffer
	if _, err := a.WriteFlowsParquet(&flows); err != nil {
		t.Fatal(err)
	}
	pw := analyze.NewPacketWriter(&packets)
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data []byte
		want *parquet.Schema
	}{
		{flows.Bytes(), parquet.SchemaOf(analyze.FlowRow{})},
		{packets.Bytes(), parquet.SchemaOf(analyze.PacketRow{})},
	} {
		f, err := parquet.OpenFile(bytes.NewReader(tc.data), int64(len(tc.data)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := f.Schema().String(), tc.want.String(); got != want {
			t.Errorf("schema\n%s\nwant\n%s", got, want)
		}
	}
}

// TestPacketWriterRows reads every row back with parquet-go and compares
// it with the packet as gopacket decodes it.
func TestPacketWriterRows(t *testing.T) {
	for _, file := range []string{"testdata/mix.pcap", "testdata/tcpdump/dns_tcp.pcap", "testdata/gopacket/test_loopback.pcap", "testdata/tcpdump/QinQpacket.pcap"} {
		t.Run(file, func(t *testing.T) {
			var buf bytes.Buffer
			pw := analyze.NewPacketWriter(&buf)
			var want []analyze.PacketRow
			forEachPacket(t, file, func(data []byte, ci capfile.CaptureInfo) {
				if err := pw.Add(data, ci.Timestamp, ci.Length, ci.LinkType); err != nil {
					t.Fatal(err)
				}
				want = append(want, gopacketRow(data, ci))
			})
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			r := parquet.NewGenericReader[analyze.PacketRow](bytes.NewReader(buf.Bytes()))
			defer r.Close()
			got := make([]analyze.PacketRow, len(want)+1)
			n, err := r.Read(got)
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if n != len(want) || pw.Rows() != n {
				t.Fatalf("read %d rows, wrote %d, want %d", n, pw.Rows(), len(want))
			}
			for i := range want {
				g := got[i]
				// Fields the reference below does not derive.
				g.Protocols, g.TCPStream, g.PayloadLen = "", 0, 0
				if diff := cmp.Diff(want[i], g); diff != "" {
					t.Errorf("row %d (-gopacket +file):\n%s", i, diff)
				}
			}
		})
	}
}

// gopacketRow fills the fields of a PacketRow that gopacket's decoding
// gives directly.
func gopacketRow(data []byte, ci capfile.CaptureInfo) analyze.PacketRow {
	row := analyze.PacketRow{Time: ci.Timestamp.UTC(), FrameLen: int32(max(ci.Length, len(data))), CapLen: int32(len(data))}
	p := gopacket.NewPacket(data, ci.LinkType, gopacket.Default)
	if eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		row.EthSrc, row.EthDst = eth.SrcMAC.String(), eth.DstMAC.String()
	}
	if nl := p.NetworkLayer(); nl != nil {
		switch ip := nl.(type) {
		case *layers.IPv4:
			row.IPSrc, row.IPDst = ip.SrcIP.String(), ip.DstIP.String()
		case *layers.IPv6:
			row.IPSrc, row.IPDst = ip.SrcIP.String(), ip.DstIP.String()
		}
	}
	switch l4 := p.TransportLayer().(type) {
	case *layers.TCP:
		row.SrcPort, row.DstPort = int32(l4.SrcPort), int32(l4.DstPort)
		var f int32
		for i, set := range []bool{l4.FIN, l4.SYN, l4.RST, l4.PSH, l4.ACK, l4.URG, l4.ECE, l4.CWR} {
			if set {
				f |= 1 << i
			}
		}
		row.TCPFlags = f & (1 | 2 | 4 | 16) // the flags the analyzer keeps (see PacketRow)
	case *layers.UDP:
		row.SrcPort, row.DstPort = int32(l4.SrcPort), int32(l4.DstPort)
	}
	return row
}
