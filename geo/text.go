package geo

import (
	"bytes"
	"net/netip"
)

// ParseAddr parses an IPv4 or IPv6 address (with an optional zone) written
// in b, exactly as netip.ParseAddr does for string(b), but without
// allocating for IPv4. It reports false when b is not an address.
func ParseAddr(b []byte) (netip.Addr, bool) {
	if bytes.IndexByte(b, ':') < 0 {
		return parseIPv4(b)
	}
	a, err := netip.ParseAddr(string(b))
	return a, err == nil
}

// parseIPv4 parses dotted-decimal IPv4 as netip.ParseAddr does: four
// decimal fields of at most 255, no leading zeros, nothing else.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	field, val, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return netip.Addr{}, false // leading zero
			}
			val = val*10 + int(c-'0')
			if val > 255 {
				return netip.Addr{}, false
			}
			digits++
		case c == '.':
			if digits == 0 || field == 3 {
				return netip.Addr{}, false
			}
			ip[field] = byte(val)
			field, val, digits = field+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if field != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(val)
	return netip.AddrFrom4(ip), true
}

// addrByte marks the bytes that can appear in a textual address.
var addrByte = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = 1
		t[c-'a'+'A'] = 1
	}
	t['.'], t[':'] = 1, 1
	return t
}()

// AppendAddrs appends to dst the IPv4 and IPv6 addresses written in text
// (a log line, a packet dump, prose) and returns the extended slice. It
// looks at each maximal run of hex digits, colons and dots once, without
// backtracking: a run that is an IPv6 address counts as one; otherwise each
// dotted quad in it does ("1.2.3.4:80" gives 1.2.3.4, "[2001:db8::1]:443"
// 2001:db8::1). Runs of more than four dotted numbers (version strings),
// times and MAC addresses are not addresses and are skipped.
func AppendAddrs(dst []netip.Addr, text []byte) []netip.Addr {
	for i := 0; i < len(text); {
		if addrByte[text[i]] == 0 {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && addrByte[text[j]] != 0 {
			j++
		}
		// A run glued to a letter is part of a word ("std::string",
		// "host1.2.3.4"), not an address.
		// A colon or dot at the edge separates it ("addr:fe80::1").
		glued := i > 0 && isWordByte(text[i-1]) && !isPunct(text[i]) ||
			j < len(text) && isWordByte(text[j]) && !isPunct(text[j-1])
		if !glued {
			dst = appendRun(dst, text[i:j])
		}
		i = j
	}
	return dst
}

func appendRun(dst []netip.Addr, run []byte) []netip.Addr {
	colon := bytes.IndexByte(run, ':') >= 0
	dot := bytes.IndexByte(run, '.') >= 0
	if colon {
		// Trim punctuation that belongs to the text ("addr:fe80::1:"),
		// keeping a leading or trailing "::".
		r := run
		for len(r) > 0 && (r[len(r)-1] == '.' || r[len(r)-1] == ':' && (len(r) < 2 || r[len(r)-2] != ':')) {
			r = r[:len(r)-1]
		}
		for len(r) > 0 && r[0] == ':' && (len(r) < 2 || r[1] != ':') {
			r = r[1:]
		}
		if plausibleIPv6(r) {
			if a, err := netip.ParseAddr(string(r)); err == nil {
				return append(dst, a)
			}
		}
	}
	if !dot {
		return dst
	}
	// Dotted quads: the runs of digits and dots inside run.
	for i := 0; i < len(run); {
		if run[i] < '0' || run[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(run) && (run[j] >= '0' && run[j] <= '9' || run[j] == '.') {
			j++
		}
		q := run[i:j]
		for len(q) > 0 && q[len(q)-1] == '.' {
			q = q[:len(q)-1]
		}
		// A quad glued to hex letters ("a1.2.3.4b") is part of a word.
		glued := i > 0 && isHexLetter(run[i-1]) || j < len(run) && isHexLetter(run[j])
		if !glued && bytes.Count(q, []byte{'.'}) == 3 {
			if a, ok := parseIPv4(q); ok {
				dst = append(dst, a)
			}
		}
		i = j
	}
	return dst
}

// plausibleIPv6 is a cheap filter before parsing (which allocates): at
// least one hex digit, and either "::" or the colons of eight groups (seven,
// or six before an embedded IPv4 address). Times ("04:58:52") fail it.
func plausibleIPv6(b []byte) bool {
	digit := false
	for _, c := range b {
		if c != ':' && c != '.' {
			digit = true
			break
		}
	}
	if !digit || len(b) > 45 {
		return false
	}
	if bytes.Contains(b, []byte("::")) {
		return true
	}
	n := bytes.Count(b, []byte{':'})
	return n == 7 || n == 6 && bytes.IndexByte(b, '.') >= 0
}

func isPunct(c byte) bool { return c == ':' || c == '.' }

func isWordByte(c byte) bool {
	return c >= 'g' && c <= 'z' || c >= 'G' && c <= 'Z' || c == '_'
}

func isHexLetter(c byte) bool { return c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
