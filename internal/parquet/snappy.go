package parquet

import (
	"encoding/binary"
	"math/bits"
)

// appendSnappy appends src compressed in Snappy's block format (the
// SNAPPY codec of Parquet; format_description.txt of google/snappy): the
// uncompressed length as a varint, then literals and back-references
// ("copies"). The encoder is greedy, with a table of the last position of
// each hashed 4-byte sequence, and works on 64 KiB blocks so that every
// offset fits the 2-byte copy form. table is scratch space, reused.
func appendSnappy(dst, src []byte, table *[1 << snappyTableBits]uint16) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(src)))
	for len(src) > 0 {
		n := min(len(src), 1<<16)
		dst = snappyBlock(dst, src[:n], table)
		src = src[n:]
	}
	return dst
}

const snappyTableBits = 14

func snappyHash(u uint32) uint32 { return (u * 0x1e35a7bd) >> (32 - snappyTableBits) }

// snappyBlock compresses one block of at most 64 KiB.
func snappyBlock(dst, src []byte, table *[1 << snappyTableBits]uint16) []byte {
	if len(src) < 8 {
		return snappyLiteral(dst, src)
	}
	clear(table[:])
	lit := 0 // start of the bytes not yet emitted
	// Positions are stored plus one, so that zero means none.
	for i := 0; i+4 <= len(src); {
		u := binary.LittleEndian.Uint32(src[i:])
		h := snappyHash(u)
		cand := int(table[h]) - 1
		table[h] = uint16(i + 1)
		if cand < 0 || binary.LittleEndian.Uint32(src[cand:]) != u {
			i++
			continue
		}
		// A match of 4 bytes or more at cand: extend it.
		n := 4
		for i+n+8 <= len(src) {
			x := binary.LittleEndian.Uint64(src[i+n:]) ^ binary.LittleEndian.Uint64(src[cand+n:])
			if x != 0 {
				n += bits.TrailingZeros64(x) / 8
				goto extended
			}
			n += 8
		}
		for i+n < len(src) && src[i+n] == src[cand+n] {
			n++
		}
	extended:
		dst = snappyLiteral(dst, src[lit:i])
		dst = snappyCopy(dst, i-cand, n)
		i += n
		lit = i
		if i+4 <= len(src) && i >= 1 { // remember the position before the next
			table[snappyHash(binary.LittleEndian.Uint32(src[i-1:]))] = uint16(i)
		}
	}
	return snappyLiteral(dst, src[lit:])
}

// snappyLiteral appends lit as literal elements.
func snappyLiteral(dst, lit []byte) []byte {
	if len(lit) == 0 {
		return dst
	}
	n := uint32(len(lit) - 1)
	switch {
	case n < 60:
		dst = append(dst, byte(n)<<2)
	case n < 1<<8:
		dst = append(dst, 60<<2, byte(n))
	case n < 1<<16:
		dst = append(dst, 61<<2, byte(n), byte(n>>8))
	default:
		dst = append(dst, 62<<2, byte(n), byte(n>>8), byte(n>>16))
	}
	return append(dst, lit...)
}

// snappyCopy appends a back-reference of n bytes at offset back (below
// 65536), split in copies of at most 64 bytes.
func snappyCopy(dst []byte, offset, n int) []byte {
	for n > 0 {
		m := min(n, 64)
		if n-m > 0 && n-m < 4 {
			m = n - 4 // leave at least 4 for the last copy
		}
		if m >= 4 && m <= 11 && offset < 2048 {
			dst = append(dst, byte(offset>>8)<<5|byte(m-4)<<2|1, byte(offset))
		} else {
			dst = append(dst, byte(m-1)<<2|2, byte(offset), byte(offset>>8))
		}
		n -= m
	}
	return dst
}
