package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Type is the type of a column.
type Type uint8

// The column types. Int32 and Int64 are signed integers (logical type
// INT(32|64, signed)); String is UTF-8 text (BYTE_ARRAY, logical type
// STRING); Timestamp is an instant as INT64 nanoseconds since the Unix
// epoch (logical type TIMESTAMP(isAdjustedToUTC=true, unit=NANOS)).
const (
	Int32 Type = iota + 1
	Int64
	String
	Timestamp
)

// Column is one column of a flat schema. An Optional column may hold
// nulls (Writer.Null); a required one may not. A String column with
// Dictionary set is dictionary-encoded: each row group stores each distinct
// value once, in a dictionary page, and the rows as indices into it (RLE
// and bit-packed); when the dictionary would pass PageBytes, the rest of
// the row group's values are written PLAIN.
type Column struct {
	Name       string
	Type       Type
	Optional   bool
	Dictionary bool
}

// Config tunes a Writer. A nil *Config means the defaults.
type Config struct {
	// RowGroupRows is the number of rows of a row group, which a Writer
	// keeps in memory before writing it out. Zero means 65536.
	RowGroupRows int
	// PageBytes is the size of values after which a column's data page is
	// cut. Zero means 1 MiB.
	PageBytes int
	// Codec compresses the pages. Zero means Uncompressed.
	Codec Codec
}

// Codec is the compression of a file's pages.
type Codec uint8

// The codecs: Snappy is Parquet's SNAPPY, which every reader knows; its
// encoder here is simple and fast, and shrinks repeated addresses and
// small numbers several times.
const (
	Uncompressed Codec = iota
	Snappy
)

// Writer writes a Parquet file, row by row: for each row, one call per
// column in the schema's order (Int32, Int64, String, Time or Null), then
// EndRow. Close writes the footer. A Writer buffers one row group in
// memory.
type Writer struct {
	w       io.Writer
	name    string
	cols    []column
	cur     int   // next column of the current row
	rows    int64 // rows of the current row group
	total   int64 // rows written before the current row group
	off     int64 // bytes written to w
	groups  []rowGroup
	cfg     Config
	err     error // sticky
	scratch []byte
	packed  []byte                        // a compressed page
	table   *[1 << snappyTableBits]uint16 // the Snappy encoder's
	closed  bool
}

type column struct {
	Column
	vals  []byte // PLAIN values of the page being filled
	defs  []byte // its definition levels, one byte each (optional columns)
	n     int    // values of the page, nulls included
	chunk []byte // pages done, of the current row group
	raw   int64  // the size chunk would have uncompressed
	// Dictionary encoding, for the current row group.
	dict     map[string]uint32 // value → index
	dictVals []byte            // the values, PLAIN
	idx      []uint32          // the page's indices
	plain    bool              // the dictionary is full: PLAIN from now on
	usedDict bool              // some page of the chunk is dictionary-encoded
	stats    chunkStats
}

type chunkStats struct {
	values   int64
	nulls    int64
	has      bool
	min, max int64
	smin     string
	smax     string
}

type rowGroup struct {
	rows   int64
	offset int64
	chunks []chunkMeta
}

type chunkMeta struct {
	offset int64
	size   int64 // as written
	raw    int64 // uncompressed
	data   int64 // offset of the first data page (after the dictionary's)
	dict   bool  // a dictionary page starts the chunk
	stats  chunkStats
}

var errClosed = errors.New("parquet: writer is closed")

