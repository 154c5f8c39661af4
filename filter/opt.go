package filter

// This file holds the optimiser passes that matter for verdicts, not just
// for size. In classic BPF a load past the end of the packet rejects it, so
// whether a load runs at all decides some verdicts on truncated packets.
// libpcap's optimiser threads jumps over tests whose outcome the path
// already decides and deletes loads whose value nothing uses; a filter
// compiled by libpcap therefore skips loads that the unoptimised program
// would run. To give libpcap's verdicts, the same transformations are made
// here: value numbering of the tested values, edge threading with the facts
// of dominating edges (libpcap's opt_j and fold_edge), and the removal of
// tests whose two branches meet, with the loads feeding them.

// block is a basic block: statements then a terminator.
type block struct {
	stmts  []ins
	term   ins // conditional jump, ja or ret
	jt, jf int // successor blocks (jf unused for ja; both -1 for ret)
	vnA    uint32
	vnOp   uint32
}

func (b *block) cond() bool { return isCond(b.term.op) }

// vnKey identifies a value computed from the packet.
type vnKey struct {
	op   uint16
	k    uint32
	a, b uint32
}

type valueNumbers struct {
	m    map[vnKey]uint32
	next uint32
}

func (v *valueNumbers) get(k vnKey) uint32 {
	if n, ok := v.m[k]; ok {
		return n
	}
	v.next++
	v.m[k] = v.next
	return v.next
}

func (v *valueNumbers) fresh() uint32 { v.next++; return v.next }

func (v *valueNumbers) konst(k uint32) uint32 { return v.get(vnKey{op: opLD | mIMM, k: k}) }

// number computes the value numbers of the tested value and operand of b.
func (v *valueNumbers) number(b *block) {
	a, x := v.fresh(), v.fresh()
	mem := map[uint32]uint32{}
	memv := func(k uint32) uint32 {
		if n, ok := mem[k]; ok {
			return n
		}
		n := v.fresh()
		mem[k] = n
		return n
	}
	for _, s := range b.stmts {
		cls := s.op & 0x07
		mode := s.op & 0xe0
		switch {
		case cls == opLD && mode == mIMM:
			a = v.konst(s.k)
		case cls == opLD && (mode == mABS || mode == mLEN):
			a = v.get(vnKey{op: s.op, k: s.k})
		case cls == opLD && mode == mIND:
			a = v.get(vnKey{op: s.op, k: s.k, a: x})
		case cls == opLD && mode == mMEM:
			a = memv(s.k)
		case cls == opLDX && mode == mIMM:
			x = v.konst(s.k)
		case cls == opLDX && mode == mMSH:
			x = v.get(vnKey{op: s.op, k: s.k})
		case cls == opLDX && mode == mMEM:
			x = memv(s.k)
		case cls == opLDX:
			x = v.get(vnKey{op: s.op, k: s.k})
		case cls == opST:
			mem[s.k] = a
		case cls == opSTX:
			mem[s.k] = x
		case cls == opALU && s.op&0xf0 == aluNEG:
			a = v.get(vnKey{op: s.op, a: a})
		case cls == opALU && s.op&srcX != 0:
			a = v.get(vnKey{op: s.op &^ srcX, a: a, b: x})
		case cls == opALU:
			a = v.get(vnKey{op: s.op, a: a, b: v.konst(s.k)})
		case cls == opMISC && s.op&0xf8 == miscTXA:
			a = x
		case cls == opMISC:
			x = a
		}
	}
	b.vnA = a
	if b.term.op&srcX != 0 {
		b.vnOp = x
	} else {
		b.vnOp = v.konst(b.term.k)
	}
}

// toBlocks splits the labelled code into basic blocks.
func (a *asm) toBlocks() []*block {
	n := len(a.code)
	leader := make([]bool, n+1)
	leader[0] = true
	for _, i := range a.labels {
		if i >= 0 && i < n {
			leader[i] = true
		}
	}
	for i, c := range a.code {
		if isJump(c.op) || c.op&0x07 == opRET {
			leader[i+1] = true
		}
	}
	blockOf := make([]int, n+1)
	var blocks []*block
	for i := 0; i < n; {
		j := i
		for j < n && !isJump(a.code[j].op) && a.code[j].op&0x07 != opRET && (j == i || !leader[j]) {
			j++
		}
		b := &block{}
		for k := i; k <= j && k < n; k++ {
			blockOf[k] = len(blocks)
		}
		if j < n && (isJump(a.code[j].op) || a.code[j].op&0x07 == opRET) && (j == i || !leader[j]) {
			b.stmts = append([]ins(nil), a.code[i:j]...)
			b.term = a.code[j]
			j++
		} else {
			// Falls through into a labelled instruction.
			b.stmts = append([]ins(nil), a.code[i:j]...)
			b.term = ins{op: opJMP | jJA, jt: -2 - j} // fixed below
		}
		blocks = append(blocks, b)
		i = j
	}
	blockOf[n] = len(blocks)
	for _, b := range blocks {
		switch {
		case b.term.op&0x07 == opRET:
			b.jt, b.jf = -1, -1
		case b.term.op == opJMP|jJA:
			if b.term.jt <= -2 {
				b.jt = blockOf[-2-b.term.jt]
			} else {
				b.jt = blockOf[a.labels[b.term.jt]]
			}
			b.jf = b.jt
		default:
			b.jt = blockOf[a.labels[b.term.jt]]
			b.jf = blockOf[a.labels[b.term.jf]]
		}
	}
	return blocks
}

