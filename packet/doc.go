// Package packet builds, decodes, renders and matches network packets, in
// the manner of Scapy, over the layer structs of
// github.com/gopacket/gopacket/layers.
//
// # Building
//
// Parse reads an expression in the language of Scapy's constructors:
//
//	IP(dst="198.18.0.2", ttl=(1,30))/UDP(dport=33434)
//	IP(dst="198.18.0.0/30")/TCP(dport=[22,80,443], flags="S")
//	Ether()/ARP(pdst="198.18.5.0/24")
//	IPv6(dst="2001:2::1")/ICMPv6EchoRequest()
//	IP(dst="198.18.0.2")/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname="target.lab"))
//	IP()/ICMP()/Raw(load="hello")/"more bytes"
//
// Layers: Ether, ARP, IP, IPv6, ICMP, ICMPv6 (any type),
// ICMPv6EchoRequest, ICMPv6EchoReply, TCP, UDP, DNS (with DNSQR) and Raw.
// Fields have Scapy's names and defaults (IP ttl 64 and id 1; TCP sport
// 20, dport 80, flags S, window 8192; UDP ports 53; ICMP echo-request).
// Values are numbers (decimal or 0x hex), strings, symbolic names
// ("echo-request", "who-has", "AAAA", TCP flags "SA", IP flags "DF"), lists
// [a, b], inclusive ranges (a, b), and CIDR prefixes in address fields. A
// field with several values makes the template stand for every
// combination, in Scapy's order; Template.All expands them lazily, and
// Template.At and Packet.SetIndex reach any one in O(1), so a template of
// billions of packets costs no memory. Lengths, checksums, the IP protocol,
// IPv6 next header and EtherType are computed unless given. Host names in
// address fields are not resolved here: Template.Resolve takes the
// caller's resolver. Errors are *SyntaxError values with the offset of the
// mistake.
//
// The addresses Scapy takes from the route at send time (IP and ARP
// sources, Ether addresses) stay unset in a Packet until Packet.Fill;
// Packet.Dst gives the address to route on. Packet.Serialize writes the
// whole frame (for AF_PACKET; Ethernet frames are padded to 60 bytes) and
// Packet.SerializeIP the IP datagram (for raw IP sockets), into a reused
// gopacket.SerializeBuffer without allocating.
//
// # Decoding and rendering
//
// A Decoder decodes frames that start with Ethernet, raw IPv4 or IPv6,
// Linux cooked capture (SLL, SLL2) or BSD loopback into reused layer
// structs, without allocating, and renders them: AppendTCPDump (like
// `tcpdump -nn -S`, allocation-free), AppendSummary (Scapy's summary),
// AppendShow (Scapy's show), AppendJSON (tshark's field names) and
// AppendHexdump (Scapy's hexdump). DecodeAll decodes with gopacket's general
// decoder for the protocols the Decoder does not know. No byte sequence
// makes a Decoder or a renderer panic.
//
// # Matching
//
// Decoder.RequestKey and Decoder.ReplyKey give a comparable MatchKey:
// a request and its replies (TCP or UDP by addresses and ports, ICMP echo by
// id and sequence, ARP by addresses, ICMP errors by the datagram they
// quote) have equal keys, so a table of pending requests keyed by MatchKey
// finds the request of a reply in O(1). Answers then checks the pair as
// Scapy's answers() does (TCP acknowledgement numbers, DNS id and
// question, quoted IPv4 id and TCP sequence). Decoder.Quote exposes what an
// ICMP error quotes, for traceroute.
//
// # Privileges
//
// None: the package makes no system calls, starts no goroutines and reads
// no clock.
//
// # Concurrency
//
// A Template is safe for concurrent use once parsed and resolved. A Packet
// and a Decoder are not: give each goroutine its own.
package packet
