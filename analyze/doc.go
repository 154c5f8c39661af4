// Package analyze computes streaming statistics over captured packets, the
// ones tshark prints with -z: conversations and endpoints (Ethernet, IPv4,
// IPv6, TCP, UDP), the protocol hierarchy, IO over time, one TCP stream
// followed as text, and application summaries (DNS questions and answers,
// HTTP requests, TLS ClientHello SNI and ALPN). Flows can be exported to
// Parquet for DuckDB, Spark or ClickHouse.
//
// An Analyzer is fed one packet at a time (Add) and keeps only per-flow
// state: memory grows with the number of conversations, endpoints and
// distinct names, never with the number of packets. It decodes with one
// reused gopacket DecodingLayerParser per link type, and a packet of a flow
// already known costs no allocation.
//
// Numbers follow tshark's definitions so that the tables can be compared:
// byte counts are frame (wire) lengths; in a conversation, A is the source
// of its first packet, "A→B" counts frames from A (tshark's "->" column);
// times are relative to the first packet of the capture; TCP conversations
// are numbered as tshark's tcp.stream.
//
// # Privileges
//
// None: analyze only computes over the bytes it is given.
//
// # Concurrency
//
// An Analyzer is not safe for concurrent use. Results returned by its
// methods are copies owned by the caller.
package analyze
