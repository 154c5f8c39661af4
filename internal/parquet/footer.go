package parquet

import "encoding/binary"

// Values of parquet.thrift's enums.
const (
	typeInt32     = 1 // Type
	typeInt64     = 2
	typeByteArray = 6

	repRequired = 0 // FieldRepetitionType
	repOptional = 1

	convUTF8  = 0 // ConvertedType
	convInt32 = 17
	convInt64 = 18
)

// footer returns the FileMetaData in the Thrift compact protocol.
func (p *Writer) footer() []byte {
	c := compact{buf: make([]byte, 0, 256+64*len(p.cols)*(1+len(p.groups)))}
	c.begin(0)
	c.i32(1, 2) // version
	c.list(2, tStruct, 1+len(p.cols))
	c.elem() // the root
	c.string(4, p.name)
	c.i32(5, int32(len(p.cols)))
	c.end()
	for _, col := range p.cols {
		c.elem()
		rep := int32(repRequired)
		if col.Optional {
			rep = repOptional
		}
		switch col.Type {
		case Int32:
			c.i32(1, typeInt32)
			c.i32(3, rep)
			c.string(4, col.Name)
			c.i32(6, convInt32)
			c.begin(10) // LogicalType
			c.begin(10) // INTEGER
			c.i8(1, 32)
			c.bool(2, true)
			c.end()
			c.end()
		case Int64:
			c.i32(1, typeInt64)
			c.i32(3, rep)
			c.string(4, col.Name)
			c.i32(6, convInt64)
			c.begin(10)
			c.begin(10)
			c.i8(1, 64)
			c.bool(2, true)
			c.end()
			c.end()
		case String:
			c.i32(1, typeByteArray)
			c.i32(3, rep)
			c.string(4, col.Name)
			c.i32(6, convUTF8)
			c.begin(10)
			c.begin(1) // STRING
			c.end()
			c.end()
		case Timestamp:
			c.i32(1, typeInt64)
			c.i32(3, rep)
			c.string(4, col.Name)
			c.begin(10)
			c.begin(8)      // TIMESTAMP
			c.bool(1, true) // isAdjustedToUTC
			c.begin(2)      // unit
			c.begin(3)      // NANOS
			c.end()
			c.end()
			c.end()
			c.end()
		}
		c.end()
	}
	c.i64(3, p.total)
	c.list(4, tStruct, len(p.groups))
	for _, g := range p.groups {
		c.elem()
		c.list(1, tStruct, len(g.chunks))
		var size, raw int64
		for i, m := range g.chunks {
			p.chunk(&c, &p.cols[i], m)
			size += m.size
			raw += m.raw
		}
		c.i64(2, raw) // total_byte_size
		c.i64(3, g.rows)
		c.i64(5, g.offset)
		c.i64(6, size) // total_compressed_size
		c.end()
	}
	c.string(6, "sonde")
	// column_orders: TYPE_ORDER for every column, which makes the
	// statistics' min_value and max_value meaningful to readers.
	c.list(7, tStruct, len(p.cols))
	for range p.cols {
		c.elem()
		c.begin(1)
		c.end()
		c.end()
	}
	c.end()
	return c.buf
}

// chunk writes the ColumnChunk of column col described by m.
func (p *Writer) chunk(c *compact, col *column, m chunkMeta) {
	c.elem()
	// file_offset is deprecated: 0 when no ColumnMetaData is written outside
	// the footer, says parquet.thrift.
	c.i64(2, 0)
	c.begin(3) // ColumnMetaData
	switch col.Type {
	case Int32:
		c.i32(1, typeInt32)
	case Int64, Timestamp:
		c.i32(1, typeInt64)
	case String:
		c.i32(1, typeByteArray)
	}
	if m.dict {
		c.list(2, tI32, 3)
		c.listI32(encPlain)
		c.listI32(encRLE)
		c.listI32(encRLEDictionary)
	} else {
		c.list(2, tI32, 2)
		c.listI32(encPlain)
		c.listI32(encRLE)
	}
	c.list(3, tBinary, 1)
	c.listString(col.Name)
	c.i32(4, int32(p.cfg.Codec)) // UNCOMPRESSED 0, SNAPPY 1: as parquet.thrift's CompressionCodec
	c.i64(5, m.stats.values)
	c.i64(6, m.raw)
	c.i64(7, m.size)
	c.i64(9, m.data) // data_page_offset
	if m.dict {
		c.i64(11, m.offset) // dictionary_page_offset
	}
	c.begin(12) // Statistics
	c.i64(3, m.stats.nulls)
	if m.stats.has {
		var lo, hi []byte
		switch col.Type {
		case Int32:
			lo = binary.LittleEndian.AppendUint32(nil, uint32(m.stats.min))
			hi = binary.LittleEndian.AppendUint32(nil, uint32(m.stats.max))
		case Int64, Timestamp:
			lo = binary.LittleEndian.AppendUint64(nil, uint64(m.stats.min))
			hi = binary.LittleEndian.AppendUint64(nil, uint64(m.stats.max))
		case String:
			lo, hi = []byte(m.stats.smin), []byte(m.stats.smax)
		}
		c.binary(5, hi) // max_value
		c.binary(6, lo) // min_value
	}
	c.end()
	c.end()
	c.end()
}
