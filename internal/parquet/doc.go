// Package parquet writes Apache Parquet files of flat schemas: one column
// per field, each required or optional, of the types sonde exports (INT32,
// INT64, UTF-8 strings as BYTE_ARRAY, and INT64 timestamps in nanoseconds,
// adjusted to UTC). It writes what every reader understands — PLAIN
// encoding, or a dictionary per row group for the string columns that ask
// for one, data pages v1, uncompressed or Snappy-compressed (its own
// encoder), min/max statistics — and nothing else: no nesting, no other
// encodings, no reading.
//
// The format is the one of apache/parquet-format (parquet.thrift): the file
// is "PAR1", the row groups (for each column, its pages: the dictionary
// page if any, then data pages, each a Thrift PageHeader, the definition
// levels in the RLE/bit-packing hybrid when the column is optional, the
// values, PLAIN or as dictionary indices; levels and values compressed
// together), then the FileMetaData in the Thrift compact protocol, its
// length and "PAR1" again. The Thrift structures are written by hand here,
// field by field, so that sonde's binary does not carry a general Parquet
// library (and its codecs) that costs start-up time to every command.
//
// # Privileges
//
// None: the package only encodes bytes to the io.Writer it is given.
//
// # Concurrency
//
// A Writer is not safe for concurrent use.
package parquet
