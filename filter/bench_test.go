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

// BenchmarkMatchCorpus runs a typical filter over every Ethernet packet of
// the test corpus and reports packets per second.
func BenchmarkMatchCorpus(b *testing.B) {
	c := loadCorpus(b)
	pkts := c[LinkTypeEthernet]
	p, err := Compile("tcp port 80 or udp port 53 or (icmp and host 198.18.0.2)", LinkTypeEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, pk := range pkts {
			p.Match(pk.data, len(pk.data))
		}
		n += len(pkts)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
}
