package capfile_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"

	"sonde/capfile"
)

func TestWriteReadPcapNG(t *testing.T) {
	ifaces := []capfile.Interface{
		{Name: "eth0", LinkType: layers.LinkTypeEthernet, Snaplen: 65535, Comment: "uplink"},
		{Name: "any", LinkType: layers.LinkTypeLinuxSLL, Snaplen: 262144},
		{Name: "tun0", LinkType: layers.LinkTypeRaw},
	}
	var buf bytes.Buffer
	w, err := capfile.NewWriter(&buf, capfile.WriterConfig{Interfaces: ifaces, Comment: "test section"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1700000000, 123456789).UTC()
	type rec struct {
		ci       capfile.CaptureInfo
		data     []byte
		comments []string
	}
	recs := []rec{
		{capfile.CaptureInfo{Timestamp: base, InterfaceIndex: 0, Length: 100}, []byte("abc"), []string{"first", "second comment"}},
		{capfile.CaptureInfo{Timestamp: base.Add(time.Nanosecond), InterfaceIndex: 2}, []byte("0123456789"), nil},
		{capfile.CaptureInfo{Timestamp: base.Add(time.Second), InterfaceIndex: 1}, []byte{1, 2, 3, 4, 5}, []string{"on any"}},
	}
	for _, r := range recs {
		if err := w.WritePacket(r.ci, r.data, r.comments...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := capfile.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != capfile.FormatPcapNG {
		t.Errorf("format %v", r.Format())
	}
	for i, want := range recs {
		d, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		wantCI := want.ci
		wantCI.CaptureLength = len(want.data)
		if wantCI.Length < wantCI.CaptureLength {
			wantCI.Length = wantCI.CaptureLength
		}
		wantCI.LinkType = ifaces[want.ci.InterfaceIndex].LinkType
		if diff := cmp.Diff(wantCI, ci); diff != "" {
			t.Errorf("packet %d capture info (-want +got):\n%s", i, diff)
		}
		if !bytes.Equal(d, want.data) {
			t.Errorf("packet %d: %q, want %q", i, d, want.data)
		}
		if diff := cmp.Diff(want.comments, r.Comments()); diff != "" {
			t.Errorf("packet %d comments (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(ifaces, r.Interfaces()); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
}

func TestWriteReadPcap(t *testing.T) {
	for _, nanos := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := capfile.NewWriter(&buf, capfile.WriterConfig{Format: capfile.FormatPcap, Nanoseconds: nanos,
			Interfaces: []capfile.Interface{{LinkType: layers.LinkTypeLinuxSLL2, Snaplen: 1500}}})
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Unix(1700000000, 987654321).UTC()
		if err := w.WritePacket(capfile.CaptureInfo{Timestamp: ts, Length: 1000}, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(capfile.CaptureInfo{}, []byte("x"), "a comment"); err == nil {
			t.Error("pcap accepted a packet comment")
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		pkts, cis, err := readAll(t, buf.Bytes())
		if err != nil || len(pkts) != 1 {
			t.Fatalf("nanos=%v: %d packets, %v", nanos, len(pkts), err)
		}
		want := ts
		if !nanos {
			want = ts.Truncate(time.Microsecond)
		}
		got := cis[0]
		if !got.Timestamp.Equal(want) || got.Length != 1000 || got.CaptureLength != 5 || got.LinkType != layers.LinkTypeLinuxSLL2 {
			t.Errorf("nanos=%v: %+v", nanos, got)
		}
	}
}

func TestWriterRejects(t *testing.T) {
	var buf bytes.Buffer
	if _, err := capfile.NewWriter(&buf, capfile.WriterConfig{}); err == nil {
		t.Error("writer without interfaces accepted")
	}
	two := []capfile.Interface{{LinkType: 1}, {LinkType: 1}}
	if _, err := capfile.NewWriter(&buf, capfile.WriterConfig{Format: capfile.FormatPcap, Interfaces: two}); err == nil {
		t.Error("pcap with two interfaces accepted")
	}
	w, err := capfile.NewWriter(&buf, capfile.WriterConfig{Interfaces: two})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(capfile.CaptureInfo{InterfaceIndex: 2}, []byte("x")); err == nil {
		t.Error("packet on interface 2 of 2 accepted")
	}
}
