package filter

import (
	"container/heap"
	"math/bits"
)

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
	m      map[vnKey]uint32
	consts map[uint32]uint32
	next   uint32
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

func (v *valueNumbers) konst(k uint32) uint32 {
	n := v.get(vnKey{op: opLD | mIMM, k: k})
	v.consts[n] = k
	return n
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

// fromBlocks lays the reachable blocks out again, predecessors first (every
// jump goes forward), keeping the original order where it can.
func (a *asm) fromBlocks(blocks []*block) {
	f := analyse(blocks)
	a.code = a.code[:0]
	a.labels = a.labels[:0]
	for range blocks {
		a.labels = append(a.labels, -1)
	}
	for _, i := range f.order {
		b := blocks[i]
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
	if len(blocks) == 0 {
		return reach
	}
	// Blocks are not in topological order once pullups have moved tests:
	// walk the graph.
	stack := []int{0}
	reach[0] = true
	for len(stack) > 0 {
		b := blocks[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if b.jt < 0 {
			continue
		}
		for _, s := range [2]int{b.jt, b.jf} {
			if !reach[s] {
				reach[s] = true
				stack = append(stack, s)
			}
		}
	}
	return reach
}

// bitset is a set of small integers.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (s bitset) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s bitset) set(i int)      { s[i/64] |= 1 << (i % 64) }
func (s bitset) and(t bitset) {
	for w := range s {
		s[w] &= t[w]
	}
}
func (s bitset) fill() {
	for w := range s {
		s[w] = ^uint64(0)
	}
}

// flow is the analysis of the block graph libpcap's optimiser works with.
type flow struct {
	blocks []*block
	order  []int       // reachable blocks, predecessors first
	levels [][]int     // levels[l]: blocks whose longest path to a return is l
	preds  [][]edgeRef // in-edges of each block
	dom    []bitset    // dom[b]: blocks that dominate b
	edom   []bitset    // edom[e]: edges that dominate edge e (e = 2*b+sense)
}

type edgeRef struct {
	pred  int
	sense int // 1: true branch, 0: false branch, -1: ja
}

// analyse computes reachability, a topological order, levels, in-edges,
// dominators and edge dominators.
func analyse(blocks []*block) *flow {
	n := len(blocks)
	f := &flow{blocks: blocks}
	// Levels by depth-first search from the root, true branch first,
	// each block prepended to its level's list, as libpcap's find_levels.
	level := make([]int, n)
	visited := make([]bool, n)
	var maxLevel int
	var lists [][]int
	var visit func(b int)
	visit = func(b int) {
		if visited[b] {
			return
		}
		visited[b] = true
		bl := blocks[b]
		if bl.jt >= 0 {
			visit(bl.jt)
			visit(bl.jf)
			level[b] = 1 + max(level[bl.jt], level[bl.jf])
		}
		for len(lists) <= level[b] {
			lists = append(lists, nil)
		}
		lists[level[b]] = append([]int{b}, lists[level[b]]...)
		maxLevel = max(maxLevel, level[b])
	}
	if n > 0 {
		visit(0)
	}
	f.levels = lists
	// Topological order: Kahn's algorithm, lowest index first.
	indeg := make([]int, n)
	f.preds = make([][]edgeRef, n)
	for b, bl := range blocks {
		if !visited[b] || bl.jt < 0 {
			continue
		}
		if bl.cond() {
			indeg[bl.jt]++
			indeg[bl.jf]++
			f.preds[bl.jt] = append(f.preds[bl.jt], edgeRef{b, 1})
			f.preds[bl.jf] = append(f.preds[bl.jf], edgeRef{b, 0})
		} else {
			indeg[bl.jt]++
			f.preds[bl.jt] = append(f.preds[bl.jt], edgeRef{b, -1})
		}
	}
	ready := &intHeap{}
	if n > 0 {
		heap.Push(ready, 0)
	}
	for ready.Len() > 0 {
		b := heap.Pop(ready).(int)
		f.order = append(f.order, b)
		bl := blocks[b]
		if bl.jt < 0 {
			continue
		}
		succ := []int{bl.jt}
		if bl.cond() {
			succ = append(succ, bl.jf)
		}
		for _, s := range succ {
			indeg[s]--
			if indeg[s] == 0 {
				heap.Push(ready, s)
			}
		}
	}
	// Dominators and edge dominators, in topological order.
	f.dom = make([]bitset, n)
	f.edom = make([]bitset, 2*n)
	domIn := make([]bitset, n) // edges dominating entry to b
	for _, b := range f.order {
		d := newBitset(n)
		ed := newBitset(2 * n)
		if len(f.preds[b]) == 0 {
			d.set(b)
		} else {
			d.fill()
			ed.fill()
			for _, p := range f.preds[b] {
				d.and(f.dom[p.pred])
				if p.sense >= 0 {
					ed.and(f.edom[2*p.pred+p.sense])
				} else {
					ed.and(domIn[p.pred])
				}
			}
			d.set(b)
		}
		f.dom[b] = d
		domIn[b] = ed
		if blocks[b].cond() {
			for sense := 0; sense < 2; sense++ {
				e := append(bitset(nil), ed...)
				e.set(2*b + sense)
				f.edom[2*b+sense] = e
			}
		}
	}
	return f
}

// numberAll computes value numbers for every block, inheriting the values
// registers hold on entry from the predecessors when they all agree. With
// alter, it also rewrites statements as libpcap's opt_stmt, opt_peep and
// opt_deadstores do (constant folding, branch resolution, dead loads); it
// reports whether anything changed.
func numberAll(f *flow, vn *valueNumbers, alter bool) bool {
	changed := false
	exitA := make([]uint32, len(f.blocks))
	exitX := make([]uint32, len(f.blocks))
	for _, b := range f.order {
		bl := f.blocks[b]
		var a, x uint32
		for i, p := range f.preds[b] {
			if i == 0 {
				a, x = exitA[p.pred], exitX[p.pred]
				continue
			}
			if exitA[p.pred] != a {
				a = 0
			}
			if exitX[p.pred] != x {
				x = 0
			}
		}
		if a == 0 {
			a = vn.fresh()
		}
		if x == 0 {
			x = vn.fresh()
		}
		if vn.stmts(bl, &a, &x, alter) {
			changed = true
		}
		exitA[b], exitX[b] = a, x
		bl.vnA = a
		if bl.term.op&srcX != 0 {
			bl.vnOp = x
		} else {
			bl.vnOp = vn.konst(bl.term.k)
		}
		if alter && bl.cond() {
			if peep(bl, vn, a, x) {
				changed = true
			}
			if deadStores(bl) {
				changed = true
			}
		}
	}
	return changed
}

// isConst reports whether value number v is a constant, and which.
func (v *valueNumbers) isConst(n uint32) (uint32, bool) {
	k, ok := v.consts[n]
	return k, ok
}

// stmts numbers (and with alter, folds) the statements of b.
func (v *valueNumbers) stmts(b *block, a, x *uint32, alter bool) bool {
	changed := false
	mem := map[uint32]uint32{}
	memv := func(k uint32) uint32 {
		if n, ok := mem[k]; ok {
			return n
		}
		n := v.fresh()
		mem[k] = n
		return n
	}
	out := b.stmts[:0]
	for _, s := range b.stmts {
		cls := s.op & 0x07
		mode := s.op & 0xe0
		keep := true
		switch {
		case cls == opLD && mode == mIMM:
			*a = v.konst(s.k)
		case cls == opLD && s.rel && s.relConst:
			// libpcap's form: ld [x + relK], x = index (+ header length).
			xi := v.konst(s.relIdx)
			if s.relHdr != 0 {
				xi = v.get(vnKey{op: opALU | aluADD, a: xi, b: v.get(vnKey{op: opLDX | szB | mMSH, k: s.relHdr - 1})})
			}
			*a = v.get(vnKey{op: opLD | s.op&0x18 | mIND | 0x8000, k: s.relK, a: xi})
		case cls == opLD && (mode == mABS || mode == mLEN):
			*a = v.get(vnKey{op: s.op | relBit(s), k: s.k})
		case cls == opLD && mode == mIND:
			if xv, ok := v.isConst(*x); ok && alter {
				s = ins{op: opLD | s.op&0x18 | mABS, k: s.k + xv, rel: s.rel}
				*a = v.get(vnKey{op: s.op | relBit(s), k: s.k})
				changed = true
			} else {
				*a = v.get(vnKey{op: s.op | relBit(s), k: s.k, a: *x})
			}
		case cls == opLD && mode == mMEM:
			n := memv(s.k)
			if kv, ok := v.isConst(n); ok && alter {
				s = ins{op: opLD | mIMM, k: kv}
				changed = true
			}
			*a = n
		case cls == opLDX && mode == mIMM:
			*x = v.konst(s.k)
		case cls == opLDX && mode == mMSH:
			*x = v.get(vnKey{op: s.op, k: s.k})
		case cls == opLDX && mode == mMEM:
			n := memv(s.k)
			if kv, ok := v.isConst(n); ok && alter {
				s = ins{op: opLDX | mIMM, k: kv}
				changed = true
			}
			*x = n
		case cls == opLDX:
			*x = v.get(vnKey{op: s.op, k: s.k})
		case cls == opST:
			mem[s.k] = *a
		case cls == opSTX:
			mem[s.k] = *x
		case cls == opALU && s.op&0xf0 == aluNEG:
			if av, ok := v.isConst(*a); ok && alter {
				s = ins{op: opLD | mIMM, k: -av}
				*a = v.konst(s.k)
				changed = true
			} else {
				*a = v.get(vnKey{op: s.op, a: *a})
			}
		case cls == opALU && s.op&srcX == 0:
			op := s.op & 0xf0
			av, aconst := v.isConst(*a)
			switch {
			case alter && s.k == 0 && (op == aluADD || op == aluLSH || op == aluRSH || op == aluOR || op == aluXOR):
				keep = false
				changed = true
			case alter && s.k == 0 && (op == aluMUL || op == aluAND):
				s = ins{op: opLD | mIMM, k: 0}
				*a = v.konst(0)
				changed = true
			case alter && aconst:
				s = ins{op: opLD | mIMM, k: alu(op, av, s.k)}
				*a = v.konst(s.k)
				changed = true
			default:
				*a = v.get(vnKey{op: s.op, a: *a, b: v.konst(s.k)})
			}
		case cls == opALU:
			op := s.op & 0xf0
			xv, xconst := v.isConst(*x)
			av, aconst := v.isConst(*a)
			switch {
			case alter && xconst && aconst:
				s = ins{op: opLD | mIMM, k: alu(op, av, xv)}
				*a = v.konst(s.k)
				changed = true
			case alter && xconst:
				s = ins{op: opALU | op | srcK, k: xv}
				*a = v.get(vnKey{op: s.op, a: *a, b: v.konst(xv)})
				changed = true
			case alter && aconst && av == 0 && (op == aluADD || op == aluOR || op == aluXOR):
				s = ins{op: opMISC | miscTXA}
				*a = *x
				changed = true
			case alter && aconst && av == 0 && (op == aluMUL || op == aluDIV || op == aluMOD || op == aluAND || op == aluLSH || op == aluRSH):
				s = ins{op: opLD | mIMM, k: 0}
				*a = v.konst(0)
				changed = true
			default:
				*a = v.get(vnKey{op: s.op &^ srcX, a: *a, b: *x})
			}
		case cls == opMISC && s.op&0xf8 == miscTXA:
			*a = *x
		case cls == opMISC:
			*x = *a
		}
		if keep {
			out = append(out, s)
		}
	}
	b.stmts = out
	return changed
}

// peep resolves the branch of b when its outcome is a constant (libpcap's
// opt_peep: jset #0, jset #0xffffffff, a constant accumulator).
func peep(b *block, vn *valueNumbers, a, x uint32) bool {
	changed := false
	if b.term.op&srcX != 0 {
		if xv, ok := vn.isConst(x); ok {
			b.term.op &^= srcX
			b.term.k = xv
			changed = true
		}
	}
	if b.term.op == opJMP|jJSET|srcK {
		if b.term.k == 0 && b.jt != b.jf {
			b.jt = b.jf
			changed = true
		}
		if b.term.k == 0xffffffff && b.jt != b.jf {
			b.jf = b.jt
			changed = true
		}
	}
	if av, ok := vn.isConst(a); ok && b.term.op&srcX == 0 && b.jt != b.jf {
		if cmpOp(b.term.op&0xf0, av, b.term.k) {
			b.jf = b.jt
		} else {
			b.jt = b.jf
		}
		changed = true
	}
	return changed
}

// deadStores deletes statements whose result nothing in the block uses; the
// block's successors never use a register before setting it, as each test
// loads what it tests.
func deadStores(b *block) bool {
	liveA := b.cond()
	liveX := b.cond() && b.term.op&srcX != 0
	var liveMem uint16
	keep := make([]bool, len(b.stmts))
	for i := len(b.stmts) - 1; i >= 0; i-- {
		s := b.stmts[i]
		cls := s.op & 0x07
		mode := s.op & 0xe0
		usesA, usesX, defA, defX := false, false, false, false
		var useMem, defMem int = -1, -1
		switch {
		case cls == opLD:
			defA = true
			if mode == mIND {
				usesX = true
			}
			if mode == mMEM {
				useMem = int(s.k & 15)
			}
		case cls == opLDX:
			defX = true
			if mode == mMEM {
				useMem = int(s.k & 15)
			}
		case cls == opST:
			usesA, defMem = true, int(s.k&15)
		case cls == opSTX:
			usesX, defMem = true, int(s.k&15)
		case cls == opALU:
			usesA, defA = true, true
			if s.op&srcX != 0 && s.op&0xf0 != aluNEG {
				usesX = true
			}
		case cls == opMISC && s.op&0xf8 == miscTXA:
			usesX, defA = true, true
		case cls == opMISC:
			usesA, defX = true, true
		}
		live := (defA && liveA) || (defX && liveX) || (defMem >= 0 && liveMem&(1<<defMem) != 0)
		if !live {
			continue
		}
		keep[i] = true
		if defA {
			liveA = false
		}
		if defX {
			liveX = false
		}
		if defMem >= 0 {
			liveMem &^= 1 << defMem
		}
		if usesA {
			liveA = true
		}
		if usesX {
			liveX = true
		}
		if useMem >= 0 {
			liveMem |= 1 << useMem
		}
	}
	out := b.stmts[:0]
	for i, s := range b.stmts {
		if keep[i] {
			out = append(out, s)
		}
	}
	changed := len(out) != len(b.stmts)
	b.stmts = out
	return changed
}

// optJ threads every edge over tests that its dominating edges decide, and
// over tests whose branches meet (libpcap's opt_j).
func optJ(f *flow) bool {
	changed := false
	for l := 1; l < len(f.levels); l++ {
		for _, b := range f.levels[l] {
			bl := f.blocks[b]
			if !bl.cond() {
				continue
			}
			for _, sense := range []int{1, 0} {
				ep := &bl.jf
				if sense == 1 {
					ep = &bl.jt
				}
				facts := f.edom[2*b+sense]
				s := f.blocks[*ep]
				if s.jt >= 0 && s.jt == s.jf && (s.cond() || len(s.stmts) == 0) {
					*ep = s.jt
					changed = true
				}
				for hops := 0; hops < len(f.blocks); hops++ {
					s := f.blocks[*ep]
					if !s.cond() {
						break
					}
					next := fold(f.blocks, s, facts)
					if next < 0 {
						break
					}
					*ep = next
					changed = true
				}
			}
		}
	}
	return changed
}

// pullup moves, in a chain of tests joined by false (or) or true (and)
// branches, a later test of the value the predecessors tested up to the top
// of the chain: libpcap's or_pullup and and_pullup.
func pullup(f *flow, b int, isOr bool) bool {
	blocks := f.blocks
	in := f.preds[b]
	if len(in) == 0 {
		return false
	}
	for _, p := range in {
		if p.sense < 0 {
			return false
		}
	}
	val := blocks[in[0].pred].vnA
	for _, p := range in[1:] {
		if blocks[p.pred].vnA != val {
			return false
		}
	}
	// chain follows jf for or, jt for and; same is jt for or, jf for and.
	chain := func(i int) *int {
		if isOr {
			return &blocks[i].jf
		}
		return &blocks[i].jt
	}
	same := func(i int) int {
		if isOr {
			return blocks[i].jt
		}
		return blocks[i].jf
	}
	first := in[0]
	diffp := &blocks[first.pred].jf
	if first.sense == 1 {
		diffp = &blocks[first.pred].jt
	}
	atTop := true
	for {
		d := *diffp
		if d < 0 || !blocks[d].cond() || same(d) != same(b) || !f.dom[d].has(b) {
			return false
		}
		if blocks[d].vnA != val {
			break
		}
		diffp = chain(d)
		atTop = false
	}
	samep := chain(*diffp)
	for {
		s := *samep
		if s < 0 || !blocks[s].cond() || same(s) != same(b) || !f.dom[s].has(b) {
			return false
		}
		if blocks[s].vnA == val {
			break
		}
		samep = chain(s)
	}
	pull := *samep
	*samep = *chain(pull)
	*chain(pull) = *diffp
	if atTop {
		for _, p := range in {
			if p.sense == 1 {
				blocks[p.pred].jt = pull
			} else {
				blocks[p.pred].jf = pull
			}
		}
	} else {
		*diffp = pull
	}
	return true
}

// optimizeBlocks runs libpcap's two optimiser loops: branch movement with
// plain value numbers, then statement rewriting. Like libpcap, the pullups
// of a pass use the dominators and value numbers computed at its start.
func optimizeBlocks(blocks []*block) {
	pullups := true
	for pass := 0; pass < 100; pass++ {
		f := analyse(blocks)
		vn := &valueNumbers{m: map[vnKey]uint32{}, consts: map[uint32]uint32{}}
		numberAll(f, vn, false)
		changed := optJ(f)
		if pullups {
			f.preds = inEdges(blocks, f.levels)
			saved := make([][2]int, len(blocks))
			for i, b := range blocks {
				saved[i] = [2]int{b.jt, b.jf}
			}
			pulled := false
			for l := 1; l < len(f.levels); l++ {
				for _, b := range f.levels[l] {
					if pullup(f, b, true) {
						pulled = true
					}
					if pullup(f, b, false) {
						pulled = true
					}
				}
			}
			if pulled && !acyclic(blocks) {
				// Stale analysis led astray: undo and stop pulling up.
				for i, b := range blocks {
					b.jt, b.jf = saved[i][0], saved[i][1]
				}
				pullups, pulled = false, false
			}
			changed = changed || pulled
		}
		if !changed {
			break
		}
	}
	for pass := 0; pass < 100; pass++ {
		f := analyse(blocks)
		vn := &valueNumbers{m: map[vnKey]uint32{}, consts: map[uint32]uint32{}}
		if !numberAll(f, vn, true) {
			break
		}
	}
}

// inEdges lists the edges into each block in libpcap's order (find_inedges:
// levels from the root down, true edge then false edge, each prepended).
func inEdges(blocks []*block, levels [][]int) [][]edgeRef {
	preds := make([][]edgeRef, len(blocks))
	for l := len(levels) - 1; l > 0; l-- {
		for _, b := range levels[l] {
			bl := blocks[b]
			if bl.cond() {
				preds[bl.jt] = append([]edgeRef{{b, 1}}, preds[bl.jt]...)
				preds[bl.jf] = append([]edgeRef{{b, 0}}, preds[bl.jf]...)
			} else if bl.jt >= 0 {
				preds[bl.jt] = append([]edgeRef{{b, -1}}, preds[bl.jt]...)
			}
		}
	}
	return preds
}

// acyclic reports whether the blocks reachable from the first form a DAG.
func acyclic(blocks []*block) bool {
	state := make([]uint8, len(blocks)) // 0 new, 1 on stack, 2 done
	var visit func(b int) bool
	visit = func(b int) bool {
		switch state[b] {
		case 1:
			return false
		case 2:
			return true
		}
		state[b] = 1
		bl := blocks[b]
		if bl.jt >= 0 && (!visit(bl.jt) || !visit(bl.jf)) {
			return false
		}
		state[b] = 2
		return true
	}
	return len(blocks) == 0 || visit(0)
}

// fold returns the successor of s that the facts (dominating edges)
// decide, or -1: libpcap's fold_edge.
func fold(blocks []*block, s *block, facts bitset) int {
	for w, word := range facts {
		for word != 0 {
			bit := bits.TrailingZeros64(word)
			word &^= 1 << bit
			e := w*64 + bit
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
	}
	return -1
}

// intHeap is a min-heap of block indices.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// internBlocks merges blocks with the same statements, test and
// successors (libpcap's intern_blocks), to a fixed point.
func internBlocks(blocks []*block) {
	type key struct {
		stmts  string
		op     uint16
		k      uint32
		jt, jf int
	}
	for pass := 0; pass < len(blocks); pass++ {
		reach := reachable(blocks)
		canon := map[key]int{}
		repl := make([]int, len(blocks))
		changed := false
		for i := len(blocks) - 1; i >= 0; i-- {
			repl[i] = i
			if !reach[i] {
				continue
			}
			b := blocks[i]
			var sb []byte
			for _, s := range b.stmts {
				sb = append(sb, byte(s.op), byte(s.op>>8), byte(s.k), byte(s.k>>8), byte(s.k>>16), byte(s.k>>24))
			}
			k := key{string(sb), b.term.op, b.term.k, b.jt, b.jf}
			if b.term.op&0x07 == opRET {
				k.jt, k.jf = -1, -1
			}
			if j, ok := canon[k]; ok {
				repl[i] = j
				changed = true
			} else {
				canon[k] = i
			}
		}
		if !changed {
			return
		}
		for _, b := range blocks {
			if b.jt >= 0 {
				b.jt, b.jf = repl[b.jt], repl[b.jf]
			}
		}
		if repl[0] != 0 {
			// The entry block must stay first; give it the survivor's
			// contents instead.
			*blocks[0] = *blocks[repl[0]]
		}
	}
}

// optRoot skips a first test whose branches meet (libpcap's opt_root): its
// statements stay, in front of the new first block, unless that block is a
// return, in which case the program is that return alone.
func optRoot(blocks []*block) {
	if len(blocks) == 0 {
		return
	}
	stmts := blocks[0].stmts
	r := 0
	for n := 0; n < len(blocks); n++ {
		b := blocks[r]
		if b.jt < 0 || b.jt != b.jf || (!b.cond() && len(b.stmts) != 0 && r != 0) {
			break
		}
		r = b.jt
	}
	if r == 0 {
		return
	}
	nb := *blocks[r]
	if nb.term.op&0x07 == opRET {
		nb.stmts = nil
	} else {
		nb.stmts = append(append([]ins(nil), stmts...), nb.stmts...)
	}
	*blocks[0] = nb
}

// relBit separates the value numbers of relation loads (see ins.rel).
func relBit(s ins) uint16 {
	if s.rel {
		return 0x8000
	}
	return 0
}