// fromBlocks lays the reachable blocks out again, in their original order.
func (a *asm) fromBlocks(blocks []*block) {
	reach := reachable(blocks)
	a.code = a.code[:0]
	a.labels = a.labels[:0]
	for range blocks {
		a.labels = append(a.labels, -1)
	}
	for i, b := range blocks {
		if !reach[i] {
			continue
		}
		a.labels[i] = len(a.code)
		a.code = append(a.code, b.stmts...)
		t := b.term
		switch {
		case t.op&0x07 == opRET:
		case t.op == opJMP|jJA:
			t.jt = b.jt
		default:
			t.jt, t.jf = b.jt, b.jf
		}
		a.code = append(a.code, t)
	}
}

func reachable(blocks []*block) []bool {
	reach := make([]bool, len(blocks))
	if len(blocks) > 0 {
		reach[0] = true
	}
	for i, b := range blocks {
		if !reach[i] || b.jt < 0 {
			continue
		}
		reach[b.jt] = true
		reach[b.jf] = true
	}
	return reach
}

// bitset is a set of edges; edge 2*i+1 is block i's true branch, 2*i its
// false branch.
type bitset []uint64

func (s bitset) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s bitset) set(i int)      { s[i/64] |= 1 << (i % 64) }

// threadEdges runs libpcap-style edge threading to a fixed point.
func threadEdges(blocks []*block) {
	vn := &valueNumbers{m: map[vnKey]uint32{}}
	for _, b := range blocks {
		if b.cond() {
			vn.number(b)
		}
	}
	words := (2*len(blocks) + 63) / 64
	for pass := 0; pass < 64; pass++ {
		changed := false
		// A test whose branches meet decides nothing: its loads go too.
		for _, b := range blocks {
			if b.cond() && b.jt == b.jf {
				b.term = ins{op: opJMP | jJA}
				b.stmts = nil
				changed = true
			}
		}
		reach := reachable(blocks)
		// Dominating edges: domIn[b] is the set of edges on every path to b.
		domIn := make([]bitset, len(blocks))
		seen := make([]bool, len(blocks))
		if len(blocks) > 0 {
			domIn[0] = make(bitset, words)
			seen[0] = true
		}
		meet := func(to int, s bitset) {
			if !seen[to] {
				domIn[to] = append(bitset(nil), s...)
				seen[to] = true
				return
			}
			for w := range domIn[to] {
				domIn[to][w] &= s[w]
			}
		}
		for i, b := range blocks {
			if !reach[i] || b.jt < 0 {
				continue
			}
			if !b.cond() {
				meet(b.jt, domIn[i])
				continue
			}
			for sense, to := range [2]int{b.jf, b.jt} {
				e := append(bitset(nil), domIn[i]...)
				e.set(2*i + sense)
				meet(to, e)
			}
		}
		// Thread every edge as far as the facts on it reach.
		for i, b := range blocks {
			if !reach[i] || b.jt < 0 {
				continue
			}
			edges := []*int{&b.jt}
			senses := []int{-1}
			if b.cond() {
				edges = []*int{&b.jf, &b.jt}
				senses = []int{0, 1}
			}
			for n, ep := range edges {
				facts := append(bitset(nil), domIn[i]...)
				if senses[n] >= 0 {
					facts.set(2*i + senses[n])
				}
				for hops := 0; hops < len(blocks); hops++ {
					s := blocks[*ep]
					next := -1
					switch {
					case s.term.op == opJMP|jJA && len(s.stmts) == 0:
						next = s.jt
					case s.cond() && s.jt == s.jf:
						next = s.jt
					case s.cond():
						next = fold(blocks, s, facts)
					}
					if next < 0 {
						break
					}
					*ep = next
					changed = true
				}
			}
		}
		if !changed {
			return
		}
	}
}

// fold returns the successor of s that the facts decide, or -1.
func fold(blocks []*block, s *block, facts bitset) int {
	for e := 0; e < 2*len(blocks); e++ {
		if facts[e/64] == 0 {
			e += 63 - e%64
			continue
		}
		if !facts.has(e) {
			continue
		}
		d, sense := blocks[e/2], e%2 == 1
		if d.term.op != s.term.op || d.vnA != s.vnA {
			continue
		}
		if d.vnOp == s.vnOp {
			if sense {
				return s.jt
			}
			return s.jf
		}
		if sense && s.term.op == opJMP|jJEQ|srcK {
			return s.jf
		}
	}
	return -1
}
