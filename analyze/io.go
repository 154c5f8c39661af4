package analyze

import (
	"cmp"
	"slices"
	"time"
)

// Interval is one row of IO statistics (tshark -z io,stat,N).
type Interval struct {
	Start  time.Duration // relative to the first packet
	End    time.Duration // Start + the interval, or the capture's end
	Frames uint64
	Bytes  uint64
}

// ProtocolIO is the IO statistics of one protocol (Config.IOProtocols):
// the frames and bytes of the packets whose innermost protocol it is.
type ProtocolIO struct {
	Name          string // as the hierarchy names it: "dns", "tcp", "icmp", "arp", ...
	Frames, Bytes uint64 // over the whole capture
	Intervals     []Interval
}

// defaultFirstInterval is where an IOLimit with no Interval starts.
const defaultFirstInterval = time.Millisecond

type ioStats struct {
	interval time.Duration
	limit    int // at most this many intervals (0: no bound)
	frames   []uint64
	bytes    []uint64
	// per innermost protocol, when Config.IOProtocols: indexed by proto
	pframes [][]uint64
	pbytes  [][]uint64
}

func (s *ioStats) init(cfg Config) {
	s.interval, s.limit = cfg.Interval, cfg.IOLimit
	if s.limit > 0 && s.interval <= 0 {
		s.interval = defaultFirstInterval
	}
	if cfg.IOProtocols && s.interval > 0 {
		s.pframes = make([][]uint64, len(protoNames))
		s.pbytes = make([][]uint64, len(protoNames))
	}
}

// index returns the interval of rel, widening the intervals first if rel
// lies beyond the limit; -1 when no interval is kept.
func (s *ioStats) index(rel time.Duration) int {
	if s.interval <= 0 || rel < 0 {
		return -1
	}
	i := int(rel / s.interval)
	for s.limit > 0 && i >= s.limit {
		s.coarsen()
		i = int(rel / s.interval)
	}
	return i
}

// coarsen doubles the interval, merging neighbours: the counts stay exact,
// at half the resolution.
func (s *ioStats) coarsen() {
	s.interval *= 2
	merge := func(v []uint64) []uint64 {
		for i := range v {
			if i%2 == 0 {
				v[i/2] = v[i]
			} else {
				v[i/2] += v[i]
			}
		}
		return v[:(len(v)+1)/2]
	}
	s.frames, s.bytes = merge(s.frames), merge(s.bytes)
	for p := range s.pframes {
		s.pframes[p], s.pbytes[p] = merge(s.pframes[p]), merge(s.pbytes[p])
	}
}

func grow(v []uint64, i int) []uint64 {
	for len(v) <= i {
		v = append(v, 0)
	}
	return v
}

// add counts a packet at rel and returns its interval (-1: none kept).
func (s *ioStats) add(rel time.Duration, length uint64) int {
	i := s.index(rel)
	if i < 0 {
		return i
	}
	s.frames, s.bytes = grow(s.frames, i), grow(s.bytes, i)
	s.frames[i]++
	s.bytes[i] += length
	return i
}

// addProto counts a packet for its innermost protocol p in interval i,
// the one add returned for it.
func (s *ioStats) addProto(p proto, i int, length uint64) {
	if i < 0 || s.pframes == nil {
		return
	}
	s.pframes[p], s.pbytes[p] = grow(s.pframes[p], i), grow(s.pbytes[p], i)
	s.pframes[p][i]++
	s.pbytes[p][i] += length
}

// IO returns frames and bytes per interval from the first packet to the
// last, with empty intervals included; nil when the Config set no interval.
// As in tshark, the last interval ends at the capture's end. With an
// IOLimit the interval is the one the capture's span needed: the Config's
// Interval (or 1ms) doubled as often as it took to fit.
func (a *Analyzer) IO() []Interval {
	s := &a.io
	if s.interval <= 0 {
		return nil
	}
	return s.rows(a.Duration(), s.frames, s.bytes)
}

// rows lays frames and bytes out as intervals covering dur.
func (s *ioStats) rows(dur time.Duration, frames, bytes []uint64) []Interval {
	n := int(dur/s.interval) + 1
	if n < len(frames) {
		n = len(frames)
	}
	if s.limit > 0 && n > s.limit {
		n = s.limit
	}
	out := make([]Interval, 0, n)
	for i := range n {
		iv := Interval{Start: time.Duration(i) * s.interval, End: time.Duration(i+1) * s.interval}
		if iv.End > dur {
			iv.End = dur
		}
		if i < len(frames) {
			iv.Frames, iv.Bytes = frames[i], bytes[i]
		}
		out = append(out, iv)
	}
	return out
}

// IOProtocols returns the IO statistics per innermost protocol (see
// Config.IOProtocols), most bytes first, each with the intervals IO
// returns; nil when the Config did not ask for them.
func (a *Analyzer) IOProtocols() []ProtocolIO {
	s := &a.io
	if s.pframes == nil {
		return nil
	}
	dur := a.Duration()
	var out []ProtocolIO
	for p := range s.pframes {
		if len(s.pframes[p]) == 0 {
			continue
		}
		pio := ProtocolIO{Name: protoNames[p], Intervals: s.rows(dur, s.pframes[p], s.pbytes[p])}
		for _, iv := range pio.Intervals {
			pio.Frames += iv.Frames
			pio.Bytes += iv.Bytes
		}
		out = append(out, pio)
	}
	slices.SortStableFunc(out, func(x, y ProtocolIO) int {
		if c := cmp.Compare(y.Bytes, x.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(x.Name, y.Name)
	})
	return out
}
