package scan

import (
	"net"
	"testing"
)

func BenchmarkPermutation(b *testing.B) {
	p := NewPermutation(65536*65536, 1)
	b.ReportAllocs()
	var i, sink uint64
	for b.Loop() {
		sink ^= p.At(i)
		i++
	}
	_ = sink
}

func BenchmarkBuildProbe(b *testing.B) {
	k := sipKey{1, 2}
	t := newFrameTemplate(net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}, [4]byte{198, 18, 0, 1}, 0x02)
	buf := make([]byte, synFrameLen)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		sport := k.srcPort(i, 0)
		c := k.cookie(0xc6120002, uint16(i), sport)
		buildProbe(buf, &t, 0xc6120002, uint16(i), sport, c, uint16(c), false)
		i++
	}
}

func BenchmarkParseReply(b *testing.B) {
	f := synAck()
	var r reply
	b.ReportAllocs()
	for b.Loop() {
		parseReply(f, 0xc6120001, &r)
	}
}

// synAck is a SYN-ACK from 198.18.0.2:22 to 198.18.0.1:61000.
func synAck() []byte {
	t := newFrameTemplate(net.HardwareAddr{2, 0, 0, 0, 0, 2}, net.HardwareAddr{2, 0, 0, 0, 0, 1}, [4]byte{198, 18, 0, 2}, 0x12)
	f := make([]byte, synFrameLen)
	buildProbe(f, &t, 0xc6120001, 61000, 22, 7, 1, false)
	f[34+8], f[34+9], f[34+10], f[34+11] = 0, 0, 0, 8 // ack 8
	return f
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	p := NewPermutation(1<<32, 1)
	k := sipKey{1, 2}
	tm := newFrameTemplate(net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}, [4]byte{198, 18, 0, 1}, 0x02)
	buf := make([]byte, synFrameLen)
	f := synAck()
	var r reply
	n := testing.AllocsPerRun(1000, func() {
		idx := p.At(12345)
		sport := k.srcPort(idx, 1)
		buildProbe(buf, &tm, 0xc6120002, 80, sport, k.cookie(0xc6120002, 80, sport), 1, false)
		parseReply(f, 0xc6120001, &r)
	})
	if n != 0 {
		t.Errorf("%v allocations per probe and reply", n)
	}
}

func TestPermutationIsABijection(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 100, 1000, 65537} {
		p := NewPermutation(n, 42)
		seen := make([]bool, n)
		for i := range n {
			v := p.At(i)
			if v >= n || seen[v] {
				t.Fatalf("n=%d: At(%d)=%d repeated or out of range", n, i, v)
			}
			seen[v] = true
		}
		if n >= 100 {
			q := NewPermutation(n, 43)
			same := 0
			for i := range n {
				if p.At(i) == q.At(i) {
					same++
				}
			}
			if same > int(n/10) {
				t.Errorf("n=%d: seeds 42 and 43 agree on %d positions", n, same)
			}
		}
	}
}

func TestShardsPartition(t *testing.T) {
	for _, total := range []uint64{0, 1, 10, 1001} {
		for _, n := range []uint64{1, 2, 3, 7} {
			var sum uint64
			seen := map[uint64]bool{}
			for i := range n {
				s := Shard{I: i, N: n}
				for j := range s.positions(total) {
					pos := s.position(j)
					if pos >= total || seen[pos] {
						t.Fatalf("total %d shard %d/%d: position %d repeated or out of range", total, i, n, pos)
					}
					seen[pos] = true
				}
				sum += s.positions(total)
			}
			if sum != total {
				t.Errorf("total %d in %d shards: %d positions", total, n, sum)
			}
		}
	}
}

func TestProbeChecksums(t *testing.T) {
	tm := newFrameTemplate(net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}, [4]byte{198, 18, 0, 1}, 0x02)
	f := make([]byte, synFrameLen)
	buildProbe(f, &tm, 0xc6120002, 443, 61234, 0xdeadbeef, 7, false)
	if checksum(0, f[14:34]) != 0 {
		t.Error("IPv4 header checksum does not verify")
	}
	pseudo := uint32(0xc612) + 0x0001 + 0xc612 + 0x0002 + 6 + 20
	if checksum(pseudo, f[34:54]) != 0 {
		t.Error("TCP checksum does not verify")
	}
}

// FuzzParseReply: no frame, however malformed, makes the parser panic or
// read out of bounds.
func FuzzParseReply(f *testing.F) {
	f.Add(synAck())
	icmp := make([]byte, 14+20+8+20+8)
	icmp[12], icmp[14], icmp[23] = 0x08, 0x45, 1
	copy(icmp[30:34], []byte{198, 18, 0, 1})
	icmp[34] = 3
	icmp[42], icmp[51] = 0x45, 6
	copy(icmp[54:58], []byte{198, 18, 0, 1})
	f.Add(icmp)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r reply
		parseReply(b, 0xc6120001, &r)
	})
}
