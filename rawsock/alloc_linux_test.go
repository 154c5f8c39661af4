//go:build linux

package rawsock_test

import (
	"net"
	"testing"
	"time"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/rawsock"
)

// TestNoAllocs proves the hot paths allocate nothing: ReadFrom, WriteTo
// and WriteBatch of a PacketConn, IPConn.WriteTo and ProtoConn.ReadFrom.
func TestNoAllocs(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	client := open(t, l, "client", nil)
	target := open(t, l, "target", &rawsock.Config{Protocol: testProto})
	const runs = 100
	frames := numbered(target.ifi.HardwareAddr, client.ifi.HardwareAddr, 2*runs+10)
	if n, err := client.c.WriteBatch(frames); err != nil || n != len(frames) {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	buf := make([]byte, 2048)
	target.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var readErr error
	if a := testing.AllocsPerRun(runs, func() {
		if _, _, err := target.c.ReadFrom(buf); err != nil {
			readErr = err
		}
	}); a != 0 || readErr != nil {
		t.Errorf("PacketConn.ReadFrom: %v allocations per read (err %v), want 0", a, readErr)
	}

	f := frames[0]
	if a := testing.AllocsPerRun(runs, func() { client.c.WriteTo(f, client.ifi.Index) }); a != 0 {
		t.Errorf("PacketConn.WriteTo: %v allocations per write, want 0", a)
	}
	batch := frames[:rawsock.BatchSize]
	if a := testing.AllocsPerRun(10, func() { client.c.WriteBatch(batch) }); a != 0 {
		t.Errorf("PacketConn.WriteBatch: %v allocations per batch, want 0", a)
	}

	var (
		send *rawsock.IPConn
		recv *rawsock.ProtoConn
		err  error
	)
	l.Do("client", func() {
		if send, err = rawsock.OpenIP(nil); err == nil {
			recv, err = rawsock.ListenIP(rawsock.IPv4, 1, nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	defer recv.Close()
	src, dst := l.Addr("client"), l.Addr("target")
	req := echoRequest(t, src, dst, 9, 9)
	if a := testing.AllocsPerRun(runs+10, func() { send.WriteTo(req, dst) }); a != 0 {
		t.Errorf("IPConn.WriteTo: %v allocations per write, want 0", a)
	}
	// Each request was answered: more than runs replies wait to be read.
	recv.SetReadDeadline(time.Now().Add(2 * time.Second))
	if a := testing.AllocsPerRun(runs, func() {
		if _, _, err := recv.ReadFrom(buf); err != nil {
			readErr = err
		}
	}); a != 0 || readErr != nil {
		t.Errorf("ProtoConn.ReadFrom: %v allocations per read (err %v), want 0", a, readErr)
	}
}

// benchLink opens a sender on the client of a pair lab and returns it with
// frames addressed to the target (which drops them: nobody speaks
// testProto).
func benchLink(b *testing.B, cfg *rawsock.Config) (*rawsock.PacketConn, [][]byte) {
	l := labtest.New(b, "pair", lab.Options{NoServices: true})
	client := open(b, l, "client", cfg)
	var target net.HardwareAddr
	l.Do("target", func() {
		ifi, err := net.InterfaceByName("eth0")
		if err == nil {
			target = ifi.HardwareAddr
		}
	})
	return client.c, numbered(target, client.ifi.HardwareAddr, rawsock.BatchSize)
}

func BenchmarkWriteTo(b *testing.B) {
	for _, bypass := range []bool{false, true} {
		name := "qdisc"
		if bypass {
			name = "bypass"
		}
		b.Run(name, func(b *testing.B) {
			c, frames := benchLink(b, &rawsock.Config{Protocol: testProto, QdiscBypass: bypass})
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := c.Write(frames[n%len(frames)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pps")
		})
	}
}

func BenchmarkWriteBatch(b *testing.B) {
	for _, bypass := range []bool{false, true} {
		name := "qdisc"
		if bypass {
			name = "bypass"
		}
		b.Run(name, func(b *testing.B) {
			c, frames := benchLink(b, &rawsock.Config{Protocol: testProto, QdiscBypass: bypass})
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				m, err := c.WriteBatch(frames)
				if err != nil {
					b.Fatal(err)
				}
				n += m
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pps")
		})
	}
}
