package analyze_test

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"sonde/analyze"
)

// TestIOLimitWidensIntervals feeds packets over ten seconds into an
// Analyzer bounded to 8 intervals and checks that the interval doubled from
// 1ms until the span fitted, with no packet lost and the per-protocol rows
// summing to the totals.
func TestIOLimitWidensIntervals(t *testing.T) {
	a := analyze.New(analyze.Config{IOLimit: 8, IOProtocols: true})
	ts := time.Unix(1700000000, 0)
	const n = 100
	var bytes uint64
	for i := range n {
		p := tcpFrame(t, i%3, i%2 == 0, "A", uint32(i), nil)
		if i%5 == 0 {
			p = tcpFrame(t, 0, true, "PA", 1, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		}
		bytes += uint64(len(p))
		a.Add(p, ts.Add(time.Duration(i)*100*time.Millisecond), len(p), layers.LinkTypeEthernet)
	}
	rows := a.IO()
	if len(rows) == 0 || len(rows) > 8 {
		t.Fatalf("%d intervals, want 1 to 8", len(rows))
	}
	width := rows[0].End - rows[0].Start
	// 9.9s of capture in at most 8 intervals: 1ms doubled to 2^11 ms.
	if want := 2048 * time.Millisecond; width != want {
		t.Errorf("interval %v, want %v", width, want)
	}
	var frames, sum uint64
	for _, r := range rows {
		frames += r.Frames
		sum += r.Bytes
	}
	if frames != n || sum != bytes {
		t.Errorf("intervals hold %d frames, %d bytes; want %d, %d", frames, sum, n, bytes)
	}
	protos := a.IOProtocols()
	names := map[string]uint64{}
	var pf, pb uint64
	for _, p := range protos {
		if len(p.Intervals) != len(rows) {
			t.Errorf("%s: %d intervals, IO has %d", p.Name, len(p.Intervals), len(rows))
		}
		for i, iv := range p.Intervals {
			if iv.Start != rows[i].Start || iv.Frames > rows[i].Frames {
				t.Errorf("%s interval %d: %+v against %+v", p.Name, i, iv, rows[i])
			}
		}
		names[p.Name] = p.Frames
		pf += p.Frames
		pb += p.Bytes
	}
	if pf != n || pb != bytes {
		t.Errorf("protocols hold %d frames, %d bytes; want %d, %d", pf, pb, n, bytes)
	}
	if names["http"] != n/5 || names["tcp"] != n-n/5 {
		t.Errorf("frames per protocol %v, want http %d and tcp %d", names, n/5, n-n/5)
	}
}

func TestIOProtocolsOffByDefault(t *testing.T) {
	a := analyze.New(analyze.Config{Interval: time.Second})
	p := tcpFrame(t, 0, true, "S", 1, nil)
	a.Add(p, time.Unix(1, 0), len(p), layers.LinkTypeEthernet)
	if got := a.IOProtocols(); got != nil {
		t.Errorf("IOProtocols without Config.IOProtocols: %+v", got)
	}
	if got := a.IO(); len(got) != 1 || got[0].Frames != 1 {
		t.Errorf("IO: %+v", got)
	}
}
