package filter

import (
	"fmt"
	"os"
	"testing"
)

// TestDebugExpr prints both programs and differing packets for
// SONDE_FILTER_DEBUG=expr (developer aid; skipped otherwise).
func TestDebugExpr(t *testing.T) {
	expr := os.Getenv("SONDE_FILTER_DEBUG")
	if expr == "" {
		t.Skip("set SONDE_FILTER_DEBUG to an expression")
	}
	tcpdump := tcpdumpPath(t)
	c := loadCorpus(t)
	lt := LinkTypeEthernet
	lib := libpcapCompile(tcpdump, expr, lt)
	p, err := Compile(expr, lt, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.RawInstructions()
	for i, r := range raw {
		fmt.Printf("%3d %v\n", i, r.Disassemble())
	}
	fmt.Println("---- libpcap", lib.err)
	for i, r := range lib.prog {
		fmt.Printf("%3d %v\n", i, r.Disassemble())
	}
	theirs, _ := FromRaw(lib.prog, lt)
	for _, pk := range c[lt] {
		if theirs.Match(pk.data, len(pk.data)) != p.Match(pk.data, len(pk.data)) {
			fmt.Printf("%s %x\n", pk.name, pk.data)
		}
	}
}
