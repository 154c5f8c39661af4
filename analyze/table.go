package analyze

import (
	"cmp"
	"slices"
	"time"
)

// Conversation is one row of a conversation table (tshark -z conv).
type Conversation struct {
	Kind   Kind
	A, B   Address // A sent the first packet
	PortA  uint16  // TCP and UDP only
	PortB  uint16
	Stream int // TCP stream number (tcp.stream); -1 for other kinds

	FramesAB, BytesAB uint64 // from A to B (tshark's "->")
	FramesBA, BytesBA uint64 // from B to A (tshark's "<-")

	Start    time.Duration // first packet, relative to the capture's first
	Duration time.Duration // from the first packet to the last
}

// Frames returns the frames in both directions.
func (c Conversation) Frames() uint64 { return c.FramesAB + c.FramesBA }

// Bytes returns the bytes in both directions.
func (c Conversation) Bytes() uint64 { return c.BytesAB + c.BytesBA }

type convKey struct {
	lo, hi endpointKey
	stream uint32 // TCP stream + 1; 0 for other kinds
}

type convRec struct {
	a, b              endpointKey
	stream            uint32
	framesAB, bytesAB uint64
	framesBA, bytesBA uint64
	start, stop       time.Duration
}

// table is one conversation table; rows keep their creation order, which
// breaks ties in the output as in tshark.
type table struct {
	kind  Kind
	index map[convKey]int32
	rows  []convRec
}

func newTable(k Kind) *table {
	return &table{kind: k, index: make(map[convKey]int32)}
}

func (t *table) add(src, dst endpointKey, stream uint32, fp *flowPacket) {
	i, ab := t.lookup(src, dst, stream, fp.rel)
	t.rows[i].count(ab, fp.rel, fp.length)
}

// lookup returns the row of the conversation between src and dst (created
// at rel if new) and whether src is its A side.
func (t *table) lookup(src, dst endpointKey, stream uint32, rel time.Duration) (int32, bool) {
	key := convKey{lo: src, hi: dst, stream: stream}
	if dst.less(src) {
		key.lo, key.hi = dst, src
	}
	i, ok := t.index[key]
	if !ok {
		i = int32(len(t.rows))
		t.index[key] = i
		t.rows = append(t.rows, convRec{a: src, b: dst, stream: stream, start: rel, stop: rel})
	}
	r := &t.rows[i]
	return i, src == r.a && dst == r.b
}

// count adds a packet of length bytes at rel, from A to B when ab.
func (r *convRec) count(ab bool, rel time.Duration, length uint64) {
	if rel > r.stop {
		r.stop = rel
	} else if rel < r.start {
		r.start = rel
	}
	if ab {
		r.framesAB++
		r.bytesAB += length
	} else {
		r.framesBA++
		r.bytesBA += length
	}
}

// byFrames returns the indices of n rows ordered by frames, most first, ties
// in index order: the order of a stable sort, got by sorting small pairs
// rather than whole rows.
func byFrames(n int, frames func(i int) uint64) []int32 {
	type pair struct {
		frames uint64
		i      int32
	}
	ps := make([]pair, n)
	for i := range ps {
		ps[i] = pair{frames(i), int32(i)}
	}
	slices.SortFunc(ps, func(x, y pair) int {
		if c := cmp.Compare(y.frames, x.frames); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	})
	order := make([]int32, n)
	for j, p := range ps {
		order[j] = p.i
	}
	return order
}

// Conversations returns the table of kind k, sorted as tshark prints it:
// by total frames, most first, ties in order of appearance. It returns nil
// for a table that the Config did not select.
func (a *Analyzer) Conversations(k Kind) []Conversation {
	t := a.convs[kindIndex(k)]
	if t == nil {
		return nil
	}
	order := byFrames(len(t.rows), func(i int) uint64 { return t.rows[i].framesAB + t.rows[i].framesBA })
	out := make([]Conversation, len(t.rows))
	for j, i := range order {
		r := &t.rows[i]
		c := Conversation{
			Kind: k, A: r.a.addr.address(), B: r.b.addr.address(), Stream: -1,
			FramesAB: r.framesAB, BytesAB: r.bytesAB, FramesBA: r.framesBA, BytesBA: r.bytesBA,
			Start: r.start, Duration: r.stop - r.start,
		}
		if k == TCP || k == UDP {
			c.PortA, c.PortB = r.a.port, r.b.port
		}
		if k == TCP {
			c.Stream = int(r.stream) - 1
		}
		out[j] = c
	}
	return out
}

func kindIndex(k Kind) int {
	for i := range 5 {
		if k == 1<<i {
			return i
		}
	}
	return 0
}