// NewWriter returns a Writer of a file whose schema is the message name
// with the columns cols. Names must be non-empty and distinct.
func NewWriter(w io.Writer, name string, cols []Column, cfg *Config) (*Writer, error) {
	if name == "" || len(cols) == 0 {
		return nil, errors.New("parquet: a schema needs a name and columns")
	}
	p := &Writer{w: w, name: name}
	if cfg != nil {
		p.cfg = *cfg
	}
	if p.cfg.RowGroupRows <= 0 {
		p.cfg.RowGroupRows = 1 << 16
	}
	if p.cfg.PageBytes <= 0 {
		p.cfg.PageBytes = 1 << 20
	}
	switch p.cfg.Codec {
	case Uncompressed:
	case Snappy:
		p.table = new([1 << snappyTableBits]uint16)
	default:
		return nil, fmt.Errorf("parquet: unknown codec %d", p.cfg.Codec)
	}
	seen := make(map[string]bool, len(cols))
	for _, c := range cols {
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("parquet: column name %q is empty or repeated", c.Name)
		}
		if c.Type < Int32 || c.Type > Timestamp {
			return nil, fmt.Errorf("parquet: column %s: unknown type %d", c.Name, c.Type)
		}
		if c.Dictionary && c.Type != String {
			return nil, fmt.Errorf("parquet: column %s: only strings are dictionary-encoded", c.Name)
		}
		seen[c.Name] = true
		p.cols = append(p.cols, column{Column: c})
	}
	return p, nil
}

// next returns the column the next value goes to, or nil after recording
// an error if that column is not of type t.
func (p *Writer) next(t Type) *column {
	if p.err != nil {
		return nil
	}
	if p.closed {
		p.err = errClosed
		return nil
	}
	if p.cur >= len(p.cols) {
		p.err = fmt.Errorf("parquet: row %d has more than %d values", p.total+p.rows, len(p.cols))
		return nil
	}
	c := &p.cols[p.cur]
	if c.Type != t && (t != Int64 || c.Type != Timestamp) {
		p.err = fmt.Errorf("parquet: column %s is not of the type of the value given", c.Name)
		return nil
	}
	p.cur++
	if c.Optional {
		c.defs = append(c.defs, 1)
	}
	c.n++
	c.stats.values++
	return c
}

// Int32 appends v to the next column, which must be of type Int32.
func (p *Writer) Int32(v int32) {
	if c := p.next(Int32); c != nil {
		c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(v))
		c.stats.int(int64(v))
		p.cut(c)
	}
}

// Int64 appends v to the next column, which must be of type Int64 or
// Timestamp (nanoseconds since the Unix epoch).
func (p *Writer) Int64(v int64) {
	if c := p.next(Int64); c != nil {
		c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(v))
		c.stats.int(v)
		p.cut(c)
	}
}

// Time appends t to the next column, which must be of type Timestamp. A
// time outside the years 1678 to 2262 cannot be represented and is an
// error.
func (p *Writer) Time(t time.Time) {
	ns := t.UnixNano()
	if !time.Unix(0, ns).Equal(t) && p.err == nil {
		p.err = fmt.Errorf("parquet: time %v is out of the range of nanosecond timestamps", t)
		return
	}
	if c := p.next(Timestamp); c != nil {
		c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(ns))
		c.stats.int(ns)
		p.cut(c)
	}
}

// String appends v to the next column, which must be of type String.
func (p *Writer) String(v string) {
	c := p.next(String)
	if c == nil {
		return
	}
	s := &c.stats
	if !s.has || v < s.smin {
		s.smin = v
	}
	if !s.has || v > s.smax {
		s.smax = v
	}
	s.has = true
	if c.Dictionary && !c.plain {
		i, ok := c.dict[v]
		if !ok && len(c.dictVals)+4+len(v) <= p.cfg.PageBytes {
			if c.dict == nil {
				c.dict = map[string]uint32{}
			}
			i, ok = uint32(len(c.dict)), true
			c.dict[v] = i
			c.dictVals = binary.LittleEndian.AppendUint32(c.dictVals, uint32(len(v)))
			c.dictVals = append(c.dictVals, v...)
		}
		if ok {
			c.idx = append(c.idx, i)
			if len(c.idx)*4 >= p.cfg.PageBytes {
				p.page(c)
			}
			return
		}
		// The dictionary is full: the page so far (without v) is written
		// with it, and v starts the PLAIN pages of the rest of the row
		// group.
		if c.Optional {
			c.defs = c.defs[:len(c.defs)-1]
		}
		c.n--
		p.page(c)
		c.plain = true
		if c.Optional {
			c.defs = append(c.defs, 1)
		}
		c.n++
	}
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(len(v)))
	c.vals = append(c.vals, v...)
	p.cut(c)
}

