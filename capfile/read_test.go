package capfile_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"

	"sonde/capfile"
)

// readAll reads every packet of a file and returns copies of them, their
// capture infos and the error that ended reading (nil at a clean end).
func readAll(t testing.TB, data []byte) ([][]byte, []capfile.CaptureInfo, error) {
	t.Helper()
	r, err := capfile.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var pkts [][]byte
	var cis []capfile.CaptureInfo
	for {
		d, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return pkts, cis, nil
		}
		if err != nil {
			return pkts, cis, err
		}
		pkts = append(pkts, d)
		cis = append(cis, ci)
	}
}

// tcpdumpLinkTypes maps the link type names of MANIFEST.tsv (tcpdump's
// names) to link type numbers.
var tcpdumpLinkTypes = map[string]layers.LinkType{
	"ether": 1, "linux-sll": 113, "null": 0, "slip": 8, "ipnet": 226,
	"chdlc": 104, "ieee-802-11-radiotap": 127, "ip-ib": 242, "rawip6": 229,
	"nflog": 239, "ppp": 9, "user13": 160, "dbus": 231, "vsock": 271,
}

func TestTcpdumpCorpus(t *testing.T) {
	manifest, err := os.ReadFile("testdata/tcpdump/MANIFEST.tsv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(manifest)), "\n")[1:]
	if len(lines) < 60 {
		t.Fatalf("manifest has %d files, want the whole corpus", len(lines))
	}
	for _, line := range lines {
		f := strings.Split(line, "\t")
		name, format, link := f[0], f[2], f[3]
		want, err := strconv.Atoi(f[4])
		if err != nil {
			t.Fatalf("%s: packets %q", name, f[4])
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/tcpdump", name))
			if err != nil {
				t.Fatal(err)
			}
			r, err := capfile.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Format().String(); got != format {
				t.Errorf("format %s, want %s", got, format)
			}
			wantLink, ok := tcpdumpLinkTypes[link]
			if !ok {
				t.Fatalf("unknown link type name %q", link)
			}
			n := 0
			for {
				d, ci, err := r.ZeroCopyReadPacketData()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d packets: %v", n, err)
				}
				n++
				if ci.LinkType != wantLink {
					t.Errorf("packet %d: link type %d, want %d", n, ci.LinkType, wantLink)
				}
				if len(d) != ci.CaptureLength {
					t.Errorf("packet %d: %d bytes, capture length %d", n, len(d), ci.CaptureLength)
				}
			}
			if n != want {
				t.Errorf("read %d packets, tcpdump reports %d", n, want)
			}
		})
	}
}

var blockCount = regexp.MustCompile(`(?m)^\t(EPB|SPB|PB): (\d+)$`)

