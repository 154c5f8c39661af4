package filter

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
)

// fuzzLinkTypes maps a fuzz byte to a link type.
var fuzzLinkTypes = []LinkType{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6}

// FuzzCompile: the compiler never panics; what it compiles is a valid
// classic BPF program (x/net/bpf accepts it: jumps in range, ends in a
// return) that Match runs without panicking and with x/net/bpf's verdict.
func FuzzCompile(f *testing.F) {
	for _, e := range readLines(f, "testdata/exprs.txt") {
		f.Add(e, byte(0), tcpSYN)
	}
	for _, e := range readLines(f, "testdata/bad_exprs.txt") {
		f.Add(e, byte(1), []byte{})
	}
	f.Fuzz(func(t *testing.T, expr string, ltb byte, pkt []byte) {
		if len(expr) > 2000 {
			return
		}
		lt := fuzzLinkTypes[int(ltb)%len(fuzzLinkTypes)]
		p, err := Compile(expr, lt, 0)
		if err != nil {
			if se, ok := err.(*SyntaxError); ok && (se.Offset < 0 || se.Offset > len(expr) || se.Expr != expr) {
				t.Fatalf("%q: bad error position %d", expr, se.Offset)
			}
			return
		}
		raw, _ := p.RawInstructions()
		if _, err := FromRaw(raw, lt); err != nil {
			t.Fatalf("%q: our own program fails validation: %v", expr, err)
		}
		vm, err := bpf.NewVM(p.Instructions())
		if err != nil {
			t.Fatalf("%q: x/net/bpf refuses the program: %v", expr, err)
		}
		want, err := vm.Run(pkt)
		if err != nil {
			t.Fatalf("%q: x/net/bpf cannot run the program: %v", expr, err)
		}
		if got := p.Match(pkt, len(pkt)); got != (want != 0) {
			t.Fatalf("%q on %x: Match %v, x/net/bpf %d", expr, pkt, got, want)
		}
	})
}

// progBytes encodes a program as the fuzzer's byte string: 8 bytes per
// instruction (op, jt, jf, k big-endian).
func progBytes(raw []bpf.RawInstruction) []byte {
	b := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		b = binary.BigEndian.AppendUint16(b, r.Op)
		b = append(b, r.Jt, r.Jf)
		b = binary.BigEndian.AppendUint32(b, r.K)
	}
	return b
}

func bytesProg(b []byte) []bpf.RawInstruction {
	var raw []bpf.RawInstruction
	for len(b) >= 8 && len(raw) < 64 {
		raw = append(raw, bpf.RawInstruction{Op: binary.BigEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.BigEndian.Uint32(b[4:])})
		b = b[8:]
	}
	return raw
}

// FuzzMatchVsVM: on any program FromRaw accepts and x/net/bpf's VM can run,
// Match gives the VM's verdict.
func FuzzMatchVsVM(f *testing.F) {
	for _, e := range []string{"tcp port 80", "ip[2:2] / ip[1] > 3", "len % 7 = 3 or ip[0] << ip[1] = 0x45", "vlan and tcp[tcpflags] & tcp-syn != 0", "ip6 net 2001:db8::/32"} {
		p, err := Compile(e, LinkTypeEthernet, 0)
		if err != nil {
			f.Fatal(err)
		}
		raw, _ := p.RawInstructions()
		f.Add(progBytes(raw), tcpSYN)
	}
	f.Add(progBytes([]bpf.RawInstruction{{Op: opLD | mLEN}, {Op: opALU | aluDIV | srcX}, {Op: opRET | retA}}), []byte{1, 2, 3})
	f.Add(progBytes([]bpf.RawInstruction{{Op: opLDX | mIMM, K: 40}, {Op: opLD | szB | mIND, K: 0xfffffff0}, {Op: opRET | retA}}), make([]byte, 64))
	f.Fuzz(func(t *testing.T, prog, pkt []byte) {
		raw := bytesProg(prog)
		p, err := FromRaw(raw, LinkTypeEthernet)
		if err != nil {
			return
		}
		insns := make([]bpf.Instruction, len(raw))
		for i, r := range raw {
			insns[i] = r.Disassemble()
			if _, ok := insns[i].(bpf.NegateA); ok {
				return // x/net/bpf's VM cannot run BPF_NEG; Match can
			}
		}
		vm, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("FromRaw accepts what x/net/bpf refuses (%v): %v", err, raw)
		}
		want, err := vm.Run(pkt)
		if err != nil {
			t.Fatalf("x/net/bpf cannot run what FromRaw accepts (%v): %v", err, raw)
		}
		if got := run(p.raw, pkt, len(pkt)); got != uint32(want) {
			t.Fatalf("program %v on %x: run %d, x/net/bpf %d", raw, pkt, got, want)
		}
	})
}