// Null appends a null to the next column, which must be Optional.
func (p *Writer) Null() {
	if p.err != nil || p.closed || p.cur >= len(p.cols) {
		p.next(0) // records the error
		return
	}
	c := &p.cols[p.cur]
	if !c.Optional {
		p.err = fmt.Errorf("parquet: column %s is required: no null", c.Name)
		return
	}
	p.cur++
	c.defs = append(c.defs, 0)
	c.n++
	c.stats.values++
	c.stats.nulls++
}

func (s *chunkStats) int(v int64) {
	if !s.has || v < s.min {
		s.min = v
	}
	if !s.has || v > s.max {
		s.max = v
	}
	s.has = true
}

// cut finishes c's page if it is full.
func (p *Writer) cut(c *column) {
	if len(c.vals) >= p.cfg.PageBytes {
		p.page(c)
	}
}

// EndRow ends the current row, which must have had one value per column,
// and writes a row group out when it is full. It returns the first error
// of the row's values, if any: after an error the Writer writes nothing
// more.
func (p *Writer) EndRow() error {
	if p.err != nil {
		return p.err
	}
	if p.cur != len(p.cols) {
		p.err = fmt.Errorf("parquet: row %d has %d values, the schema %d columns", p.total+p.rows, p.cur, len(p.cols))
		return p.err
	}
	p.cur = 0
	p.rows++
	if p.rows >= int64(p.cfg.RowGroupRows) {
		return p.flush()
	}
	return nil
}

// Rows returns the number of rows ended so far.
func (p *Writer) Rows() int64 { return p.total + p.rows }

// page appends c's pending values as a data page (v1, PLAIN, definition
// levels RLE) to its chunk.
func (p *Writer) page(c *column) {
	if c.n == 0 {
		return
	}
	data := p.scratch[:0]
	if c.Optional {
		data = append(data, 0, 0, 0, 0)
		data = appendHybrid(data, c.defs, 1)
		binary.LittleEndian.PutUint32(data, uint32(len(data)-4))
	}
	enc := encPlain
	if len(c.idx) > 0 {
		// The indices: their bit width, then RLE and bit-packed runs.
		enc = encRLEDictionary
		width := max(1, bits.Len32(uint32(len(c.dict)-1)))
		data = append(data, byte(width))
		data = appendHybrid(data, c.idx, width)
		c.usedDict = true
	} else {
		data = append(data, c.vals...)
	}
	p.scratch = data
	c.chunk = p.appendPage(c.chunk, &c.raw, data, func(h *compact) {
		h.i32(1, 0) // DATA_PAGE
		h.i32(2, int32(len(data)))
		h.i32(3, int32(len(p.packed)))
		h.begin(5) // DataPageHeader
		h.i32(1, int32(c.n))
		h.i32(2, int32(enc))
		h.i32(3, encRLE)
		h.i32(4, encRLE)
		h.end()
	})
	c.vals, c.defs, c.idx, c.n = c.vals[:0], c.defs[:0], c.idx[:0], 0
}

// appendPage appends a page to dst: its header (the PageHeader's fields
// written by fields) and data, compressed with the Writer's codec into
// p.packed first. raw counts the page's size uncompressed.
func (p *Writer) appendPage(dst []byte, raw *int64, data []byte, fields func(*compact)) []byte {
	if p.cfg.Codec == Snappy {
		p.packed = appendSnappy(p.packed[:0], data, p.table)
	} else {
		p.packed = append(p.packed[:0], data...)
	}
	h := compact{buf: dst}
	h.begin(0)
	fields(&h)
	h.end()
	*raw += int64(len(h.buf)-len(dst)) + int64(len(data))
	return append(h.buf, p.packed...)
}

// dictPage returns c's dictionary page.
func (p *Writer) dictPage(c *column) (page []byte, raw int64) {
	page = p.appendPage(nil, &raw, c.dictVals, func(h *compact) {
		h.i32(1, 2) // DICTIONARY_PAGE
		h.i32(2, int32(len(c.dictVals)))
		h.i32(3, int32(len(p.packed)))
		h.begin(7) // DictionaryPageHeader
		h.i32(1, int32(len(c.dict)))
		h.i32(2, encPlain)
		h.end()
	})
	return page, raw
}