func TestPcapNGSuite(t *testing.T) {
	files, err := filepath.Glob("testdata/pcapng/output_le/*/*.pcapng")
	if err != nil || len(files) < 20 {
		t.Fatalf("suite files: %d, %v", len(files), err)
	}
	for _, le := range files {
		name := strings.TrimPrefix(le, "testdata/pcapng/output_le/")
		t.Run(name, func(t *testing.T) {
			desc, err := os.ReadFile(strings.TrimSuffix(le, ".pcapng") + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, m := range blockCount.FindAllStringSubmatch(string(desc), -1) {
				n, _ := strconv.Atoi(m[2])
				want += n
			}
			leData, _ := os.ReadFile(le)
			beData, _ := os.ReadFile(strings.Replace(le, "output_le", "output_be", 1))
			lp, lci, err := readAll(t, leData)
			if err != nil {
				t.Fatalf("little-endian: %v", err)
			}
			bp, bci, err := readAll(t, beData)
			if err != nil {
				t.Fatalf("big-endian: %v", err)
			}
			if len(lp) != want {
				t.Errorf("read %d packets, the suite describes %d", len(lp), want)
			}
			if diff := cmp.Diff(lp, bp); diff != "" {
				t.Errorf("little- and big-endian packets differ (-le +be):\n%s", diff)
			}
			if diff := cmp.Diff(lci, bci); diff != "" {
				t.Errorf("little- and big-endian capture infos differ (-le +be):\n%s", diff)
			}
		})
	}
}

func TestGopacketFiles(t *testing.T) {
	for name, want := range map[string]int{
		"gopacket/pcap/test_dns.pcap":             10,
		"gopacket/pcap/test_ethernet.pcap":        10,
		"gopacket/pcap/test_loopback.pcap":        24,
		"gopacket/pcapgo/tests/le/test901.pcapng": 2,
		"gopacket/pcapgo/tests/be/test901.pcapng": 2,
		"gopacket/pcapgo/tests/le/test902.pcapng": 1,
		"pcapng/empty.pcap":                       0,
		"tcpdump/empty.pcapng":                    0,
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := readAll(t, data)
		if err != nil || len(p) != want {
			t.Errorf("%s: %d packets, %v; want %d", name, len(p), err, want)
		}
	}
}

// pcapRecords returns the offsets of the records of a pcap file, and the
// offset just past the last one.
func pcapRecords(t *testing.T, data []byte) []int {
	t.Helper()
	order := binary.ByteOrder(binary.LittleEndian)
	if binary.BigEndian.Uint32(data) == 0xa1b2c3d4 || binary.BigEndian.Uint32(data) == 0xa1b23c4d {
		order = binary.BigEndian
	}
	offs := []int{24}
	for off := 24; off < len(data); {
		off += 16 + int(order.Uint32(data[off+8:]))
		offs = append(offs, off)
	}
	return offs
}

func TestTruncatedPcap(t *testing.T) {
	data, err := os.ReadFile("testdata/tcpdump/ssh.pcap")
	if err != nil {
		t.Fatal(err)
	}
	recs := pcapRecords(t, data)
	if recs[len(recs)-1] != len(data) {
		t.Fatalf("records end at %d, file has %d bytes", recs[len(recs)-1], len(data))
	}
	for cut := 24; cut < len(data); cut += 7 {
		pkts, _, err := readAll(t, data[:cut])
		// The packets wholly before the cut are read; the one the cut goes
		// through is reported, with the offset where its record starts.
		whole := 0
		for whole+1 < len(recs) && recs[whole+1] <= cut {
			whole++
		}
		if len(pkts) != whole {
			t.Errorf("cut at %d: %d packets, want %d", cut, len(pkts), whole)
		}
		if cut == recs[whole] {
			if err != nil {
				t.Errorf("cut at record boundary %d: %v, want clean end", cut, err)
			}
			continue
		}
		var fe *capfile.FormatError
		if !errors.As(err, &fe) || !errors.Is(err, capfile.ErrTruncated) {
			t.Fatalf("cut at %d: error %v, want a truncated FormatError", cut, err)
		}
		if fe.Packet != whole+1 || fe.Offset != int64(recs[whole]) {
			t.Errorf("cut at %d: packet %d offset %d, want packet %d offset %d", cut, fe.Packet, fe.Offset, whole+1, recs[whole])
		}
		want := "capfile: packet " + strconv.Itoa(whole+1) + " at offset " + strconv.Itoa(recs[whole]) + ": truncated record"
		if err.Error() != want {
			t.Errorf("cut at %d: %q, want %q", cut, err, want)
		}
	}
}

func TestTruncatedPcapNG(t *testing.T) {
	data, err := os.ReadFile("testdata/pcapng/output_le/difficult/test202.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	truncated := 0
	for cut := 1; cut < len(data); cut++ {
		pkts, _, err := readAll(t, data[:cut])
		if len(pkts) > len(full) {
			t.Fatalf("cut at %d: %d packets from a file of %d", cut, len(pkts), len(full))
		}
		if diff := cmp.Diff(full[:len(pkts)], pkts); len(pkts) > 0 && diff != "" {
			t.Fatalf("cut at %d: packets before the damage differ:\n%s", cut, diff)
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, capfile.ErrTruncated) {
			t.Errorf("cut at %d: %v, want truncated", cut, err)
		}
		var fe *capfile.FormatError
		if errors.As(err, &fe) {
			truncated++
			if fe.Packet != len(pkts)+1 || fe.Offset < 0 || fe.Offset >= int64(cut) {
				t.Errorf("cut at %d after %d packets: %v", cut, len(pkts), err)
			}
		}
	}
	if truncated == 0 {
		t.Error("no cut produced a truncation error")
	}
}

func TestCorruptPcap(t *testing.T) {
	data, err := os.ReadFile("testdata/tcpdump/ssh.pcap")
	if err != nil {
		t.Fatal(err)
	}
	recs := pcapRecords(t, data)
	bad := bytes.Clone(data)
	// Record 3 claims more captured bytes than pcap allows.
	binary.LittleEndian.PutUint32(bad[recs[2]+8:], 0x7fffffff)
	binary.LittleEndian.PutUint32(bad[recs[2]+12:], 0x7fffffff)
	pkts, _, err := readAll(t, bad)
	if len(pkts) != 2 || !errors.Is(err, capfile.ErrCorrupt) {
		t.Fatalf("got %d packets, %v; want 2 and a corrupt record", len(pkts), err)
	}
	if !strings.HasPrefix(err.Error(), "capfile: packet 3 at offset "+strconv.Itoa(recs[2])+": corrupt record: ") {
		t.Errorf("error %q", err)
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, in := range []string{"", "ab", "this is not a capture file"} {
		if _, err := capfile.NewReader(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if _, err := capfile.NewReader(strings.NewReader("this is not a capture file")); !errors.Is(err, capfile.ErrUnknownFormat) {
		t.Errorf("got %v, want ErrUnknownFormat", err)
	}
}

// handPcap builds a pcap file byte by byte, in the given byte order and
// resolution, independently of the writer under test.
func handPcap(order binary.AppendByteOrder, nanos bool, pkts [][]byte, ts []time.Time) []byte {
	var b []byte
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, 1)
	for i, p := range pkts {
		frac := ts[i].Nanosecond() / 1000
		if nanos {
			frac = ts[i].Nanosecond()
		}
		b = order.AppendUint32(b, uint32(ts[i].Unix()))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(p)))
		b = order.AppendUint32(b, uint32(len(p)+10))
		b = append(b, p...)
	}
	return b
}

func TestPcapByteOrdersAndResolutions(t *testing.T) {
	pkts := [][]byte{[]byte("first packet"), []byte("second"), {}}
	ts := []time.Time{time.Unix(1700000000, 123456789).UTC(), time.Unix(1700000001, 999999999).UTC(), time.Unix(1700000002, 0).UTC()}
	for _, tc := range []struct {
		name  string
		order binary.AppendByteOrder
		nanos bool
	}{{"le-us", binary.LittleEndian, false}, {"be-us", binary.BigEndian, false}, {"le-ns", binary.LittleEndian, true}, {"be-ns", binary.BigEndian, true}} {
		got, cis, err := readAll(t, handPcap(tc.order, tc.nanos, pkts, ts))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(pkts, got); diff != "" {
			t.Errorf("%s: packets differ:\n%s", tc.name, diff)
		}
		for i, ci := range cis {
			want := ts[i]
			if !tc.nanos {
				want = want.Truncate(time.Microsecond)
			}
			if !ci.Timestamp.Equal(want) || ci.Length != len(pkts[i])+10 || ci.LinkType != layers.LinkTypeEthernet {
				t.Errorf("%s packet %d: %+v, want time %v", tc.name, i, ci, want)
			}
		}
	}
}

func TestZeroCopyReadDoesNotAllocate(t *testing.T) {
	for _, format := range []capfile.Format{capfile.FormatPcap, capfile.FormatPcapNG} {
		data := manyPackets(t, format, 2000)
		r, err := capfile.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per packet, want 0", format, allocs)
		}
	}
}

// manyPackets writes n packets of varied sizes to a file of the format.
func manyPackets(t testing.TB, format capfile.Format, n int) []byte {
	var buf bytes.Buffer
	w, err := capfile.NewWriter(&buf, capfile.WriterConfig{Format: format, Interfaces: []capfile.Interface{{Name: "eth0", LinkType: layers.LinkTypeEthernet, Snaplen: 65535}}})
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 1514)
	for i := range pkt {
		pkt[i] = byte(i)
	}
	ts := time.Unix(1700000000, 0)
	for i := range n {
		size := 60 + (i*97)%1454
		if err := w.WritePacket(capfile.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond)}, pkt[:size]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkZeroCopyRead(b *testing.B) {
	for _, format := range []capfile.Format{capfile.FormatPcap, capfile.FormatPcapNG} {
		b.Run(format.String(), func(b *testing.B) {
			data := manyPackets(b, format, 10000)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := capfile.NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
						break
					}
				}
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	for _, pattern := range []string{"testdata/*/*.pcap*", "testdata/pcapng/output_*/*/*.pcapng", "testdata/gopacket/*/*/*/*.pcapng"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil && len(data) < 16<<10 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := capfile.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range 10000 {
			d, ci, err := r.ZeroCopyReadPacketData()
			if err != nil {
				if err != io.EOF {
					var fe *capfile.FormatError
					if !errors.As(err, &fe) {
						t.Fatalf("error of unexpected type: %v", err)
					}
				}
				return
			}
			if len(d) != ci.CaptureLength {
				t.Fatalf("%d bytes, capture length %d", len(d), ci.CaptureLength)
			}
		}
	})
}
