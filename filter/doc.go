// Package filter compiles tcpdump's capture-filter language, pcap-filter(7),
// to classic BPF, in pure Go, and runs the result over packets.
//
//	prog, err := filter.Compile("tcp port 80 and host 198.18.0.2", filter.LinkTypeEthernet, 0)
//	...
//	if prog.Match(pkt, wirelen) { ... }      // in process, allocation-free
//	raw, _ := prog.RawInstructions()         // for SO_ATTACH_FILTER
//
// The compiler follows libpcap 1.10 (the library under tcpdump 4.99): the
// same grammar, the same code for each primitive, and the same optimiser
// passes where they change verdicts (see "Truncated packets" below). Its
// verdicts are checked against libpcap's in the tests: for every expression
// of testdata/exprs.txt and six link types, the programs printed by
// `tcpdump -ddd -y LINKTYPE EXPR` and those compiled here are run in
// x/net/bpf's VM over every packet of a corpus of captures and synthetic
// packets (thousands, many of them truncated), and must agree on each.
//
// # Grammar
//
// An expression is a sequence of primitives joined by "and" ("&&") and "or"
// ("||"), which have equal precedence and group from the left, and negated
// with "not" ("!"), which binds tighter; parentheses group. An empty
// expression matches every packet.
//
//	expr      = term { ("and" | "or") (term | id) }
//	term      = "not" term | "(" expr ")" | primitive | arith relop arith
//	primitive = [proto] [dir] [kind] id          e.g. "tcp src port 80"
//	          | proto                            e.g. "icmp6"
//	          | [proto] ("broadcast" | "multicast")
//	          | ("less" | "greater") NUM | "vlan" [NUM]
//	          | "inbound" | "outbound"
//	proto     = "ether" | "link" | "ip" | "ip6" | "arp" | "rarp" | "tcp" | "udp"
//	          | "sctp" | "icmp" | "icmp6" | "igmp" | "igrp" | "pim" | "vrrp"
//	          | "carp" | "ah" | "esp"
//	dir       = "src" | "dst" | "src or dst" | "src and dst"
//	kind      = "host" | "net" | "port" | "portrange" | "proto"
//	id        = NUM | a.b.c.d ["/" NUM | "mask" a.b.c.d] | IPv6 ["/" NUM]
//	          | MAC | NAME | "not" id | "(" id { ("and" | "or") id } ")"
//	arith     = NUM | "len" | proto "[" arith [":" (1|2|4)] "]"
//	          | arith op arith | "-" arith | "(" arith ")"
//	op        = "+" "-" "*" "/" "%" "&" "|" "^" "<<" ">>"
//	relop     = "=" "==" "!=" "<" "<=" ">" ">="
//
// An id after "and"/"or" with no qualifiers of its own takes those of the
// primitive before it, as in tcpdump: "host a or b" is "host a or host b",
// "port 80 or 443" is "port 80 or port 443", "not port 22 and tcp" is
// "(not port 22) and tcp". Numbers are decimal, 0x hexadecimal or
// 0-prefixed octal. Arithmetic is unsigned 32-bit; "|" binds loosest, then
// "&", shifts, "+ -", "* /"; "%" and "^" have no precedence in libpcap's
// grammar, which makes them take everything to their right ("1 + 2 % 3 * 4"
// is "1 + (2 % ((3 * 4)))"), and so they do here. The named constants
// tcpflags, tcp-fin, tcp-syn, tcp-rst, tcp-push, tcp-ack, tcp-urg, tcp-ece,
// tcp-cwr, icmptype, icmpcode, icmp-echo, icmp-echoreply, icmp-unreach and
// the other icmp-* and icmp6-* names are those of pcap-filter(7).
//
// Supported link types: Ethernet (with "vlan", stacked 802.1Q/802.1ad/0x9100
// tags: each "vlan" moves the offsets of what follows it by 4 bytes, as in
// libpcap), Linux cooked captures v1 and v2 (where "inbound"/"outbound"
// test the packet type), raw IP, IPv4-only and IPv6-only.
//
// # Differences from libpcap
//
// Names are never resolved: "host example.com", "net NAME", "gateway" and
// "ether host NAME" are errors that ask for an address. Port names (http,
// domain, ssh, ...) and IP protocol names ("ip proto \udp") come from
// built-in tables matching Debian's /etc/services and /etc/protocols.
// "ip broadcast" uses a netmask of 0, as tcpdump does when it has none
// (the destination is 0.0.0.0 or 255.255.255.255). Not supported (an
// error names them): protochain, mpls, pppoed/pppoes, geneve, llc, the
// 802.11, ATM, MTP, pf, AppleTalk, DECnet, ISO and IPX primitives, and
// "inbound"/"outbound" outside Linux cooked captures (libpcap compiles
// those to Linux-only ancillary loads no capture file holds). Unary minus
// is emitted as a multiplication by 0xffffffff, since x/net/bpf's VM has no
// BPF_NEG. Programs are about as long as libpcap's (2% longer over the test
// corpus).
//
// libpcap quirks that decide verdicts are kept on purpose, so that a
// filter selects the same packets as with tcpdump: "tcp[i]", "udp[i]" and
// the other transport loads match IPv4 only; "x / ip[0]" is rejected as a
// division by zero (libpcap looks at the first instruction of the divisor,
// which loads the index 0); and the protocol checks of the right operand
// of an arithmetic operator are dropped ("ip[0] - tcp[0] = 0" reads
// tcp[0] on UDP packets too).
//
// # Truncated packets
//
// In classic BPF a load past the end of the captured bytes rejects the
// packet at once. Which loads run therefore matters, and libpcap's
// optimiser removes tests whose outcome the path already decides, pulls up
// tests of the same value in chains of "or" and "and", and deletes loads
// nothing uses. The same passes run here (value numbering, edge threading
// over dominating edges, or/and pull-ups, constant folding and dead-load
// removal), which is what makes verdicts on truncated packets agree. They
// agree on every packet of the test corpus for every expression of
// testdata/exprs.txt; among thousands of random combinations of primitives
// (TestRandomExpressionsAgainstLibpcap, SONDE_FILTER_RANDOM=N:SEED), about
// one in 5000 still differs, and only on truncated packets, where libpcap's
// optimiser stops short of a simplification made here or the reverse. The
// passes do not change what a filter means, and no difference on a whole
// packet has been seen.
//
// # Matching
//
// Program.Match runs the program with a small interpreter that does not
// allocate and that is tested (and fuzzed) to give x/net/bpf's verdicts;
// "len" there is the length on the wire, as in libpcap's offline filter.
// FromRaw wraps any classic BPF program, for example libpcap's, for Match.
//
// # Privileges
//
// None: the package makes no system calls. Attaching a program to a socket
// is the job of package capture.
//
// # Concurrency
//
// Compile may be called from any goroutine. A Program is immutable; Match
// may be called concurrently.
package filter
