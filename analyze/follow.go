package analyze

import "net/netip"

// Stream is a followed TCP stream (tshark -z follow,tcp,ascii,N): its two
// nodes and its payload in chunks, consecutive segments of one direction
// joined.
type Stream struct {
	Number int
	Nodes  [2]netip.AddrPort // Node 0 sent the stream's first packet
	Chunks []Chunk
}

// Chunk is payload sent by one node.
type Chunk struct {
	Node int // 0 or 1
	Data []byte
}

type follow struct {
	stream int
	seen   bool
	nodes  [2]endpointKey
	next   [2]uint32 // next expected sequence number per node
	inited [2]bool
	chunks []Chunk
}

func (f *follow) add(src, dst endpointKey, fp *flowPacket) {
	if !f.seen {
		f.seen = true
		f.nodes = [2]endpointKey{src, dst}
	}
	node := 0
	if src != f.nodes[0] {
		node = 1
	}
	seq := fp.seq
	if fp.tcpFlags&flagSYN != 0 {
		seq++
		f.next[node], f.inited[node] = seq, true
	}
	data := fp.payload
	if len(data) == 0 {
		return
	}
	if f.inited[node] {
		// Drop what was already delivered (retransmissions), keep the rest.
		if d := int32(f.next[node] - seq); d > 0 {
			if int(d) >= len(data) {
				return
			}
			data = data[d:]
			seq += uint32(d)
		}
	}
	f.next[node], f.inited[node] = seq+uint32(len(data)), true
	if n := len(f.chunks); n > 0 && f.chunks[n-1].Node == node {
		f.chunks[n-1].Data = append(f.chunks[n-1].Data, data...)
		return
	}
	f.chunks = append(f.chunks, Chunk{Node: node, Data: append([]byte(nil), data...)})
}

// Follow returns the followed TCP stream, or nil when the Config followed
// none or the stream did not occur.
func (a *Analyzer) Follow() *Stream {
	if a.fol == nil || !a.fol.seen {
		return nil
	}
	s := &Stream{Number: a.fol.stream, Chunks: a.fol.chunks}
	for i, n := range a.fol.nodes {
		ad := n.addr.address()
		s.Nodes[i] = netip.AddrPortFrom(ad.IP, n.port)
	}
	return s
}
