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
	key := convKey{lo: src, hi: dst, stream: stream}
	if dst.less(src) {
		key.lo, key.hi = dst, src
	}
	i, ok := t.index[key]
	if !ok {
		i = int32(len(t.rows))
		t.index[key] = i
		t.rows = append(t.rows, convRec{a: src, b: dst, stream: stream, start: fp.rel, stop: fp.rel})
	}
	r := &t.rows[i]
	if fp.rel > r.stop {
		r.stop = fp.rel
	} else if fp.rel < r.start {
		r.start = fp.rel
	}
	if src == r.a && dst == r.b {
		r.framesAB++
		r.bytesAB += fp.length
	} else {
		r.framesBA++
		r.bytesBA += fp.length
	}
}

// Conversations returns the table of kind k, sorted as tshark prints it:
// by total frames, most first, ties in order of appearance. It returns nil
// for a table that the Config did not select.
func (a *Analyzer) Conversations(k Kind) []Conversation {
	t := a.convs[kindIndex(k)]
	if t == nil {
		return nil
	}
	out := make([]Conversation, len(t.rows))
	for i, r := range t.rows {
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
		out[i] = c
	}
	slices.SortStableFunc(out, func(x, y Conversation) int { return cmp.Compare(y.Frames(), x.Frames()) })
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

func (t *epTable) row(k endpointKey) *epRec {
	i, ok := t.index[k]
	if !ok {
		i = int32(len(t.rows))
		t.index[k] = i
		t.rows = append(t.rows, epRec{key: k})
	}
	return &t.rows[i]
}

func (t *epTable) add(src, dst endpointKey, length uint64) {
	s := t.row(src)
	s.txFrames++
	s.txBytes += length
	d := t.row(dst)
	d.rxFrames++
	d.rxBytes += length
}

// Endpoints returns the endpoint table of kind k, sorted by frames, most
// first, ties in order of appearance; nil for a table not selected.
func (a *Analyzer) Endpoints(k Kind) []Endpoint {
	t := a.eps[kindIndex(k)]
	if t == nil {
		return nil
	}
	out := make([]Endpoint, len(t.rows))
	for i, r := range t.rows {
		e := Endpoint{Kind: k, Addr: r.key.addr.address(), TxFrames: r.txFrames, TxBytes: r.txBytes, RxFrames: r.rxFrames, RxBytes: r.rxBytes}
		if k == TCP || k == UDP {
			e.Port = r.key.port
		}
		if a.cfg.Locator != nil && e.Addr.IP.IsValid() {
			e.Country, e.ASN = a.cfg.Locator.Locate(e.Addr.IP)
		}
		out[i] = e
	}
	slices.SortStableFunc(out, func(x, y Endpoint) int { return cmp.Compare(y.Frames(), x.Frames()) })
	return out
}

// tcpStreams numbers TCP conversations as tshark's tcp.stream: in order of
// first appearance, with a new number when a SYN with a new initial
// sequence number reuses the addresses and ports of an earlier one.
type tcpStreams struct {
	index map[convKey]int32 // stream field unused
	rows  []tcpState
}

type tcpState struct {
	a      endpointKey // sender of the first packet
	synSeq uint32
	sawSyn bool
	sawFin bool
}

func (s *tcpStreams) init() { s.index = make(map[convKey]int32) }

// Streams returns how many TCP streams were seen.
func (a *Analyzer) Streams() int { return len(a.tcp.rows) }

// stream returns the stream number of a TCP packet and whether it goes from
// the stream's first sender.
func (s *tcpStreams) stream(src, dst endpointKey, fp *flowPacket) (int, bool) {
	key := convKey{lo: src, hi: dst}
	if dst.less(src) {
		key.lo, key.hi = dst, src
	}
	syn := fp.tcpFlags&(flagSYN|flagACK) == flagSYN
	i, ok := s.index[key]
	if ok && syn {
		st := &s.rows[i]
		if st.sawSyn && st.synSeq != fp.seq && (st.sawFin || st.a == src) {
			ok = false
		}
	}
	if !ok {
		i = int32(len(s.rows))
		s.index[key] = i
		s.rows = append(s.rows, tcpState{a: src})
	}
	st := &s.rows[i]
	if syn && !st.sawSyn {
		st.sawSyn, st.synSeq = true, fp.seq
	}
	if fp.tcpFlags&(flagFIN|flagRST) != 0 {
		st.sawFin = true
	}
	return int(i), st.a == src
}
