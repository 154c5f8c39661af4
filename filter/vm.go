package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// FromRaw wraps an existing classic BPF program (for example libpcap's, as
// printed by tcpdump -ddd) so that Match can run it. The program is checked
// as x/net/bpf's NewVM checks it: it must end in a return, every jump must
// land inside it, and no constant divides by zero; it may use the packet
// length extension but no other one.
func FromRaw(raw []bpf.RawInstruction, lt LinkType) (*Program, error) {
	if len(raw) == 0 {
		return nil, errors.New("filter: empty program")
	}
	if len(raw) > 4096 {
		return nil, errTooLong
	}
	canon := make([]bpf.RawInstruction, len(raw))
	for i, r := range raw {
		c, err := canonical(r)
		if err != nil {
			return nil, fmt.Errorf("filter: instruction %d: %w", i, err)
		}
		rest := len(raw) - i - 1
		if c.Op&0x07 == opJMP {
			if c.Op == opJMP|jJA {
				if int(c.K) >= rest {
					return nil, fmt.Errorf("filter: instruction %d: jump past the end", i)
				}
			} else if int(c.Jt) >= rest || int(c.Jf) >= rest {
				return nil, fmt.Errorf("filter: instruction %d: jump past the end", i)
			}
		}
		canon[i] = c
	}
	if last := canon[len(canon)-1]; last.Op&0x07 != opRET {
		return nil, errors.New("filter: program does not end with a return")
	}
	return &Program{lt: lt, raw: canon}, nil
}

// canonical checks r and returns it in the one form run knows, with unused
// fields cleared.
func canonical(r bpf.RawInstruction) (bpf.RawInstruction, error) {
	bad := func() (bpf.RawInstruction, error) {
		return bpf.RawInstruction{}, fmt.Errorf("unsupported instruction %#04x", r.Op)
	}
	switch ins := r.Disassemble().(type) {
	case bpf.NegateA:
		return bpf.RawInstruction{Op: opALU | aluNEG}, nil
	case bpf.RawInstruction:
		return bad()
	case bpf.ALUOpConstant:
		if ins.Val == 0 && (ins.Op == bpf.ALUOpDiv || ins.Op == bpf.ALUOpMod) {
			return bpf.RawInstruction{}, errors.New("constant division by zero")
		}
	case bpf.LoadExtension:
		if ins.Num != bpf.ExtLen {
			return bpf.RawInstruction{}, fmt.Errorf("extension %d not supported", ins.Num)
		}
	case bpf.LoadScratch:
		if ins.N < 0 || ins.N > 15 {
			return bad()
		}
	case bpf.StoreScratch:
		if ins.N < 0 || ins.N > 15 {
			return bad()
		}
	}
	c, err := r.Disassemble().Assemble()
	if err != nil {
		return bad()
	}
	switch {
	case c.Op&0x07 == opJMP && c.Op != opJMP|jJA:
		c.K, c.Jt, c.Jf = r.K, r.Jt, r.Jf
		if c.Op&srcX != 0 {
			c.K = 0
		}
	}
	return c, nil
}

