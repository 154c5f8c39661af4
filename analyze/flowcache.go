package analyze

// The flow cache makes the common packet, one IP header and one TCP or UDP
// header (under at most one Ethernet header), cost one map lookup: its
// entry, made by the first packet of the flow, holds the row of every table
// the packet updates, and the packet's direction in each. Rows are found by
// index in their table, so the entries stay valid as tables grow.
// Everything that can change from one packet to the next of a flow is still
// computed per packet: TCP stream state, and whether a SYN renews the
// stream (then the entry is made again, and a renewal invalidates every TCP
// entry made before it: the other direction's holds the old stream too).

// flowKey is a packet's identity in the cache, directed: its Ethernet
// source and destination, its IP source and destination, its ports, and
// which headers it has. IPv4 packets, most of them, use the smaller
// flowKey4, which hashes and compares faster.
type flowKey struct {
	mac          [12]byte // source, destination; zero without Ethernet
	ip           [32]byte // source, destination
	sport, dport uint16
	shape        uint16 // shapeEth | shapeUDP
}

type flowKey4 struct {
	mac          [12]byte
	ip           [8]byte
	sport, dport uint16
	shape        uint16
}

const (
	shapeEth = 1 << iota
	shapeUDP
)

// flowLevel is the rows one layer of a packet updates in its kind's tables
// (-1: table not kept).
type flowLevel struct {
	conv     int32
	ab       bool // the packet goes from the conversation's A to its B
	src, dst int32
}

type flowEntry struct {
	eth, ip, l4 flowLevel
	stream      int32 // TCP stream
	fromA       bool  // the packet goes from the stream's first sender
	reused      uint32
}

type flowCache struct {
	off     bool              // for tests: every packet takes the general path
	index   map[flowKey]int32 // IPv6
	index4  map[flowKey4]int32
	entries []flowEntry
}

// cacheable reports whether a decoded packet may take the flow cache.
func (c *flowCache) cacheable(fp *flowPacket) bool {
	return !c.off && fp.nIP == 1 && fp.nL4 == 1 && fp.nEth <= 1
}

func keyOf(fp *flowPacket) flowKey {
	var k flowKey
	if fp.nEth == 1 {
		k.shape |= shapeEth
		copy(k.mac[:6], fp.eth[0][0].b[:6])
		copy(k.mac[6:], fp.eth[0][1].b[:6])
	}
	ip := &fp.ip[0]
	copy(k.ip[:16], ip.src.b[:])
	copy(k.ip[16:], ip.dst.b[:])
	r := &fp.l4[0]
	if r.kind == UDP {
		k.shape |= shapeUDP
	}
	k.sport, k.dport = r.src.port, r.dst.port
	return k
}

func key4Of(fp *flowPacket) flowKey4 {
	var k flowKey4
	if fp.nEth == 1 {
		k.shape |= shapeEth
		copy(k.mac[:6], fp.eth[0][0].b[:6])
		copy(k.mac[6:], fp.eth[0][1].b[:6])
	}
	ip := &fp.ip[0]
	copy(k.ip[:4], ip.src.b[:4])
	copy(k.ip[4:], ip.dst.b[:4])
	r := &fp.l4[0]
	if r.kind == UDP {
		k.shape |= shapeUDP
	}
	k.sport, k.dport = r.src.port, r.dst.port
	return k
}

// entry returns the index of the packet's entry, adding one for a new flow
// (its rows not resolved yet).
func (c *flowCache) entry(fp *flowPacket) (int32, bool) {
	if fp.ip[0].kind == IPv4 {
		k := key4Of(fp)
		if j, ok := c.index4[k]; ok {
			return j, true
		}
		j := int32(len(c.entries))
		c.index4[k] = j
		c.entries = append(c.entries, flowEntry{})
		return j, false
	}
	k := keyOf(fp)
	if j, ok := c.index[k]; ok {
		return j, true
	}
	j := int32(len(c.entries))
	c.index[k] = j
	c.entries = append(c.entries, flowEntry{})
	return j, false
}

// resolve finds or creates the rows a packet of the flow updates.
func (a *Analyzer) resolve(fp *flowPacket) flowEntry {
	var e flowEntry
	if fp.nEth == 1 {
		e.eth = a.level(0, endpointKey{addr: fp.eth[0][0]}, endpointKey{addr: fp.eth[0][1]}, 0, fp)
	} else {
		e.eth = flowLevel{conv: -1, src: -1, dst: -1}
	}
	ip := &fp.ip[0]
	i := 1
	if ip.kind == IPv6 {
		i = 2
	}
	e.ip = a.level(i, endpointKey{addr: ip.src}, endpointKey{addr: ip.dst}, 0, fp)
	r := &fp.l4[0]
	if r.kind == TCP {
		e.stream = a.tcp.lookup(r)
		e.fromA = a.tcp.rows[e.stream].a == r.src
		e.l4 = a.level(3, r.src, r.dst, uint32(e.stream)+1, fp)
	} else {
		e.stream = -1
		e.l4 = a.level(4, r.src, r.dst, 0, fp)
	}
	e.reused = a.tcp.reused // after the lookup, which may renew the stream
	return e
}

func (a *Analyzer) level(i int, src, dst endpointKey, stream uint32, fp *flowPacket) flowLevel {
	l := flowLevel{conv: -1, src: -1, dst: -1}
	if t := a.convs[i]; t != nil {
		l.conv, l.ab = t.lookup(src, dst, stream, fp.rel)
	}
	if t := a.eps[i]; t != nil {
		l.src, l.dst = t.row(src), t.row(dst)
	}
	return l
}

func (a *Analyzer) count(i int, l *flowLevel, fp *flowPacket) {
	if l.conv >= 0 {
		a.convs[i].rows[l.conv].count(l.ab, fp.rel, fp.length)
	}
	if l.src >= 0 {
		t := a.eps[i]
		t.rows[l.src].sent(fp.length)
		t.rows[l.dst].received(fp.length)
	}
}

// accountCached is account for a packet that cacheable accepts.
func (a *Analyzer) accountCached(fp *flowPacket) int {
	c := &a.flows
	r := &fp.l4[0]
	j, ok := c.entry(fp)
	if !ok || r.kind == TCP && (c.entries[j].reused != a.tcp.reused || renews(&a.tcp, c.entries[j].stream, r)) {
		c.entries[j] = a.resolve(fp)
	}
	e := &c.entries[j]
	a.count(0, &e.eth, fp)
	if fp.ip[0].kind == IPv6 {
		a.count(2, &e.ip, fp)
	} else {
		a.count(1, &e.ip, fp)
	}
	if r.kind == UDP {
		a.count(4, &e.l4, fp)
		if len(r.payload) > 0 {
			a.app.udpPayload(r)
		}
		return -1
	}
	a.count(3, &e.l4, fp)
	stream := int(e.stream)
	a.tcp.rows[stream].note(r)
	if a.fol != nil && stream == a.fol.stream {
		a.fol.add(r)
	}
	if len(r.payload) > 0 {
		a.app.tcpPayload(stream, e.fromA, r)
	}
	return stream
}

// renews reports whether a TCP packet of stream i starts a new stream on
// the same addresses and ports, as tcpStreams.lookup decides.
func renews(s *tcpStreams, i int32, fp *l4Rec) bool {
	if !isSyn(fp) {
		return false
	}
	st := &s.rows[i]
	return st.sawSyn && st.synSeq != fp.seq && (st.sawFin || st.a == fp.src)
}
