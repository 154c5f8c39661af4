package probe

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"sonde/packet"
)

// fakeNet is an in-memory network for the engine: every request sent is
// handed to answer, whose frames come back to the reader after delay.
type fakeNet struct {
	mu      sync.Mutex
	answer  func(req []byte, try int) [][]byte
	delay   time.Duration
	tries   map[string]int
	frames  chan []byte
	stopped chan struct{}
	once    sync.Once
	sent    int
}

func newFakeNet(answer func(req []byte, try int) [][]byte) *fakeNet {
	return &fakeNet{answer: answer, delay: time.Millisecond, tries: map[string]int{},
		frames: make(chan []byte, 1<<16), stopped: make(chan struct{})}
}

func (f *fakeNet) send(data []byte, dst netip.Addr) error {
	f.mu.Lock()
	try := f.tries[string(data)]
	f.tries[string(data)]++
	f.sent++
	f.mu.Unlock()
	replies := f.answer(data, try)
	if len(replies) > 0 {
		go func() {
			time.Sleep(f.delay)
			for _, r := range replies {
				f.frames <- r
			}
		}()
	}
	return nil
}

func (f *fakeNet) recv(buf []byte) (int, packet.LinkType, time.Time, error) {
	select {
	case fr := <-f.frames:
		return copy(buf, fr), packet.LinkRaw, time.Now(), nil
	case <-f.stopped:
		return 0, 0, time.Time{}, errStopped
	}
}

func (f *fakeNet) stop()         { f.once.Do(func() { close(f.stopped) }) }
func (f *fakeNet) drops() uint64 { return 0 }
func (f *fakeNet) close() error  { return nil }

// synAnswer plays a TCP host: SYN-ACK from the open ports, RST-ACK from the
// others.
func synAnswer(open map[uint16]bool) func([]byte, int) [][]byte {
	return func(req []byte, _ int) [][]byte {
		var ip layers.IPv4
		var tcp layers.TCP
		if ip.DecodeFromBytes(req, gopacket.NilDecodeFeedback) != nil || tcp.DecodeFromBytes(ip.Payload, gopacket.NilDecodeFeedback) != nil {
			return nil
		}
		rip := layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip.DstIP, DstIP: ip.SrcIP}
		rtcp := layers.TCP{SrcPort: tcp.DstPort, DstPort: tcp.SrcPort, Ack: tcp.Seq + 1, ACK: true, Window: 64240}
		if open[uint16(tcp.DstPort)] {
			rtcp.SYN, rtcp.Seq = true, 1000
		} else {
			rtcp.RST = true
		}
		rtcp.SetNetworkLayerForChecksum(&rip)
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, &rip, &rtcp)
		return [][]byte{buf.Bytes()}
	}
}

func runFake(t *testing.T, expr string, cfg *Config, net *fakeNet) *Result {
	t.Helper()
	tmpl, err := packet.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddr("198.18.0.1")
	e, err := newEngine(tmpl, cfg, packet.LinkRaw, func(p *packet.Packet) error { p.Fill(src, nil, nil); return nil })
	if err != nil {
		t.Fatal(err)
	}
	e.tr = net
	res, err := e.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAllAnsweredStopsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := newFakeNet(synAnswer(map[uint16]bool{22: true, 80: true}))
		res := runFake(t, `IP(dst="198.18.0.2")/TCP(dport=(1,1000),flags="S")`, &Config{Timeout: 5 * time.Second}, net)
		if len(res.Answered) != 1000 || len(res.Unanswered) != 0 {
			t.Fatalf("answered %d, unanswered %d; want 1000, 0", len(res.Answered), len(res.Unanswered))
		}
		if res.Stats.Elapsed >= 5*time.Second {
			t.Errorf("took %v: did not stop once all were answered", res.Stats.Elapsed)
		}
		synacks := 0
		for i, p := range res.Answered {
			if p.Sent.Index != uint64(i) {
				t.Fatalf("pair %d is for request %d: not in template order", i, p.Sent.Index)
			}
			var d = packet.NewDecoder(packet.LinkRaw)
			d.Decode(p.Received.Data)
			if d.TCP.SYN {
				synacks++
				if port := uint16(d.TCP.SrcPort); port != 22 && port != 80 {
					t.Errorf("SYN-ACK from port %d", port)
				}
			}
			if p.RTT() != time.Millisecond {
				t.Errorf("RTT %v, want the network's 1ms", p.RTT())
			}
		}
		if synacks != 2 {
			t.Errorf("%d SYN-ACKs, want 2", synacks)
		}
		if s := res.Stats; s.Sent != 1000 || s.Answered != 1000 || s.Unanswered != 0 || s.Duplicates != 0 || s.Retried != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

func TestRetryResendsOnlyUnanswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		closed := synAnswer(nil)
		// Ports 5 and 7 lose their first reply; port 9 never answers.
		net := newFakeNet(func(req []byte, try int) [][]byte {
			var ip layers.IPv4
			var tcp layers.TCP
			ip.DecodeFromBytes(req, gopacket.NilDecodeFeedback)
			tcp.DecodeFromBytes(ip.Payload, gopacket.NilDecodeFeedback)
			switch p := tcp.DstPort; {
			case p == 9, (p == 5 || p == 7) && try == 0:
				return nil
			}
			return closed(req, try)
		})
		res := runFake(t, `IP(dst="198.18.0.2")/TCP(dport=(1,10))`, &Config{Timeout: time.Second, Retry: 2}, net)
		if len(res.Answered) != 9 || len(res.Unanswered) != 1 || res.Unanswered[0].Index != 8 {
			t.Fatalf("answered %d, unanswered %+v", len(res.Answered), res.Unanswered)
		}
		// Round 0 sends 10; round 1 resends 5, 7 and 9; round 2 resends 9.
		if s := res.Stats; s.Sent != 14 || s.Retried != 4 || s.Unanswered != 1 {
			t.Errorf("stats %+v; want 14 sent, 4 retried, 1 unanswered", s)
		}
		if res.Stats.Elapsed != 3*time.Second {
			t.Errorf("elapsed %v, want three rounds of 1s", res.Stats.Elapsed)
		}
	})
}