// run executes a canonical program as x/net/bpf's VM does (a load beyond the
// packet or a division by zero in X rejects it), except that the length
// extension reads wirelen. It returns the program's verdict.
func run(prog []bpf.RawInstruction, pkt []byte, wirelen int) uint32 {
	var a, x uint32
	var mem [16]uint32
	n := len(pkt)
	if wirelen < n {
		wirelen = n
	}
	for pc := 0; pc < len(prog); pc++ {
		in := &prog[pc]
		switch in.Op {
		case opLD | szW | mABS:
			k := int(in.K)
			if k+4 > n || k < 0 {
				return 0
			}
			a = uint32(pkt[k])<<24 | uint32(pkt[k+1])<<16 | uint32(pkt[k+2])<<8 | uint32(pkt[k+3])
		case opLD | szH | mABS:
			k := int(in.K)
			if k+2 > n || k < 0 {
				return 0
			}
			a = uint32(pkt[k])<<8 | uint32(pkt[k+1])
		case opLD | szB | mABS:
			k := int(in.K)
			if k >= n || k < 0 {
				return 0
			}
			a = uint32(pkt[k])
		case opLD | szW | mIND:
			k := int(in.K) + int(x)
			if k+4 > n || k < 0 {
				return 0
			}
			a = uint32(pkt[k])<<24 | uint32(pkt[k+1])<<16 | uint32(pkt[k+2])<<8 | uint32(pkt[k+3])
		case opLD | szH | mIND:
			k := int(in.K) + int(x)
			if k+2 > n || k < 0 {
				return 0
			}
			a = uint32(pkt[k])<<8 | uint32(pkt[k+1])
		case opLD | szB | mIND:
			k := int(in.K) + int(x)
			if k >= n || k < 0 {
				return 0
			}
			a = uint32(pkt[k])
		case opLD | szW | mLEN:
			a = uint32(wirelen)
		case opLD | mIMM:
			a = in.K
		case opLD | mMEM:
			a = mem[in.K&15]
		case opLDX | mIMM:
			x = in.K
		case opLDX | mMEM:
			x = mem[in.K&15]
		case opLDX | szB | mMSH:
			k := int(in.K)
			if k >= n || k < 0 {
				return 0
			}
			x = uint32(pkt[k]&0x0f) * 4
		case opST:
			mem[in.K&15] = a
		case opSTX:
			mem[in.K&15] = x
		case opALU | aluADD | srcK:
			a += in.K
		case opALU | aluSUB | srcK:
			a -= in.K
		case opALU | aluMUL | srcK:
			a *= in.K
		case opALU | aluDIV | srcK:
			a /= in.K // FromRaw and Compile refuse a zero constant
		case opALU | aluMOD | srcK:
			a %= in.K
		case opALU | aluAND | srcK:
			a &= in.K
		case opALU | aluOR | srcK:
			a |= in.K
		case opALU | aluXOR | srcK:
			a ^= in.K
		case opALU | aluLSH | srcK:
			a = shl(a, in.K)
		case opALU | aluRSH | srcK:
			a = shr(a, in.K)
		case opALU | aluADD | srcX:
			a += x
		case opALU | aluSUB | srcX:
			a -= x
		case opALU | aluMUL | srcX:
			a *= x
		case opALU | aluDIV | srcX:
			if x == 0 {
				return 0
			}
			a /= x
		case opALU | aluMOD | srcX:
			if x == 0 {
				return 0
			}
			a %= x
		case opALU | aluAND | srcX:
			a &= x
		case opALU | aluOR | srcX:
			a |= x
		case opALU | aluXOR | srcX:
			a ^= x
		case opALU | aluLSH | srcX:
			a = shl(a, x)
		case opALU | aluRSH | srcX:
			a = shr(a, x)
		case opALU | aluNEG:
			a = -a
		case opJMP | jJA:
			pc += int(in.K)
		case opJMP | jJEQ | srcK:
			pc += branch(a == in.K, in)
		case opJMP | jJGT | srcK:
			pc += branch(a > in.K, in)
		case opJMP | jJGE | srcK:
			pc += branch(a >= in.K, in)
		case opJMP | jJSET | srcK:
			pc += branch(a&in.K != 0, in)
		case opJMP | jJEQ | srcX:
			pc += branch(a == x, in)
		case opJMP | jJGT | srcX:
			pc += branch(a > x, in)
		case opJMP | jJGE | srcX:
			pc += branch(a >= x, in)
		case opJMP | jJSET | srcX:
			pc += branch(a&x != 0, in)
		case opRET | retK:
			return in.K
		case opRET | retA:
			return a
		case opMISC | miscTAX:
			x = a
		case opMISC | miscTXA:
			a = x
		default:
			return 0
		}
	}
	return 0
}

func branch(ok bool, in *bpf.RawInstruction) int {
	if ok {
		return int(in.Jt)
	}
	return int(in.Jf)
}

// shl and shr shift as Go (and x/net/bpf) do: by 32 or more gives 0.
func shl(a, s uint32) uint32 { return a << s }
func shr(a, s uint32) uint32 { return a >> s }