// Endpoint is one row of an endpoint table (tshark -z endpoints).
type Endpoint struct {
	Kind              Kind
	Addr              Address
	Port              uint16 // TCP and UDP only
	TxFrames, TxBytes uint64 // sent by this endpoint
	RxFrames, RxBytes uint64 // received by it
	Country, ASN      string // from the Config's Locator, when set
}

// Frames returns the frames sent and received.
func (e Endpoint) Frames() uint64 { return e.TxFrames + e.RxFrames }

// Bytes returns the bytes sent and received.
func (e Endpoint) Bytes() uint64 { return e.TxBytes + e.RxBytes }

type epRec struct {
	key               endpointKey
	txFrames, txBytes uint64
	rxFrames, rxBytes uint64
}

type epTable struct {
	kind  Kind
	index map[endpointKey]int32
	rows  []epRec
}

func newEpTable(k Kind) *epTable {
	return &epTable{kind: k, index: make(map[endpointKey]int32)}
}

// row returns the index of k's row, created if new.
func (t *epTable) row(k endpointKey) int32 {
	i, ok := t.index[k]
	if !ok {
		i = int32(len(t.rows))
		t.index[k] = i
		t.rows = append(t.rows, epRec{key: k})
	}
	return i
}

func (t *epTable) add(src, dst endpointKey, length uint64) {
	t.rows[t.row(src)].sent(length)
	t.rows[t.row(dst)].received(length)
}

func (r *epRec) sent(length uint64) {
	r.txFrames++
	r.txBytes += length
}

func (r *epRec) received(length uint64) {
	r.rxFrames++
	r.rxBytes += length
}

// Endpoints returns the endpoint table of kind k, sorted by frames, most
// first, ties in order of appearance; nil for a table not selected.
func (a *Analyzer) Endpoints(k Kind) []Endpoint {
	t := a.eps[kindIndex(k)]
	if t == nil {
		return nil
	}
	order := byFrames(len(t.rows), func(i int) uint64 { return t.rows[i].txFrames + t.rows[i].rxFrames })
	out := make([]Endpoint, len(t.rows))
	for j, i := range order {
		r := &t.rows[i]
		e := Endpoint{Kind: k, Addr: r.key.addr.address(), TxFrames: r.txFrames, TxBytes: r.txBytes, RxFrames: r.rxFrames, RxBytes: r.rxBytes}
		if k == TCP || k == UDP {
			e.Port = r.key.port
		}
		if a.cfg.Locator != nil && e.Addr.IP.IsValid() {
			e.Country, e.ASN = a.cfg.Locator.Locate(e.Addr.IP)
		}
		out[j] = e
	}
	return out
}

// tcpStreams numbers TCP conversations as tshark's tcp.stream: in order of
// first appearance, with a new number when a SYN with a new initial
// sequence number reuses the addresses and ports of an earlier one.
type tcpStreams struct {
	index map[convKey]int32 // stream field unused
	rows  []tcpState
	// reused counts the streams that took over the addresses and ports of
	// an earlier one: a flow cache entry made before holds a stale number.
	reused uint32
}

type tcpState struct {
	a      endpointKey // sender of the first packet
	synSeq uint32
	sawSyn bool
	sawFin bool
}

// note records what a packet of the stream says of its start and end.
func (st *tcpState) note(fp *l4Rec) {
	if isSyn(fp) && !st.sawSyn {
		st.sawSyn, st.synSeq = true, fp.seq
	}
	if fp.flags&(flagFIN|flagRST) != 0 {
		st.sawFin = true
	}
}

func (s *tcpStreams) init() { s.index = make(map[convKey]int32) }

// Streams returns how many TCP streams were seen.
func (a *Analyzer) Streams() int { return len(a.tcp.rows) }

// isSyn reports whether a TCP packet is a SYN without ACK, which may start
// a new stream on the addresses and ports of an earlier one.
func isSyn(fp *l4Rec) bool { return fp.flags&(flagSYN|flagACK) == flagSYN }

// stream returns the stream number of a TCP packet and whether it goes from
// the stream's first sender.
func (s *tcpStreams) stream(fp *l4Rec) (int, bool) {
	i := s.lookup(fp)
	st := &s.rows[i]
	st.note(fp)
	return int(i), st.a == fp.src
}

// lookup returns the stream of a TCP packet, a new one when the packet
// starts one, without accounting the packet's flags.
func (s *tcpStreams) lookup(fp *l4Rec) int32 {
	src, dst := fp.src, fp.dst
	key := convKey{lo: src, hi: dst}
	if dst.less(src) {
		key.lo, key.hi = dst, src
	}
	i, ok := s.index[key]
	if ok && renews(s, i, fp) {
		ok = false
		s.reused++
	}
	if !ok {
		i = int32(len(s.rows))
		s.index[key] = i
		s.rows = append(s.rows, tcpState{a: src})
	}
	return i
}
