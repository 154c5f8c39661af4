// Package capfile reads and writes capture files: classic pcap (microsecond
// and nanosecond timestamps, either byte order) and pcapng (several sections
// and interfaces, options, packet comments). It is a thin, careful layer over
// gopacket's pure-Go pcapgo.
//
// NewReader detects the format from the file's magic number and returns one
// Reader for both. Reading is streaming through a large buffer; the
// ZeroCopyReadPacketData path reuses one packet buffer and does not allocate
// per packet. A damaged file yields every packet before the damage, then an
// error that names the packet number and byte offset:
//
//	capfile: packet 1234 at offset 567890: truncated record
//
// Such errors are *FormatError values and match ErrTruncated or ErrCorrupt
// with errors.Is. The reader never panics on input (it is fuzzed).
//
// Writer writes pcap; NgWriter writes pcapng with a section header,
// interface descriptions (name, link type, snap length) and packet comments.
//
// # Privileges
//
// None: capfile only reads and writes the io.Reader and io.Writer it is given.
//
// # Concurrency
//
// A Reader, Writer or NgWriter is not safe for concurrent use; use one per
// goroutine. Data returned by ZeroCopyReadPacketData is valid until the next
// read call.
package capfile
