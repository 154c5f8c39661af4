package filter

import (
	"testing"

	"golang.org/x/net/bpf"
)

const benchExpr = "tcp port 80 and host 198.18.0.2 and tcp[tcpflags] & (tcp-syn|tcp-ack) != 0"

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(benchExpr, LinkTypeEthernet, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	p, err := Compile(benchExpr, LinkTypeEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match(tcpSYN, len(tcpSYN)) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkXNetVM runs the same program in x/net/bpf's VM, for comparison.
func BenchmarkXNetVM(b *testing.B) {
	p, err := Compile(benchExpr, LinkTypeEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	vm, err := bpf.NewVM(p.Instructions())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if n, _ := vm.Run(tcpSYN); n == 0 {
			b.Fatal("no match")
		}
	}
}
