package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// MaxTargets bounds the number of addresses one target specification may
// name (a /8, or an IPv6 /104): beyond it a typo, not a scan, is likely.
const MaxTargets = 1 << 24

// SpecError is a malformed target, exclusion or port specification. Col
// is the 1-based column of the offending character in Spec.
type SpecError struct {
	Kind string // "target", "exclude", "ports", "shard"
	Spec string
	Col  int
	Msg  string
}

// Error returns the error as one line that points at the spot.
func (e *SpecError) Error() string {
	return fmt.Sprintf("scan: %s %q, column %d: %s", e.Kind, e.Spec, e.Col, e.Msg)
}

// ErrNoTargets is returned when no address is left once the exclusions are
// applied.
var ErrNoTargets = errors.New("scan: no target left after exclusions")

// span is a closed interval of IPv4 addresses as integers.
type span struct{ lo, hi uint32 }

// Targets is a set of addresses in a fixed order: IPv4 in ascending
// order, then IPv6 in ascending order. It is indexable, so a scan can walk
// it in a random permutation without listing it. The zero Targets is
// empty. A Targets is immutable and safe for concurrent use.
type Targets struct {
	v4  []span
	cum []uint64 // cum[i] is the number of addresses in v4[:i]
	n4  uint64
	v6  []netip.Addr
}

// Len returns the number of addresses.
func (t *Targets) Len() uint64 { return t.n4 + uint64(len(t.v6)) }

// At returns the i-th address; i must be below Len.
func (t *Targets) At(i uint64) netip.Addr {
	if i >= t.n4 {
		return t.v6[i-t.n4]
	}
	k, found := slices.BinarySearch(t.cum, i)
	if !found {
		k--
	}
	return u32Addr(t.v4[k].lo + uint32(i-t.cum[k]))
}

// Index returns the position of a in t and whether t holds it.
func (t *Targets) Index(a netip.Addr) (uint64, bool) {
	if a.Is4() {
		v := addrU32(a)
		k, _ := slices.BinarySearchFunc(t.v4, v, func(s span, v uint32) int {
			switch {
			case s.hi < v:
				return -1
			case s.lo > v:
				return 1
			}
			return 0
		})
		if k < len(t.v4) && t.v4[k].lo <= v && v <= t.v4[k].hi {
			return t.cum[k] + uint64(v-t.v4[k].lo), true
		}
		return 0, false
	}
	k, ok := slices.BinarySearchFunc(t.v6, a, netip.Addr.Compare)
	return t.n4 + uint64(k), ok
}

// Contains reports whether a is one of the targets.
func (t *Targets) Contains(a netip.Addr) bool { _, ok := t.Index(a); return ok }

// Prefixes returns the IPv4 targets as the fewest prefixes that cover them
// exactly, then each IPv6 target as a /128 (for filters and reports).
func (t *Targets) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range t.v4 {
		lo := uint64(s.lo)
		for lo <= uint64(s.hi) {
			bits := 32
			for bits > 0 {
				size := uint64(1) << (32 - bits + 1)
				if lo%size != 0 || lo+size-1 > uint64(s.hi) {
					break
				}
				bits--
			}
			out = append(out, netip.PrefixFrom(u32Addr(uint32(lo)), bits))
			lo += uint64(1) << (32 - bits)
		}
	}
	for _, a := range t.v6 {
		out = append(out, netip.PrefixFrom(a, 128))
	}
	return out
}

// Resolver resolves a host name to addresses (net.Resolver.LookupNetIP
// with network "ip" fits).
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// TargetSpec is what ParseTargets builds Targets from.
type TargetSpec struct {
	// Include are target specifications in nmap's syntax: addresses,
	// CIDR prefixes, octet ranges (198.18.0.1-20, 198.18.1-3.0-255),
	// IPv6 addresses and prefixes (of at most 2^24 addresses), host names.
	Include []string
	// Exclude are specifications, in the same syntax, of addresses never
	// to scan.
	Exclude []string
	// Resolve resolves host names (nil: a host name is an error).
	Resolve Resolver
	// DefaultExclude, when true, also excludes DefaultExclusions except
	// the prefixes of Allow.
	DefaultExclude bool
	// Allow are prefixes of DefaultExclusions that stay allowed (a lab's
	// range when scanning the lab).
	Allow []netip.Prefix
}

