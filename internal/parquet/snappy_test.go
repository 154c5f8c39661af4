package parquet

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/snappy"
)

// snappyInputs are inputs of the shapes a page has: repeated strings with
// length prefixes, small integers, random bytes, runs, and sizes around the
// encoder's block and copy limits.
func snappyInputs() [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	var in [][]byte
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 63, 64, 65, 100, 1 << 16, 1<<16 + 1, 3<<16 + 7} {
		random := make([]byte, n)
		for i := range random {
			random[i] = byte(rng.Uint32())
		}
		in = append(in, random, bytes.Repeat([]byte{'a'}, n), bytes.Repeat([]byte("198.18.0.1\x00"), n/11+1)[:n])
	}
	var addrs []byte
	for range 5000 {
		s := []byte("198.18." + string(rune('0'+rng.IntN(3))) + "." + string(rune('0'+rng.IntN(10))))
		addrs = append(addrs, byte(len(s)), 0, 0, 0)
		addrs = append(addrs, s...)
	}
	in = append(in, addrs)
	return in
}

func TestSnappyDecodesWithReference(t *testing.T) {
	var table [1 << snappyTableBits]uint16
	for _, src := range snappyInputs() {
		enc := appendSnappy(nil, src, &table)
		dec, err := snappy.Decode(nil, enc)
		if err != nil || !bytes.Equal(dec, src) {
			t.Errorf("%d bytes (%.20q…): decoded %d bytes, %v", len(src), src, len(dec), err)
		}
		if len(src) > 1000 && bytes.Count(src, src[:8]) > 100 && len(enc) > len(src)/4 {
			t.Errorf("%d repetitive bytes compressed to %d", len(src), len(enc))
		}
	}
}

func FuzzSnappy(f *testing.F) {
	for _, in := range snappyInputs() {
		if len(in) < 5000 {
			f.Add(in)
		}
	}
	var table [1 << snappyTableBits]uint16
	f.Fuzz(func(t *testing.T, src []byte) {
		enc := appendSnappy(nil, src, &table)
		dec, err := snappy.Decode(nil, enc)
		if err != nil || !bytes.Equal(dec, src) {
			t.Fatalf("decoded %q, %v; want %q", dec, err, src)
		}
		if max := 32 + len(src) + len(src)/6; len(enc) > max {
			t.Fatalf("%d bytes grew to %d", len(src), len(enc))
		}
	})
}

func BenchmarkSnappy(b *testing.B) {
	src := snappyInputs()
	in := src[len(src)-1]
	var table [1 << snappyTableBits]uint16
	var dst []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		dst = appendSnappy(dst[:0], in, &table)
	}
	b.ReportMetric(float64(len(dst))/float64(len(in)), "ratio")
}
