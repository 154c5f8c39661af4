package analyze_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopacket/gopacket/layers"

	"sonde/analyze"
	"sonde/capfile"
)

// packetSource feeds the same packets to each function it is given.
type packetSource func(add func(data []byte, ts time.Time, wireLen int, link layers.LinkType))

// results is everything an Analyzer reports.
type results struct {
	Packets, Bytes uint64
	Duration       time.Duration
	Streams        int
	Convs, Eps     map[analyze.Kind]any
	Hierarchy      []*analyze.ProtocolNode
	IO             []analyze.Interval
	IOProtocols    []analyze.ProtocolIO
	Follow         *analyze.Stream
	DNS            []analyze.DNSQuestion
	HTTP           []analyze.HTTPRequest
	TLS            []analyze.TLSHello
	Dropped        uint64
}

func resultsOf(a *analyze.Analyzer) results {
	r := results{
		Packets: a.Packets(), Bytes: a.Bytes(), Duration: a.Duration(), Streams: a.Streams(),
		Convs: map[analyze.Kind]any{}, Eps: map[analyze.Kind]any{},
		Hierarchy: a.Hierarchy(), IO: a.IO(), IOProtocols: a.IOProtocols(), Follow: a.Follow(),
		DNS: a.DNS(), HTTP: a.HTTP(), TLS: a.TLS(), Dropped: a.Dropped(),
	}
	for _, k := range []analyze.Kind{analyze.Eth, analyze.IPv4, analyze.IPv6, analyze.TCP, analyze.UDP} {
		r.Convs[k], r.Eps[k] = a.Conversations(k), a.Endpoints(k)
	}
	return r
}

// compareFlowCache runs src through an Analyzer with the flow cache and one
// without, for several configurations, and wants every result equal.
func compareFlowCache(t *testing.T, src packetSource) {
	t.Helper()
	cfgs := map[string]analyze.Config{
		"all": {Conversations: analyze.AllKinds, Endpoints: analyze.AllKinds, Hierarchy: true, Interval: time.Second,
			IOLimit: 200, IOProtocols: true, Follow: true, FollowStream: 1, DNS: true, HTTP: true, TLS: true},
		"tcp conversations": {Conversations: analyze.TCP, Hierarchy: true},
		"endpoints":         {Endpoints: analyze.IPv4 | analyze.IPv6 | analyze.UDP, Follow: true},
		"eth and udp":       {Conversations: analyze.Eth | analyze.UDP, Endpoints: analyze.Eth | analyze.TCP, HTTP: true},
	}
	for name, cfg := range cfgs {
		fast, slow := analyze.New(cfg), analyze.New(cfg)
		analyze.DisableFlowCache(slow)
		src(func(data []byte, ts time.Time, wireLen int, link layers.LinkType) {
			fast.Add(data, ts, wireLen, link)
			slow.Add(data, ts, wireLen, link)
		})
		if diff := cmp.Diff(resultsOf(slow), resultsOf(fast), cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})); diff != "" {
			t.Errorf("%s: flow cache changes the results (-without +with):\n%s", name, diff)
		}
	}
}

// fileSource reads a capture file up to its end or its first error (a
// truncated file is test data too).
func fileSource(t testing.TB, name string) packetSource {
	return func(add func([]byte, time.Time, int, layers.LinkType)) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := capfile.NewReader(f)
		if err != nil {
			return // not a capture sonde reads: nothing to compare
		}
		for {
			data, ci, err := r.ZeroCopyReadPacketData()
			if err != nil {
				return
			}
			add(data, ci.Timestamp, ci.Length, ci.LinkType)
		}
	}
}

func TestFlowCacheSameResultsOnTestdata(t *testing.T) {
	var files []string
	for _, pat := range []string{"testdata/*.pcap*", "testdata/*/*.pcap*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 40 {
		t.Fatalf("only %d captures found", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { compareFlowCache(t, fileSource(t, f)) })
	}
}

// TestFlowCacheSameResultsOnGen compares on a larger capture of bench/gen,
// with many flows in progress at once.
func TestFlowCacheSameResultsOnGen(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bench/gen: not under -short")
	}
	out := filepath.Join(t.TempDir(), "gen.pcap")
	cmd := exec.Command("go", "run", "../bench/gen", "-n", "30000", "-flows", "500", "-o", out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench/gen: %v", err)
	}
	compareFlowCache(t, fileSource(t, out))
}

// TestFlowCacheSameResultsOnStreamReuse: SYNs that renew a TCP stream (new
// initial sequence numbers on the same addresses and ports, after a FIN or
// not), from either side, with MAC addresses that change under the same IP
// flow and timestamps that go back, interleaved at random.
func TestFlowCacheSameResultsOnStreamReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	flags := []string{"S", "S", "SA", "A", "PA", "F", "FA"}
	type pkt struct {
		data []byte
		ts   time.Time
	}
	var pkts []pkt
	base := time.Unix(1700000000, 0)
	for n := range 3000 {
		f := flags[rng.IntN(len(flags))]
		var payload []byte
		if f == "PA" {
			payload = []byte("GET /x HTTP/1.1\r\nHost: example.org\r\n\r\n")
		}
		data := tcpFrame(t, rng.IntN(4), rng.IntN(2) == 0, f, uint32(rng.IntN(3)), payload)
		if rng.IntN(4) == 0 {
			data[5] ^= byte(1 + rng.IntN(2)) // another source or destination MAC
		}
		ts := base.Add(time.Duration(n) * time.Millisecond)
		if rng.IntN(10) == 0 {
			ts = ts.Add(-time.Duration(rng.IntN(500)) * time.Millisecond)
		}
		pkts = append(pkts, pkt{data, ts})
	}
	compareFlowCache(t, func(add func([]byte, time.Time, int, layers.LinkType)) {
		for _, p := range pkts {
			add(p.data, p.ts, len(p.data), layers.LinkTypeEthernet)
		}
	})
}

// FuzzFlowCache feeds a sequence of packets, each a length byte pair and its
// bytes, to an Analyzer with the flow cache and one without.
func FuzzFlowCache(f *testing.F) {
	frame := func(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
	var seed []byte
	for i, fl := range []string{"S", "SA", "A", "PA", "F", "S", "A"} {
		seed = append(seed, frame(tcpFrame(f, i%2, i%2 == 0, fl, uint32(i%3), []byte("x")))...)
	}
	// flow 0 again: a SYN with a new sequence number after its FIN renews
	// the stream, and the other direction follows.
	seed = append(seed, frame(tcpFrame(f, 0, true, "S", 7, nil))...)
	seed = append(seed, frame(tcpFrame(f, 0, false, "A", 9, nil))...)
	f.Add(seed)
	f.Add(append(frame(dnsFrame(f, false)), frame(dnsFrame(f, true))...))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pkts [][]byte
		for len(data) >= 2 {
			n := min(int(data[0])<<8|int(data[1]), len(data)-2)
			pkts = append(pkts, data[2:2+n])
			data = data[2+n:]
		}
		compareFlowCache(t, func(add func([]byte, time.Time, int, layers.LinkType)) {
			for i, p := range pkts {
				add(p, time.Unix(int64(i%3), 0), len(p), layers.LinkTypeEthernet)
			}
		})
	})
}