// DefaultExclusions are the ranges no scan targets unless told to: this
// network, loopback is not among them (scanning one's own host is legal),
// link-local, multicast, reserved and broadcast, the documentation and
// benchmarking ranges (RFC 6890's special-purpose registries).
var DefaultExclusions = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("2001:2::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// ParseTargets parses, resolves and excludes. It returns a *SpecError for
// a malformed specification and ErrNoTargets when nothing is left.
func ParseTargets(ctx context.Context, spec TargetSpec) (*Targets, error) {
	var v4 []span
	var v6 []netip.Addr
	add := func(kind, s string) error {
		r, err := ParseTarget(s)
		if err != nil {
			var se *SpecError
			if errors.As(err, &se) {
				se.Kind = kind
			}
			return err
		}
		if r.Host != "" {
			if spec.Resolve == nil {
				return &SpecError{Kind: kind, Spec: s, Col: 1, Msg: "host names are not resolved here"}
			}
			addrs, err := spec.Resolve(ctx, r.Host)
			if err != nil || len(addrs) == 0 {
				return &SpecError{Kind: kind, Spec: s, Col: 1, Msg: fmt.Sprintf("cannot resolve %q", r.Host)}
			}
			a := addrs[0].Unmap()
			if a.Is4() {
				r.v4 = []span{{addrU32(a), addrU32(a)}}
			} else {
				r.v6 = []netip.Addr{a}
			}
		}
		v4 = append(v4, r.v4...)
		v6 = append(v6, r.v6...)
		return nil
	}
	for _, s := range spec.Include {
		if err := add("target", s); err != nil {
			return nil, err
		}
	}
	inc4, inc6 := v4, v6
	v4, v6 = nil, nil
	for _, s := range spec.Exclude {
		if err := add("exclude", s); err != nil {
			return nil, err
		}
	}
	ex4, ex6 := v4, v6
	var ex6p []netip.Prefix
	if spec.DefaultExclude {
		for _, p := range DefaultExclusions {
			if slices.ContainsFunc(spec.Allow, func(a netip.Prefix) bool { return a.Overlaps(p) && a.Bits() <= p.Bits() }) {
				continue
			}
			if p.Addr().Is4() {
				lo := addrU32(p.Masked().Addr())
				ex4 = append(ex4, span{lo, lo | uint32(uint64(1)<<(32-p.Bits())-1)})
			} else {
				ex6p = append(ex6p, p)
			}
		}
	}
	t := &Targets{v4: subtract(normalize(inc4), normalize(ex4))}
	slices.SortFunc(inc6, netip.Addr.Compare)
	inc6 = slices.Compact(inc6)
	for _, a := range inc6 {
		if slices.Contains(ex6, a) || slices.ContainsFunc(ex6p, func(p netip.Prefix) bool { return p.Contains(a) }) {
			continue
		}
		t.v6 = append(t.v6, a)
	}
	t.cum = make([]uint64, len(t.v4))
	for i, s := range t.v4 {
		t.cum[i] = t.n4
		t.n4 += uint64(s.hi-s.lo) + 1
	}
	if t.Len() == 0 {
		return nil, ErrNoTargets
	}
	return t, nil
}

// Target is one parsed target specification: addresses, or a host name to
// resolve.
type Target struct {
	Host string // a host name, when the specification is one
	v4   []span
	v6   []netip.Addr
}

// Len returns the number of addresses the specification names (0 for a
// host name).
func (t Target) Len() uint64 {
	n := uint64(len(t.v6))
	for _, s := range t.v4 {
		n += uint64(s.hi-s.lo) + 1
	}
	return n
}

// ParseTarget parses one target specification without resolving names.
func ParseTarget(s string) (Target, error) {
	bad := func(col int, msg string, args ...any) (Target, error) {
		return Target{}, &SpecError{Kind: "target", Spec: s, Col: col, Msg: fmt.Sprintf(msg, args...)}
	}
	if s == "" {
		return bad(1, "empty")
	}
	if strings.Contains(s, ":") {
		addr, bitsStr, hasBits := strings.Cut(s, "/")
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" {
			return bad(1, "not an IPv6 address")
		}
		if a.Is4In6() {
			a = a.Unmap()
		}
		if !hasBits {
			if a.Is4() {
				v := addrU32(a)
				return Target{v4: []span{{v, v}}}, nil
			}
			return Target{v6: []netip.Addr{a}}, nil
		}
		bits, err := strconv.Atoi(bitsStr)
		col := len(addr) + 2
		if err != nil || bits < 0 || bits > 128 || a.Is4() {
			return bad(col, "prefix length: want 0 to 128")
		}
		if bits < 128-24 {
			return bad(col, "/%d is more than %d addresses", bits, MaxTargets)
		}
		p := netip.PrefixFrom(a, bits).Masked()
		var out []netip.Addr
		for x := p.Addr(); p.Contains(x); x = x.Next() {
			out = append(out, x)
			if !x.Next().IsValid() {
				break
			}
		}
		return Target{v6: out}, nil
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		bits, err := strconv.Atoi(s[i+1:])
		if err != nil || bits < 0 || bits > 32 || s[i+1:] != strconv.Itoa(bits) {
			return bad(i+2, "prefix length: want 0 to 32")
		}
		if bits < 32-24 {
			return bad(i+2, "/%d is more than %d addresses", bits, MaxTargets)
		}
		a, err := netip.ParseAddr(s[:i])
		if err != nil {
			if looksLikeIPv4(s[:i]) {
				return bad(1, "not an IPv4 address")
			}
			return Target{}, &SpecError{Kind: "target", Spec: s, Col: i + 1, Msg: "a prefix needs an address, not a name"}
		}
		p := netip.PrefixFrom(a, bits).Masked()
		lo := addrU32(p.Addr())
		return Target{v4: []span{{lo, lo | uint32(uint64(1)<<(32-bits)-1)}}}, nil
	}
	if looksLikeIPv4(s) {
		return parseOctets(s)
	}
	if !validHostname(s) {
		for i, c := range s {
			if !(c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z') {
				return bad(i+1, "not an address, prefix, range or host name")
			}
		}
		return bad(1, "not an address, prefix, range or host name")
	}
	return Target{Host: s}, nil
}

