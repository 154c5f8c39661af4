package filter

// Classic BPF opcode parts (see bpf(4), linux/filter.h).
const (
	opLD   = 0x00
	opLDX  = 0x01
	opST   = 0x02
	opSTX  = 0x03
	opALU  = 0x04
	opJMP  = 0x05
	opRET  = 0x06
	opMISC = 0x07

	szW = 0x00
	szH = 0x08
	szB = 0x10

	mIMM = 0x00
	mABS = 0x20
	mIND = 0x40
	mMEM = 0x60
	mLEN = 0x80
	mMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jJA   = 0x00
	jJEQ  = 0x10
	jJGT  = 0x20
	jJGE  = 0x30
	jJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// ins is one instruction of the intermediate program: a classic BPF
// instruction whose jump targets are labels rather than offsets.
type ins struct {
	op     uint16
	k      uint32
	jt, jf int // labels, for conditional jumps; jt also for ja
	// rel marks packet loads made for a relation ("ip[6:2] & 0x1fff != 0").
	// libpcap computes those through the index register, so its optimiser
	// never sees them as the loads the primitives make ("port 80" tests the
	// same bytes); value numbering keeps them apart for the same verdicts.
	rel bool
	// For a relation load with a constant index, how libpcap computes it:
	// ld [x + relK] with x = relIdx (plus the IPv4 header length found at
	// relHdr-1 when relHdr is not 0). Value numbering uses this form.
	relConst             bool
	relK, relIdx, relHdr uint32
}

func isJump(op uint16) bool { return op&0x07 == opJMP }
func isCond(op uint16) bool { return op&0x07 == opJMP && op&0xf0 != jJA }

// condKind says what a cond node is.
type condKind uint8

const (
	cLeaf condKind = iota
	cAnd
	cOr
	cNot
	cTrue
	cFalse
)

// cond is a boolean expression over packet tests: libpcap's blocks in tree
// form. A leaf runs its statements and then a conditional jump.
type cond struct {
	kind  condKind
	a, b  *cond
	stmts []ins
	jop   uint16 // jJEQ|srcK, ...
	k     uint32
}

var (
	condTrue  = &cond{kind: cTrue}
	condFalse = &cond{kind: cFalse}
)

func leaf(stmts []ins, jop uint16, k uint32) *cond {
	return &cond{kind: cLeaf, stmts: stmts, jop: jop, k: k}
}

// and returns a∧b evaluated left to right. A false right side makes the
// whole false whatever the left side does (an aborting load rejects too).
func and(a, b *cond) *cond {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.kind == cFalse:
		return a
	case a.kind == cTrue:
		return b
	case b.kind == cTrue:
		return a
	}
	// "x and false" stays: the optimiser removes x's tests as libpcap's
	// does, which keeps the loads of a first test (see optRoot).
	return &cond{kind: cAnd, a: a, b: b}
}

// or returns a∨b evaluated left to right.
func or(a, b *cond) *cond {
	switch {
	case a.kind == cTrue:
		return a
	case a.kind == cFalse:
		return b
	case b.kind == cFalse:
		return a
	}
	return &cond{kind: cOr, a: a, b: b}
}

func not(a *cond) *cond {
	switch a.kind {
	case cTrue:
		return condFalse
	case cFalse:
		return condTrue
	case cNot:
		return a.a
	}
	return &cond{kind: cNot, a: a}
}
