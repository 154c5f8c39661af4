package packet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	exprs, _ := readScapyGolden(f)
	for _, e := range exprs {
		f.Add(strings.ReplaceAll(e, `\\`, `\`))
	}
	for _, e := range []string{`IP()/ICMP()/"hello"`, `Ether()/ARP(pdst="198.18.5.0/24")`, `IP(dst="target.lab")`,
		`DNS(qd=DNSQR(qtype=["A","AAAA"]))`, `TCP(flags=(0,0x1ff))`, `IP(flags="MF+DF")`} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		t1, err := Parse(expr)
		if err != nil {
			return
		}
		s := t1.String()
		t2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) = %v; it came from String() of %q", s, err, expr)
		}
		if s2 := t2.String(); s2 != s || t2.Count() != t1.Count() {
			t.Fatalf("round trip: %q -> %q -> %q", expr, s, s2)
		}
		// The first packets build and serialise without panicking.
		n := 0
		for p := range t1.All() {
			d := NewDecoder(LinkRaw)
			buf := newBuf()
			if p.SerializeIP(buf) == nil {
				d.Decode(buf.Bytes())
			}
			if n++; n == 3 {
				break
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.pcap")
	for _, s := range seeds {
		lt, frames := readPcap(f, filepath.Base(s))
		for _, fr := range frames {
			f.Add(uint8(lt), fr)
		}
	}
	if len(seeds) == 0 {
		f.Fatal("no seeds")
	}
	_ = os.Getenv
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		d := NewDecoder(LinkType(link % 5))
		d.Decode(data)
		b := d.AppendTCPDump(nil)
		b = d.AppendSummary(b)
		b = d.AppendShow(b)
		b = d.AppendJSON(b)
		_ = AppendHexdump(b, data)
		d.RequestKey()
		d.ReplyKey()
		d.Quote()
		Answers(d, d)
	})
}

// FuzzQuotedHeader: any bytes as a quoted datagram parse without panic,
// and what parses is consistent: the transport bytes are the tail of the
// input and L4 counts them.
func FuzzQuotedHeader(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 28, 0x12, 0x34, 0, 0, 1, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, 0x9c, 0x40, 0, 53, 0, 8, 0, 0}, false)
	f.Add(append([]byte{0x60, 0, 0, 0, 0, 8, 17, 1}, make([]byte, 40)...), true)
	f.Add([]byte{0x4f}, false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		q, l4, ok := QuotedHeader(b, v6)
		if !ok {
			return
		}
		if q.L4 != len(l4) || len(l4) > len(b) || string(b[len(b)-len(l4):]) != string(l4) {
			t.Fatalf("L4 %d, %d transport bytes, not the input's tail", q.L4, len(l4))
		}
		if q.Src.Is4() == v6 || q.Dst.Is4() == v6 {
			t.Fatalf("v6 %v: addresses %s and %s", v6, q.Src, q.Dst)
		}
	})
}