func TestDuplicatesCountedOrKeptWithMulti(t *testing.T) {
	for _, multi := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			twice := func(req []byte, try int) [][]byte {
				r := synAnswer(map[uint16]bool{80: true})(req, try)
				return append(r, r...)
			}
			res := runFake(t, `IP(dst="198.18.0.2")/TCP(dport=[80,81])`, &Config{Timeout: time.Second, Multi: multi}, newFakeNet(twice))
			want := 2
			if multi {
				want = 4
			}
			if len(res.Answered) != want || res.Stats.Duplicates != 2 || res.Stats.Answered != 2 {
				t.Errorf("multi=%v: %d pairs, stats %+v; want %d pairs and 2 duplicates", multi, len(res.Answered), res.Stats, want)
			}
		})
	}
}

func TestCancelKeepsWhatArrived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := newFakeNet(synAnswer(nil))
		tmpl, _ := packet.Parse(`IP(dst="198.18.0.2")/TCP(dport=(1,100))`)
		e, err := newEngine(tmpl, &Config{Inter: 10 * time.Millisecond, Timeout: time.Minute}, packet.LinkRaw, func(p *packet.Packet) error {
			p.Fill(netip.MustParseAddr("198.18.0.1"), nil, nil)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.tr = net
		ctx, cancel := context.WithTimeout(context.Background(), 505*time.Millisecond)
		defer cancel()
		res, err := e.run(ctx)
		if err == nil {
			t.Error("cancelled run returned no error")
		}
		if n := len(res.Answered); n < 40 || n > 51 || uint64(n)+res.Stats.Unanswered != 100 {
			t.Errorf("after 0.5s of 10ms gaps: %d answered, %d unanswered", n, res.Stats.Unanswered)
		}
	})
}

func TestTooMany(t *testing.T) {
	tmpl, _ := packet.Parse(`IP(dst="198.18.0.0/16")/TCP(dport=(1,100))`)
	_, err := newEngine(tmpl, &Config{}, packet.LinkRaw, func(*packet.Packet) error { return nil })
	if err == nil {
		t.Fatal("6.5M packets accepted")
	}
}

// ttlAnswer plays a chain of routers: a probe with TTL t < hops is answered
// by router t with a time-exceeded quoting it; the others by the far host's
// port unreachable. Replies come back in reverse order, so matching cannot
// rely on order.
func ttlAnswer(hops int) func([]byte, int) [][]byte {
	return func(req []byte, _ int) [][]byte {
		var ip layers.IPv4
		if ip.DecodeFromBytes(req, gopacket.NilDecodeFeedback) != nil {
			return nil
		}
		from := netip.AddrFrom4([4]byte{198, 18, ip.TTL - 1, 2})
		icmp := layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeTimeExceeded, 0)}
		if int(ip.TTL) >= hops {
			from = netip.MustParseAddr("198.18.200.1")
			icmp.TypeCode = layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodePort)
		}
		quote := append([]byte(nil), req[:28]...)
		rip := layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: from.AsSlice(), DstIP: ip.SrcIP}
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, &rip, &icmp, gopacket.Payload(quote))
		return [][]byte{buf.Bytes()}
	}
}

func TestTimeExceededMatchedToTheProbeItQuotes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Each reply is delayed more than the next one: they arrive in
		// the reverse order of sending.
		res := runFakeDelayed(t, `IP(dst="198.18.200.1",ttl=(1,10))/UDP(dport=33434)`, newFakeNet(ttlAnswer(7)),
			func(i int) time.Duration { return time.Duration(20-i) * time.Millisecond })
		if len(res.Answered) != 10 {
			t.Fatalf("%d answered, want 10", len(res.Answered))
		}
		for _, p := range res.Answered {
			d := packet.NewDecoder(packet.LinkRaw)
			d.Decode(p.Received.Data)
			ttl := p.Sent.Index + 1
			src, _ := netip.AddrFromSlice(d.IPv4.SrcIP)
			want := netip.AddrFrom4([4]byte{198, 18, byte(ttl - 1), 2})
			if ttl >= 7 {
				want = netip.MustParseAddr("198.18.200.1")
			}
			if src != want {
				t.Errorf("probe with TTL %d answered by %s, want %s", ttl, src, want)
			}
		}
	})
}

// runFakeDelayed is runFake where the i-th request's replies are delayed
// by delay(i).
func runFakeDelayed(t *testing.T, expr string, net *fakeNet, delay func(int) time.Duration) *Result {
	t.Helper()
	var mu sync.Mutex
	i := 0
	answer := net.answer
	net.answer = func(req []byte, try int) [][]byte {
		mu.Lock()
		d := delay(i)
		i++
		mu.Unlock()
		replies := answer(req, try)
		go func() {
			time.Sleep(d)
			for _, r := range replies {
				net.frames <- r
			}
		}()
		return nil
	}
	return runFake(t, expr, &Config{Timeout: time.Second}, net)
}