// Encodings of parquet.thrift.
const (
	encPlain         = 0
	encRLE           = 3
	encRLEDictionary = 8
)

// appendHybrid appends values of width bits in the RLE/bit-packing hybrid
// encoding: runs of 8 or more equal values as RLE runs (the value in
// whole bytes), the rest bit-packed in groups of 8, LSB first (the last
// group padded with zeros, which readers ignore past the page's value
// count).
func appendHybrid[T byte | uint32](b []byte, vals []T, width int) []byte {
	packed := -1 // index in b of a bit-packed run's header, -1 if none open
	groups := 0
	for i := 0; i < len(vals); {
		run := 1
		for i+run < len(vals) && vals[i+run] == vals[i] {
			run++
		}
		if run >= 8 {
			packed = -1
			b = binary.AppendUvarint(b, uint64(run)<<1)
			for v, n := uint32(vals[i]), 0; n < width; n += 8 {
				b = append(b, byte(v))
				v >>= 8
			}
			i += run
			continue
		}
		if packed < 0 {
			// A header of one byte holds up to 63 groups; start another
			// run after that.
			packed, groups = len(b), 0
			b = append(b, 0)
		}
		var acc uint64
		nbits := 0
		for j := range 8 {
			if i+j < len(vals) {
				acc |= uint64(vals[i+j]) << nbits
			}
			nbits += width
			for nbits >= 8 {
				b = append(b, byte(acc))
				acc >>= 8
				nbits -= 8
			}
		}
		i += 8
		groups++
		b[packed] = byte(groups<<1 | 1)
		if groups == 63 {
			packed = -1
		}
	}
	return b
}

// flush writes the current row group out.
func (p *Writer) flush() error {
	if p.err != nil || p.rows == 0 {
		return p.err
	}
	if p.off == 0 {
		if err := p.write(magic); err != nil {
			return err
		}
	}
	g := rowGroup{rows: p.rows, offset: p.off, chunks: make([]chunkMeta, len(p.cols))}
	for i := range p.cols {
		c := &p.cols[i]
		p.page(c)
		m := chunkMeta{offset: p.off, data: p.off, raw: c.raw, stats: c.stats}
		if c.usedDict {
			dict, raw := p.dictPage(c)
			if err := p.write(dict); err != nil {
				return err
			}
			m.dict, m.data, m.size, m.raw = true, p.off, int64(len(dict)), m.raw+raw
		}
		m.size += int64(len(c.chunk))
		g.chunks[i] = m
		if err := p.write(c.chunk); err != nil {
			return err
		}
		c.chunk, c.raw, c.stats = c.chunk[:0], 0, chunkStats{}
		clear(c.dict)
		c.dictVals, c.plain, c.usedDict = c.dictVals[:0], false, false
	}
	p.groups = append(p.groups, g)
	p.total += p.rows
	p.rows = 0
	return nil
}

func (p *Writer) write(b []byte) error {
	n, err := p.w.Write(b)
	p.off += int64(n)
	if err != nil {
		p.err = fmt.Errorf("parquet: %w", err)
	}
	return p.err
}

var magic = []byte("PAR1")

// Close writes the rows buffered and the file's footer. It does not close
// the underlying io.Writer. A row begun and not ended is an error.
func (p *Writer) Close() error {
	if p.closed {
		return p.err
	}
	if p.err == nil && p.cur != 0 {
		p.err = fmt.Errorf("parquet: row %d is not ended", p.total+p.rows)
	}
	if p.err != nil {
		p.closed = true
		return p.err
	}
	if p.off == 0 {
		if err := p.write(magic); err != nil {
			return err
		}
	}
	if err := p.flush(); err != nil {
		return err
	}
	p.closed = true
	meta := p.footer()
	meta = binary.LittleEndian.AppendUint32(meta, uint32(len(meta)))
	meta = append(meta, magic...)
	return p.write(meta)
}