// looksLikeIPv4 reports whether s is made of digits, dots, dashes, commas
// and stars only, with three dots: nmap's octet syntax.
func looksLikeIPv4(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == ',' || c == '*') {
			return false
		}
	}
	return strings.Count(s, ".") == 3 || !strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz")
}

func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z') {
				return false
			}
		}
	}
	return true
}

// parseOctets parses nmap's octet ranges: four parts separated by dots,
// each a comma-separated list of numbers, ranges a-b (either end may be
// left out) or *.
func parseOctets(s string) (Target, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		col := len(s) + 1
		if len(parts) > 4 {
			col = len(strings.Join(parts[:4], ".")) + 1
		}
		return Target{}, &SpecError{Kind: "target", Spec: s, Col: col, Msg: "an IPv4 address has four octets"}
	}
	var sets [4][]span
	col := 1
	for i, p := range parts {
		set, err := parseOctet(p)
		if err != nil {
			var se *SpecError
			errors.As(err, &se)
			se.Spec, se.Col = s, col+se.Col-1
			return Target{}, se
		}
		sets[i] = set
		col += len(p) + 1
	}
	combos := uint64(1)
	for _, set := range sets[:3] {
		combos *= octetCount(set)
	}
	if combos*octetCount(sets[3]) > MaxTargets {
		return Target{}, &SpecError{Kind: "target", Spec: s, Col: 1, Msg: fmt.Sprintf("more than %d addresses", MaxTargets)}
	}
	var out []span
	for _, a := range expand(sets[0]) {
		for _, b := range expand(sets[1]) {
			for _, c := range expand(sets[2]) {
				base := uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8
				for _, d := range sets[3] {
					out = append(out, span{base | d.lo, base | d.hi})
				}
			}
		}
	}
	return Target{v4: normalize(out)}, nil
}

func octetCount(set []span) uint64 {
	var n uint64
	for _, s := range set {
		n += uint64(s.hi-s.lo) + 1
	}
	return n
}

func expand(set []span) []uint32 {
	var out []uint32
	for _, s := range set {
		for v := s.lo; v <= s.hi; v++ {
			out = append(out, v)
		}
	}
	return out
}

// parseOctet parses one octet's list; errors carry the column within p.
func parseOctet(p string) ([]span, error) {
	bad := func(col int, msg string) error { return &SpecError{Kind: "target", Col: col, Msg: msg} }
	if p == "" {
		return nil, bad(1, "empty octet")
	}
	var out []span
	col := 1
	for _, item := range strings.Split(p, ",") {
		if item == "*" {
			out = append(out, span{0, 255})
			col += 2
			continue
		}
		loS, hiS, isRange := strings.Cut(item, "-")
		num := func(x string, def uint32, at int) (uint32, error) {
			if x == "" {
				if isRange {
					return def, nil
				}
				return 0, bad(at, "empty octet")
			}
			v, err := strconv.ParseUint(x, 10, 32)
			if err != nil || v > 255 || len(x) > 3 {
				return 0, bad(at, "octet: want 0 to 255")
			}
			return uint32(v), nil
		}
		lo, err := num(loS, 0, col)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = num(hiS, 255, col+len(loS)+1); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, bad(col, "range runs backwards")
			}
		}
		out = append(out, span{lo, hi})
		col += len(item) + 1
	}
	return normalize(out), nil
}

// normalize sorts and merges spans.
func normalize(s []span) []span {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if uint64(x.lo) <= uint64(last.hi)+1 {
			last.hi = max(last.hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// subtract returns a minus b; both are normalized.
func subtract(a, b []span) []span {
	var out []span
	j := 0
	for _, x := range a {
		lo := uint64(x.lo)
		hi := uint64(x.hi)
		for j < len(b) && uint64(b[j].hi) < lo {
			j++
		}
		for k := j; k < len(b) && uint64(b[k].lo) <= hi; k++ {
			if uint64(b[k].lo) > lo {
				out = append(out, span{uint32(lo), b[k].lo - 1})
			}
			lo = uint64(b[k].hi) + 1
		}
		if lo <= hi {
			out = append(out, span{uint32(lo), uint32(hi)})
		}
	}
	return out
}

func addrU32(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }

func u32Addr(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}
