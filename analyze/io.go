package analyze

import "time"

// Interval is one row of IO statistics (tshark -z io,stat,N).
type Interval struct {
	Start  time.Duration // relative to the first packet
	End    time.Duration // Start + the interval, or the capture's end
	Frames uint64
	Bytes  uint64
}

type ioStats struct {
	interval time.Duration
	frames   []uint64
	bytes    []uint64
}

func (s *ioStats) add(rel time.Duration, length uint64) {
	if s.interval <= 0 || rel < 0 {
		return
	}
	i := int(rel / s.interval)
	for len(s.frames) <= i {
		s.frames = append(s.frames, 0)
		s.bytes = append(s.bytes, 0)
	}
	s.frames[i]++
	s.bytes[i] += length
}

// IO returns frames and bytes per interval from the first packet to the
// last, with empty intervals included; nil when the Config set no interval.
// As in tshark, the last interval ends at the capture's end.
func (a *Analyzer) IO() []Interval {
	s := &a.io
	if s.interval <= 0 {
		return nil
	}
	dur := a.Duration()
	n := int(dur/s.interval) + 1
	if n < len(s.frames) {
		n = len(s.frames)
	}
	out := make([]Interval, 0, n)
	for i := range n {
		iv := Interval{Start: time.Duration(i) * s.interval, End: time.Duration(i+1) * s.interval}
		if iv.End > dur {
			iv.End = dur
		}
		if i < len(s.frames) {
			iv.Frames, iv.Bytes = s.frames[i], s.bytes[i]
		}
		out = append(out, iv)
	}
	return out
}
