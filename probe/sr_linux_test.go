package probe_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/packet"
	"sonde/probe"
)

func parse(t *testing.T, expr string) *packet.Template {
	t.Helper()
	tmpl, err := packet.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func decode(p []byte, link packet.LinkType) *packet.Decoder {
	d := packet.NewDecoder(link)
	d.Decode(p)
	return d
}

// TestSRThousandSYNs is the Scapy comparison of the packets issue: every one
// of 1000 SYNs answered, SYN-ACK from the open ports and RST-ACK from the
// closed ones, nothing unanswered.
func TestSRThousandSYNs(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	var res *probe.Result
	var err error
	l.Do("client", func() {
		res, err = probe.SR(context.Background(), parse(t, `IP(dst="198.18.0.2")/TCP(dport=(1,1000),flags="S")`), &probe.Config{Timeout: 2 * time.Second})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answered) != 1000 || len(res.Unanswered) != 0 {
		t.Fatalf("%d answered, %d unanswered; want 1000 and 0 (stats %+v)", len(res.Answered), len(res.Unanswered), res.Stats)
	}
	open := map[uint16]bool{}
	for _, p := range res.Answered {
		d := decode(p.Received.Data, p.Received.Link)
		switch {
		case d.TCP.SYN && d.TCP.ACK:
			open[uint16(d.TCP.SrcPort)] = true
		case d.TCP.RST && d.TCP.ACK:
		default:
			t.Errorf("answer to port %d is neither SA nor RA", p.Sent.Index+1)
		}
	}
	for _, port := range []uint16{21, 22, 25, 80, 443} {
		if !open[port] {
			t.Errorf("port %d: no SYN-ACK", port)
		}
	}
	if len(open) != 5 {
		t.Errorf("SYN-ACK from %d ports, want 5: %v", len(open), open)
	}
	if res.Stats.Elapsed > time.Second {
		t.Errorf("took %v: it should stop as soon as all are answered", res.Stats.Elapsed)
	}
}

// TestSRTTLThroughChain: one time-exceeded per router, each matched to the
// probe it quotes, then the far host's port unreachable.
func TestSRTTLThroughChain(t *testing.T) {
	l := labtest.New(t, "chain", lab.Options{Routers: 6, NoServices: true, ICMPRateLimit: lab.NoRateLimit})
	var res *probe.Result
	var err error
	l.Do("client", func() {
		res, err = probe.SR(context.Background(), parse(t, `IP(dst="198.18.200.1",ttl=(1,10))/UDP(dport=33434)`), &probe.Config{Timeout: time.Second})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answered) != 10 {
		t.Fatalf("%d of 10 probes answered (stats %+v)", len(res.Answered), res.Stats)
	}
	for _, p := range res.Answered {
		ttl := int(p.Sent.Index) + 1
		d := decode(p.Received.Data, p.Received.Link)
		src, _ := netip.AddrFromSlice(d.IPv4.SrcIP)
		q, ok := d.Quote()
		if !ok || q.ID != decode(p.Sent.Data, p.Sent.Link).IPv4.Id {
			t.Errorf("TTL %d: the answer does not quote the probe", ttl)
		}
		if ttl <= 6 {
			want := netip.AddrFrom4([4]byte{198, 18, byte(ttl - 1), 2})
			if src != want || d.ICMPv4.TypeCode.Type() != layers.ICMPv4TypeTimeExceeded {
				t.Errorf("TTL %d: %s %v, want time-exceeded from %s", ttl, src, d.ICMPv4.TypeCode, want)
			}
		} else if src != netip.MustParseAddr("198.18.200.1") || d.ICMPv4.TypeCode != layers.CreateICMPv4TypeCode(3, 3) {
			t.Errorf("TTL %d: %s %v, want port unreachable from the far host", ttl, src, d.ICMPv4.TypeCode)
		}
	}
}

func TestSRPARPOnLAN(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{Hosts: 3, NoServices: true})
	var res *probe.Result
	var err error
	l.Do("client", func() {
		res, err = probe.SRP(context.Background(), parse(t, `Ether()/ARP(pdst="198.18.0.8/29")`), &probe.Config{Timeout: 300 * time.Millisecond})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.Addr]bool{}
	for _, p := range res.Answered {
		d := decode(p.Received.Data, p.Received.Link)
		a, _ := netip.AddrFromSlice(d.ARP.SourceProtAddress)
		got[a] = true
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		if !got[l.Addr(h)] {
			t.Errorf("%s (%s) did not answer ARP", h, l.Addr(h))
		}
	}
	if len(got) != 3 || res.Stats.Unanswered != 5 {
		t.Errorf("answers from %v, %d unanswered; want the 3 hosts and 5 silent addresses (stats %+v)", got, res.Stats.Unanswered, res.Stats)
	}
}

func TestSRIPv6EchoAndFilteredPortUnanswered(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{Drop: []uint16{8081}, NoServices: true})
	l.Do("client", func() {
		res, err := probe.SR(context.Background(), parse(t, `IPv6(dst="2001:2::2")/ICMPv6EchoRequest(id=7,seq=(1,3))`), &probe.Config{Timeout: time.Second})
		if err != nil || len(res.Answered) != 3 {
			t.Errorf("IPv6 echo: %v, %+v", err, res)
		}
		res, err = probe.SR(context.Background(), parse(t, `IP(dst="198.18.0.2")/TCP(dport=[8080,8081])`), &probe.Config{Timeout: 200 * time.Millisecond, Retry: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Unanswered) != 1 || res.Unanswered[0].Index != 1 || res.Stats.Retried != 1 || res.Stats.Sent != 3 {
			t.Errorf("filtered port: unanswered %v, stats %+v; want port 8081 unanswered after one retry", res.Unanswered, res.Stats)
		}
	})
}

func TestSRNoRoute(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	l.Do("client", func() {
		_, err := probe.SR(context.Background(), parse(t, `IP(dst="192.0.2.1")/ICMP()`), nil)
		if err == nil {
			t.Error("a packet to an address with no route was accepted")
		}
	})
}
