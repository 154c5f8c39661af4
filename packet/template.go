package packet

import (
	"fmt"
	"iter"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Template is a parsed packet expression: a stack of layers whose fields may
// hold several values (lists, ranges, CIDR prefixes). It stands for the set
// of packets of every combination, in Scapy's order, and is expanded lazily.
// A Template is immutable after Resolve and safe for concurrent use by
// several goroutines, each with its own Packet.
type Template struct {
	layers []*layerSpec
	dims   []*fieldSpec // multi-valued fields, slowest first
	radix  []uint64     // packets per step of each dim
	count  uint64
}

type layerSpec struct {
	def    *layerDef
	off    int
	bare   bool // a Raw layer written as a bare string
	fields []*fieldSpec
}

func (l *layerSpec) find(name string) *fieldSpec {
	for _, f := range l.fields {
		if f.def.name == name {
			return f
		}
	}
	return nil
}

type fieldSpec struct {
	def     *fieldDef
	off     int // offset of the value
	nameOff int // offset of the field name
	list    bool
	vals    []value
	n       uint64 // number of values
	layer   int    // index of the layer in the template
	bit     int    // index of the field in its layer's definition
}

type vkind uint8

const (
	vNum vkind = iota
	vRange
	vAddr
	vPrefix
	vName
	vBytes
	vMAC
)

type value struct {
	k          vkind
	lo, hi     uint64
	sym, symHi string // symbolic spellings, for String
	addr       netip.Addr
	pfx        netip.Prefix
	s          string
	mac        [6]byte
	off        int
}

func (t *Template) init() error {
	t.count = 1
	t.dims, t.radix = nil, nil
	for li, l := range t.layers {
		// Scapy's order: within a layer, the field defined last varies
		// slowest; upper layers vary faster than lower ones.
		for _, f := range l.fields {
			f.layer = li
			for bi, fd := range l.def.fields {
				if fd == f.def {
					f.bit = bi
				}
			}
		}
		byDef := make([]*fieldSpec, 0, len(l.fields))
		for bi := len(l.def.fields) - 1; bi >= 0; bi-- {
			for _, f := range l.fields {
				if f.bit == bi {
					byDef = append(byDef, f)
				}
			}
		}
		for _, f := range byDef {
			f.n = 0
			for vi := range f.vals {
				var c uint64
				f.n, c = bits.Add64(f.n, f.vals[vi].count(), 0)
				if c != 0 {
					return errAt(f.off, "field %q expands to more than 2^64-1 values", f.def.name)
				}
			}
			if f.n > 1 {
				hi, lo := bits.Mul64(t.count, f.n)
				if hi != 0 {
					return errAt(f.off, "expression expands to more than 2^64-1 packets")
				}
				t.count = lo
				t.dims = append(t.dims, f)
			}
		}
	}
	t.radix = make([]uint64, len(t.dims))
	r := uint64(1)
	for i := len(t.dims) - 1; i >= 0; i-- {
		t.radix[i] = r
		r *= t.dims[i].n
	}
	return nil
}

// Count returns the number of packets the template stands for.
func (t *Template) Count() uint64 { return t.count }

// Resolver returns the address of a host name written in an address field;
// ipv6 tells which family the field needs. It is supplied by the caller
// (the CLI resolves with DNS); this package never resolves.
type Resolver func(name string, ipv6 bool) (netip.Addr, error)

// Names returns the host names in t that Resolve would look up, in order.
func (t *Template) Names() []string {
	var names []string
	for _, l := range t.layers {
		for _, f := range l.fields {
			for _, v := range f.vals {
				if v.k == vName {
					names = append(names, v.s)
				}
			}
		}
	}
	return names
}

// Resolve replaces every host name in t by the address r returns for it.
// A failure is a *SyntaxError at the name, wrapping r's error. Packets of a
// template with names left unresolved carry the unspecified address there.
func (t *Template) Resolve(r Resolver) error {
	for _, l := range t.layers {
		for _, f := range l.fields {
			for i := range f.vals {
				v := &f.vals[i]
				if v.k != vName {
					continue
				}
				want6 := f.def.kind == kIPv6
				a, err := r(v.s, want6)
				if err != nil {
					return &SyntaxError{Offset: v.off, Msg: fmt.Sprintf("cannot resolve %q: %v", v.s, err), Err: err}
				}
				a = a.Unmap()
				if !a.IsValid() || a.Is6() != want6 {
					return &SyntaxError{Offset: v.off, Msg: fmt.Sprintf("%q resolved to %v, not an %s address", v.s, a, map[bool]string{false: "IPv4", true: "IPv6"}[want6])}
				}
				*v = value{k: vAddr, addr: a.WithZone(""), off: v.off}
			}
		}
	}
	return nil
}

// All returns an iterator over the packets of t, in Scapy's order. The
// iterator reuses one *Packet, changed in place at each step: use it (fill,
// serialise) before the next step, and use At to keep one.
func (t *Template) All() iter.Seq[*Packet] {
	return func(yield func(*Packet) bool) {
		p := t.Packet()
		for i := uint64(0); i < t.count; i++ {
			p.SetIndex(i)
			if !yield(p) {
				return
			}
		}
	}
}

// At returns a new packet: the i-th of t (i < Count).
func (t *Template) At(i uint64) *Packet {
	p := t.Packet()
	p.SetIndex(i)
	return p
}

// String returns the expression in canonical form; Parse(t.String()) gives
// an equal template.
func (t *Template) String() string {
	var b strings.Builder
	for i, l := range t.layers {
		if i > 0 {
			b.WriteByte('/')
		}
		if l.bare {
			b.WriteString(quote(l.fields[0].vals[0].s))
			continue
		}
		b.WriteString(l.def.name)
		b.WriteByte('(')
		inQD := false
		for j, f := range l.fields {
			qd := f.def.group == "qd"
			switch {
			case inQD && !qd:
				b.WriteString("), ")
			case inQD && qd:
				b.WriteString(", ")
			case j > 0:
				b.WriteString(", ")
			}
			if qd && !inQD {
				b.WriteString("qd=DNSQR(")
			}
			inQD = qd
			b.WriteString(f.def.name)
			b.WriteByte('=')
			f.write(&b)
		}
		if inQD {
			b.WriteByte(')')
		}
		b.WriteByte(')')
	}
	return b.String()
}

func (f *fieldSpec) write(b *strings.Builder) {
	if f.list {
		b.WriteByte('[')
	}
	for i := range f.vals {
		if i > 0 {
			b.WriteString(", ")
		}
		f.vals[i].write(b)
	}
	if f.list {
		b.WriteByte(']')
	}
}

func (v *value) write(b *strings.Builder) {
	num := func(n uint64, sym string) {
		if sym != "" {
			b.WriteString(quote(sym))
		} else {
			b.WriteString(strconv.FormatUint(n, 10))
		}
	}
	switch v.k {
	case vNum:
		num(v.lo, v.sym)
	case vRange:
		b.WriteByte('(')
		num(v.lo, v.sym)
		b.WriteString(", ")
		num(v.hi, v.symHi)
		b.WriteByte(')')
	case vAddr:
		b.WriteString(quote(v.addr.String()))
	case vPrefix:
		b.WriteString(quote(v.pfx.String()))
	case vName, vBytes:
		b.WriteString(quote(v.s))
	case vMAC:
		b.WriteString(quote(fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", v.mac[0], v.mac[1], v.mac[2], v.mac[3], v.mac[4], v.mac[5])))
	}
}

// quote writes s as a double-quoted string of the expression language.
func quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(append(b, '"'))
}

const hexDigits = "0123456789abcdef"
