package packet

import (
	"bufio"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// readScapyGolden reads testdata/scapy.golden: expressions and the bytes
// Scapy builds for each of their packets, in Scapy's order.
func readScapyGolden(t testing.TB) (exprs []string, pkts map[string][]string) {
	f, err := os.Open("testdata/scapy.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts = map[string][]string{}
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "expr "); ok {
			cur = e
			exprs = append(exprs, e)
			continue
		}
		pkts[cur] = append(pkts[cur], line)
	}
	return exprs, pkts
}

func TestSerializeMatchesScapy(t *testing.T) {
	exprs, want := readScapyGolden(t)
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions in the golden file", len(exprs))
	}
	buf := gopacket.NewSerializeBuffer()
	for _, e := range exprs {
		// Python's escapes in the golden expressions are those of the
		// expression language too.
		tp, err := Parse(strings.ReplaceAll(e, `\\`, `\`))
		if err != nil {
			t.Errorf("Parse(%s): %v", e, err)
			continue
		}
		if got := tp.Count(); got != uint64(len(want[e])) {
			t.Errorf("%s: Count() = %d, Scapy made %d packets", e, got, len(want[e]))
		}
		var got []string
		for p := range tp.All() {
			if err := p.Serialize(buf); err != nil {
				t.Fatalf("%s: Serialize: %v", e, err)
			}
			got = append(got, hex.EncodeToString(buf.Bytes()))
		}
		if strings.HasPrefix(e, "Ether") {
			// Ethernet frames are padded to 60 bytes, as on the wire;
			// Scapy leaves that to the kernel.
			for i, w := range want[e] {
				for len(w) < 120 {
					w += "00"
				}
				want[e][i] = w
			}
		}
		if diff := cmp.Diff(want[e], got); diff != "" {
			t.Errorf("%s: bytes differ from Scapy's (-scapy +sonde):\n%s", e, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		offset int
		msg    string
	}{
		{`IP(ttl=300)`, 7, "out of range"},
		{`IP()/TCP(dport=70000)`, 15, "out of range"},
		{`IP()/Foo()`, 5, "unknown layer"},
		{`IP(dsst="1.2.3.4")`, 3, "unknown field"},
		{`IP(dst="1.2.3.400")`, 7, "bad IPv4 address"},
		{`IP(dst="2001::1")`, 7, "needs an IPv4"},
		{`IPv6(dst="198.18.0.1")`, 9, "needs an IPv6"},
		{`IP(dst="bad name!")`, 7, "bad host name"},
		{`IP(dst="198.18.0.0/33")`, 7, "bad prefix"},
		{`IP(ttl=(5,1))`, 7, "empty range"},
		{`TCP(flags="SX")`, 10, "unknown value"},
		{`ICMP(type="echo-requets")`, 10, "unknown value"},
		{`IP(ttl=1, ttl=2)`, 10, "given twice"},
		{`IP(`, 3, "expected a field name"},
		{`IP()/`, 5, "expected a layer"},
		{`IP() TCP()`, 5, "expected / or the end"},
		{`IP(dst="x`, 7, "unterminated string"},
		{`Ether(dst="01:02:03")`, 10, "bad MAC"},
		{`DNS(qd=DNSQR(qnam="a"))`, 13, "unknown field"},
		{`DNS(qname="a")`, 4, "unknown field"},
		{`IP(ttl=[])`, 8, "empty list"},
		{`IPv6(dst="2001::/32")`, 9, "too many addresses"},
	} {
		_, err := Parse(tc.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%s) = %v, want a *SyntaxError", tc.expr, err)
			continue
		}
		if se.Offset != tc.offset || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("Parse(%s) = offset %d %q, want offset %d containing %q", tc.expr, se.Offset, se.Msg, tc.offset, tc.msg)
		}
	}
}

func TestCountHuge(t *testing.T) {
	tp, err := Parse(`IP(dst="198.18.0.0/16")/TCP(dport=(1,65535))`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tp.Count(), uint64(65536*65535); got != want {
		t.Fatalf("Count() = %d, want %d", got, want)
	}
	// The last packet is reachable without expanding the others.
	p := tp.At(tp.Count() - 1)
	if got, want := p.Dst(), netip.MustParseAddr("198.18.255.255"); got != want {
		t.Errorf("last Dst() = %v, want %v", got, want)
	}
	if got := p.Layers()[1].(interface{ CanDecode() gopacket.LayerClass }); got == nil {
		t.Error("no TCP layer")
	}
	n := 0
	for range tp.All() {
		n++
		if n == 1000 {
			break
		}
	}
	if n != 1000 {
		t.Errorf("iterated %d packets, want to stop at 1000", n)
	}
}

func TestResolve(t *testing.T) {
	tp, err := Parse(`IP(dst=["target.lab", "198.18.0.3"])/ICMP()`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"target.lab"}, tp.Names()); diff != "" {
		t.Error(diff)
	}
	err = tp.Resolve(func(name string, v6 bool) (netip.Addr, error) {
		return netip.Addr{}, errors.New("no such host")
	})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 8 {
		t.Fatalf("Resolve error = %v, want a *SyntaxError at offset 8", err)
	}
	err = tp.Resolve(func(name string, v6 bool) (netip.Addr, error) {
		if name != "target.lab" || v6 {
			t.Errorf("lookup(%q, %v)", name, v6)
		}
		return netip.MustParseAddr("198.18.0.2"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dsts []netip.Addr
	for p := range tp.All() {
		dsts = append(dsts, p.Dst())
	}
	want := []netip.Addr{netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.3")}
	if diff := cmp.Diff(want, dsts, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Error(diff)
	}
}

func TestStringRoundTrip(t *testing.T) {
	exprs, _ := readScapyGolden(t)
	exprs = append(exprs, `IP()/ICMP()/"hi\x00"`, `DNS(qd=DNSQR())`, `TCP(flags=(0,3))`, `IP(flags="MF+DF")`)
	for _, e := range exprs {
		t1, err := Parse(strings.ReplaceAll(e, `\\`, `\`))
		if err != nil {
			continue
		}
		s := t1.String()
		t2, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%s) (from %s): %v", s, e, err)
			continue
		}
		if s2 := t2.String(); s2 != s || t2.Count() != t1.Count() {
			t.Errorf("round trip of %s: %s then %s", e, s, s2)
		}
	}
}

func TestFill(t *testing.T) {
	tp, err := Parse(`Ether()/IP(dst="198.18.0.2")/TCP()`)
	if err != nil {
		t.Fatal(err)
	}
	p := tp.At(0)
	if !p.NeedsFill() {
		t.Error("NeedsFill() = false before Fill")
	}
	src := netip.MustParseAddr("198.18.0.1")
	smac, dmac := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	p.Fill(src, smac, dmac)
	if p.NeedsFill() {
		t.Error("NeedsFill() = true after Fill")
	}
	buf := gopacket.NewSerializeBuffer()
	if err := p.Serialize(buf); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(LinkEthernet)
	if err := d.Decode(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	got := string(d.AppendSummary(nil))
	if want := "Ether / IP / TCP 198.18.0.1:ftp_data > 198.18.0.2:http S"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if d.Ethernet.SrcMAC.String() != smac.String() || d.Ethernet.DstMAC.String() != dmac.String() {
		t.Errorf("MACs %v > %v", d.Ethernet.SrcMAC, d.Ethernet.DstMAC)
	}
	if err := p.SerializeIP(buf); err != nil {
		t.Fatal(err)
	}
	if len(buf.Bytes()) != 40 || buf.Bytes()[0] != 0x45 {
		t.Errorf("SerializeIP gave % x", buf.Bytes())
	}
	p.SetIndex(0)
	if !p.NeedsFill() {
		t.Error("SetIndex did not clear the filled fields")
	}
}

// readPcap returns the frames of a capture in testdata.
func readPcap(t testing.TB, name string) (LinkType, [][]byte) {
	lt, frames, _ := readPcapLen(t, name)
	return lt, frames
}

// readPcapLen returns the frames of a capture and their lengths on the wire.
func readPcapLen(t testing.TB, name string) (LinkType, [][]byte, []int) {
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	lt, ok := LinkTypeFromDLT(uint32(r.LinkType()))
	if !ok {
		t.Fatalf("%s: link type %v", name, r.LinkType())
	}
	var frames [][]byte
	var lens []int
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
		lens = append(lens, ci.Length)
	}
	return lt, frames, lens
}

// TestTCPDumpGolden compares AppendTCPDump with what tcpdump 4.99 prints
// with -nn -S -t for captures from tcpdump's own test suite.
func TestTCPDumpGolden(t *testing.T) {
	for _, name := range []string{"dns_udp", "dns_tcp", "ssh", "print-flags", "tfo-5c1fa7f9ae91"} {
		t.Run(name, func(t *testing.T) {
			lt, frames, lens := readPcapLen(t, name+".pcap")
			wantb, err := os.ReadFile(filepath.Join("testdata", name+".tcpdump"))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Split(strings.TrimSuffix(string(wantb), "\n"), "\n")
			d := NewDecoder(lt)
			var got []string
			for i, f := range frames {
				d.Decode(f)
				d.Length = lens[i]
				got = append(got, string(d.AppendTCPDump(nil)))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-tcpdump +sonde):\n%s", diff)
			}
		})
	}
}
