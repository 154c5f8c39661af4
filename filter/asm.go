package filter

import (
	"errors"

	"golang.org/x/net/bpf"
)

// asm lays out a cond tree as straight-line code with labelled jumps.
type asm struct {
	code   []ins
	labels []int // label -> index of the instruction it names
}

func (a *asm) newLabel() int {
	a.labels = append(a.labels, -1)
	return len(a.labels) - 1
}

func (a *asm) bind(l int) { a.labels[l] = len(a.code) }

// gen emits code that continues at label t when c holds and at f when not.
// Every jump goes forward, as classic BPF requires.
func (a *asm) gen(c *cond, t, f int) {
	switch c.kind {
	case cTrue:
		a.code = append(a.code, ins{op: opJMP | jJA, jt: t})
	case cFalse:
		a.code = append(a.code, ins{op: opJMP | jJA, jt: f})
	case cNot:
		a.gen(c.a, f, t)
	case cAnd:
		m := a.newLabel()
		a.gen(c.a, m, f)
		a.bind(m)
		a.gen(c.b, t, f)
	case cOr:
		m := a.newLabel()
		a.gen(c.a, t, m)
		a.bind(m)
		a.gen(c.b, t, f)
	case cLeaf:
		a.code = append(a.code, c.stmts...)
		if t == f {
			a.code = append(a.code, ins{op: opJMP | jJA, jt: t})
		} else {
			a.code = append(a.code, ins{op: opJMP | c.jop, k: c.k, jt: t, jf: f})
		}
	}
}

// assemble turns a cond tree into a classic BPF program returning snaplen
// for accepted packets and 0 for the others.
func assemble(c *cond, snaplen uint32) ([]bpf.RawInstruction, error) {
	var a asm
	t, f := a.newLabel(), a.newLabel()
	a.gen(c, t, f)
	a.bind(t)
	a.code = append(a.code, ins{op: opRET | retK, k: snaplen})
	a.bind(f)
	a.code = append(a.code, ins{op: opRET | retK, k: 0})
	blocks := a.toBlocks()
	optimizeBlocks(blocks)
	internBlocks(blocks)
	optRoot(blocks)
	a.fromBlocks(blocks)
	a.optimize()
	return a.encode()
}

// optimize shortens the program without changing its verdict on any packet:
// jumps to jumps are threaded, jumps to the next instruction dropped, and a
// load whose value is already in the register on every path is removed (it
// cannot fall off the packet, as the same load already succeeded).
func (a *asm) optimize() {
	for range 4 {
		a.thread()
		a.dropRedundantLoads()
		a.thread()
	}
}

// thread retargets jumps that land on an unconditional jump, collapses
// conditional jumps whose branches meet, and deletes jumps to the next
// instruction and unreachable code.
func (a *asm) thread() {
	final := func(l int) int {
		for n := 0; n < len(a.code); n++ {
			i := a.labels[l]
			if i >= len(a.code) || a.code[i].op != opJMP|jJA {
				return l
			}
			l = a.code[i].jt
		}
		return l
	}
	for i := range a.code {
		in := &a.code[i]
		if !isJump(in.op) {
			continue
		}
		in.jt = final(in.jt)
		if isCond(in.op) {
			in.jf = final(in.jf)
			if a.labels[in.jt] == a.labels[in.jf] {
				*in = ins{op: opJMP | jJA, jt: in.jt}
			}
		}
	}
	keep := make([]bool, len(a.code))
	reach := make([]bool, len(a.code)+1)
	reach[0] = true
	for i, in := range a.code {
		if !reach[i] {
			continue
		}
		keep[i] = true
		switch {
		case in.op == opJMP|jJA:
			reach[a.labels[in.jt]] = true
			if a.labels[in.jt] == i+1 {
				keep[i] = false
			}
		case isCond(in.op):
			reach[a.labels[in.jt]] = true
			reach[a.labels[in.jf]] = true
		case in.op&0x07 == opRET:
		default:
			reach[i+1] = true
		}
	}
	a.compact(keep)
}

// compact deletes the instructions not kept; a label naming a deleted
// instruction moves to the next kept one.
func (a *asm) compact(keep []bool) {
	newIdx := make([]int, len(a.code)+1)
	n := 0
	for i := range a.code {
		newIdx[i] = n
		if keep[i] {
			a.code[n] = a.code[i]
			n++
		}
	}
	newIdx[len(a.code)] = n
	a.code = a.code[:n]
	for l, i := range a.labels {
		if i >= 0 {
			a.labels[l] = newIdx[i]
		}
	}
}

// regVal describes what a register is known to hold.
type regVal struct {
	op  uint16 // the load that produced it
	k   uint32
	ind bool   // an indirect load: xop and xk describe X
	xop uint16 // for indirect loads: the load that produced X
	xk  uint32
	ok  bool // false: unknown
}

type regState struct {
	a, x    regVal
	visited bool
}

