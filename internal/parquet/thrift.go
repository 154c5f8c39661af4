package parquet

import "encoding/binary"

// Thrift compact protocol types (the 4-bit type of a field header).
const (
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI32    = 5
	tI64    = 6
	tBinary = 8
	tList   = 9
	tStruct = 12
)

// compact appends Thrift compact-protocol values to buf. Field ids are
// written as deltas from the previous field of the same struct, so it keeps
// the last id of each struct being written.
type compact struct {
	buf  []byte
	last []int16 // last field id, per open struct
}

func (c *compact) field(id int16, typ byte) {
	n := len(c.last) - 1
	if d := id - c.last[n]; d > 0 && d <= 15 {
		c.buf = append(c.buf, byte(d)<<4|typ)
	} else {
		c.buf = append(c.buf, typ)
		c.buf = binary.AppendUvarint(c.buf, zigzag(int64(id)))
	}
	c.last[n] = id
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// begin opens a struct: the top-level one (id 0 means no field header) or
// a field of type struct.
func (c *compact) begin(id int16) {
	if len(c.last) > 0 {
		c.field(id, tStruct)
	}
	c.last = append(c.last, 0)
}

// end writes the STOP of the innermost struct.
func (c *compact) end() {
	c.buf = append(c.buf, 0)
	c.last = c.last[:len(c.last)-1]
}

func (c *compact) i8(id int16, v int8) {
	c.field(id, tByte)
	c.buf = append(c.buf, byte(v))
}

func (c *compact) i32(id int16, v int32) {
	c.field(id, tI32)
	c.buf = binary.AppendUvarint(c.buf, zigzag(int64(v)))
}

func (c *compact) i64(id int16, v int64) {
	c.field(id, tI64)
	c.buf = binary.AppendUvarint(c.buf, zigzag(v))
}

func (c *compact) binary(id int16, v []byte) {
	c.field(id, tBinary)
	c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
	c.buf = append(c.buf, v...)
}

func (c *compact) string(id int16, v string) {
	c.field(id, tBinary)
	c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
	c.buf = append(c.buf, v...)
}

func (c *compact) bool(id int16, v bool) {
	if v {
		c.field(id, tTrue)
	} else {
		c.field(id, tFalse)
	}
}

// list writes the header of a list field of n elements of type typ; the
// elements follow (structs with elem/end, numbers with the plain
// appenders).
func (c *compact) list(id int16, typ byte, n int) {
	c.field(id, tList)
	if n < 15 {
		c.buf = append(c.buf, byte(n)<<4|typ)
	} else {
		c.buf = append(c.buf, 0xf0|typ)
		c.buf = binary.AppendUvarint(c.buf, uint64(n))
	}
}

// elem opens a struct that is an element of a list.
func (c *compact) elem() { c.last = append(c.last, 0) }

// listI32 appends an i32 element of a list.
func (c *compact) listI32(v int32) { c.buf = binary.AppendUvarint(c.buf, zigzag(int64(v))) }

// listString appends a string element of a list.
func (c *compact) listString(v string) {
	c.buf = binary.AppendUvarint(c.buf, uint64(len(v)))
	c.buf = append(c.buf, v...)
}
