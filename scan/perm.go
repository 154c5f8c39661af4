package scan

import "math/bits"

// Permutation is a keyed pseudo-random permutation of [0, N): a balanced
// Feistel network over the smallest even power of two that holds N, with
// cycle walking (Black and Rogaway, "Ciphers with Arbitrary Finite
// Domains", 2002). The same key and N give the same order on every
// machine, which is what makes a scan reproducible and shardable. It keeps
// no table: At costs a few multiplications.
type Permutation struct {
	n    uint64
	half uint   // bits in each half
	mask uint64 // (1<<half)-1
	keys [4]uint64
}

// NewPermutation returns the permutation of [0, n) keyed by seed.
func NewPermutation(n, seed uint64) Permutation {
	b := uint(bits.Len64(max(n, 2) - 1))
	half := (b + 1) / 2
	p := Permutation{n: n, half: half, mask: 1<<half - 1}
	k := seed
	for i := range p.keys {
		k += 0x9e3779b97f4a7c15
		p.keys[i] = mix64(k)
	}
	return p
}

// Len returns N.
func (p Permutation) Len() uint64 { return p.n }

// At returns the element at position i (i < N) of the permuted order.
func (p Permutation) At(i uint64) uint64 {
	x := i
	for {
		x = p.encrypt(x)
		if x < p.n {
			return x
		}
	}
}

func (p Permutation) encrypt(x uint64) uint64 {
	l, r := x>>p.half, x&p.mask
	for _, k := range p.keys {
		l, r = r, l^(mix64(r^k)&p.mask)
	}
	return l<<p.half | r
}

// mix64 is the finaliser of SplitMix64: a bijective, well-mixing function.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Shard is the part i of n of a scan (0 ≤ I < N): positions i, i+n,
// i+2n, … of the permutation. The zero Shard is the whole scan.
type Shard struct{ I, N uint64 }

// positions returns how many positions of [0, total) belong to s.
func (s Shard) positions(total uint64) uint64 {
	if s.N <= 1 {
		return total
	}
	if total <= s.I {
		return 0
	}
	return (total-s.I-1)/s.N + 1
}

// position returns the j-th position of s.
func (s Shard) position(j uint64) uint64 {
	if s.N <= 1 {
		return j
	}
	return s.I + j*s.N
}

// sipKey is a SipHash-2-4 key (Aumasson and Bernstein, 2012).
type sipKey struct{ k0, k1 uint64 }

// sum hashes two 64-bit words (16 bytes, little-endian) with
// SipHash-2-4.
func (k sipKey) sum(m0, m1 uint64) uint64 {
	v0 := k.k0 ^ 0x736f6d6570736575
	v1 := k.k1 ^ 0x646f72616e646f6d
	v2 := k.k0 ^ 0x6c7967656e657261
	v3 := k.k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	for _, m := range [3]uint64{m0, m1, 16 << 56} {
		v3 ^= m
		round()
		round()
		v0 ^= m
	}
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
