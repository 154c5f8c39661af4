// Package probe sends sets of packets and matches the replies to them, with
// the semantics of Scapy's sr, sr1, srp and srp1: send every packet of a
// template, wait for answers, resend the unanswered, and return the answered
// pairs and the unanswered requests — with counters that say what happened
// (sent, answered, unanswered, duplicates, retries, kernel drops), so a lost
// reply is never silent.
//
// Requests are registered in a pending table, keyed by packet.MatchKey
// (comparable netip values, no allocation), before they are sent; one reader
// goroutine decodes each frame once into a reused packet.Decoder, finds the
// candidate requests by the frame's reply key and confirms with
// packet.Answers (ports and sequence numbers, ICMP echo identifiers, the
// header quoted by an ICMP error, ARP addresses, DNS id and question).
//
// # Privileges
//
// Sending crafted packets and reading replies needs CAP_NET_RAW (root).
// Errors satisfy errors.Is(err, os.ErrPermission) when it is missing.
//
// # Concurrency
//
// SR and its kin are synchronous: they return when done or when ctx is
// cancelled (with the results so far). Every socket, and the routing
// lookups, happen on the calling goroutine before any goroutine starts, so
// a caller inside a network namespace (lab.Node.Do) probes from that
// namespace. The reader goroutine is always waited for before return.
package probe
