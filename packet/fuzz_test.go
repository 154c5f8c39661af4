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