func meet(s, t regState) regState {
	if !s.visited {
		return t
	}
	if s.a != t.a {
		s.a = regVal{}
	}
	if s.x != t.x {
		s.x = regVal{}
	}
	return s
}

// dropRedundantLoads removes loads of A or X whose value is already there.
func (a *asm) dropRedundantLoads() {
	n := len(a.code)
	in := make([]regState, n+1)
	in[0] = regState{visited: true}
	keep := make([]bool, n)
	for i := 0; i < n; i++ {
		keep[i] = true
		s := in[i]
		if !s.visited {
			continue // unreachable
		}
		c := a.code[i]
		cls := c.op & 0x07
		switch {
		case cls == opLD && (c.op&0xe0 == mABS || c.op&0xe0 == mIMM || c.op&0xe0 == mLEN):
			v := regVal{op: c.op, k: c.k, ok: true}
			if s.a == v {
				keep[i] = false
			}
			s.a = v
		case cls == opLD && c.op&0xe0 == mIND:
			if s.x.ok && !s.x.ind {
				v := regVal{op: c.op, k: c.k, ind: true, xop: s.x.op, xk: s.x.k, ok: true}
				if s.a == v {
					keep[i] = false
				}
				s.a = v
			} else {
				s.a = regVal{}
			}
		case cls == opLDX && (c.op&0xe0 == mMSH || c.op&0xe0 == mIMM):
			v := regVal{op: c.op, k: c.k, ok: true}
			if s.x == v {
				keep[i] = false
			}
			s.x = v
		case cls == opLD || cls == opALU:
			s.a = regVal{}
		case cls == opLDX:
			s.x = regVal{}
		case cls == opMISC && c.op&0xf8 == miscTXA:
			s.a = s.x
		case cls == opMISC:
			s.x = s.a
		}
		switch {
		case cls == opRET:
		case c.op == opJMP|jJA:
			t := a.labels[c.jt]
			in[t] = meet(in[t], s)
		case cls == opJMP:
			t, f := a.labels[c.jt], a.labels[c.jf]
			in[t] = meet(in[t], s)
			in[f] = meet(in[f], s)
		default:
			in[i+1] = meet(in[i+1], s)
		}
	}
	a.compact(keep)
}

// errTooLong is returned when a program exceeds the classic BPF limit.
var errTooLong = errors.New("filter: program longer than 4096 instructions")

// encode resolves labels into relative offsets. A conditional jump can only
// skip 255 instructions; farther targets go through an inserted ja.
func (a *asm) encode() ([]bpf.RawInstruction, error) {
	for {
		fixed := true
		for i := 0; i < len(a.code); i++ {
			c := a.code[i]
			if !isCond(c.op) {
				continue
			}
			if a.labels[c.jt]-i-1 > 255 || a.labels[c.jf]-i-1 > 255 {
				// Route the far branch (or both) through a ja placed
				// right after this instruction.
				a.insertAfter(i, c)
				fixed = false
				break
			}
		}
		if fixed {
			break
		}
		if len(a.code) > 4096*4 {
			return nil, errTooLong
		}
	}
	if len(a.code) > 4096 {
		return nil, errTooLong
	}
	out := make([]bpf.RawInstruction, len(a.code))
	for i, c := range a.code {
		r := bpf.RawInstruction{Op: c.op, K: c.k}
		switch {
		case c.op == opJMP|jJA:
			r.K = uint32(a.labels[c.jt] - i - 1)
		case isCond(c.op):
			r.Jt = uint8(a.labels[c.jt] - i - 1)
			r.Jf = uint8(a.labels[c.jf] - i - 1)
		}
		out[i] = r
	}
	return out, nil
}

// insertAfter inserts trampolines after the conditional jump at i for each
// of its branches that is out of reach.
func (a *asm) insertAfter(i int, c ins) {
	var extra []ins
	jt, jf := c.jt, c.jf
	if a.labels[c.jt]-i-1 > 255 {
		l := a.newLabel()
		extra = append(extra, ins{op: opJMP | jJA, jt: c.jt})
		a.labels[l] = i + 1
		jt = l
	}
	if a.labels[c.jf]-i-1 > 255 {
		l := a.newLabel()
		extra = append(extra, ins{op: opJMP | jJA, jt: c.jf})
		a.labels[l] = i + 1 + len(extra) - 1
		jf = l
	}
	newLabels := map[int]bool{jt: jt != c.jt, jf: jf != c.jf}
	for l := range a.labels {
		if newLabels[l] {
			continue
		}
		if a.labels[l] > i {
			a.labels[l] += len(extra)
		}
	}
	code := make([]ins, 0, len(a.code)+len(extra))
	code = append(code, a.code[:i]...)
	code = append(code, ins{op: c.op, k: c.k, jt: jt, jf: jf})
	code = append(code, extra...)
	code = append(code, a.code[i+1:]...)
	a.code = code
}
