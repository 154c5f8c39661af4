package filter

import (
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
)

// randomAtoms are primitives the expression generator combines.
var randomAtoms = []string{
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "pim", "vrrp", "ah", "esp",
	"host 198.18.0.1", "host 198.18.0.2", "src host 198.18.0.1", "dst host 198.18.0.2", "host 10.0.0.1",
	"host 127.0.0.1", "host 255.255.255.255", "net 198.18.0.0/15", "net 10.0.0.0/8", "src net 192.168.0.0/16",
	"dst net 224.0.0.0/4", "host 2001:db8::1", "net 2001:db8::/32", "net fe80::/10", "dst host ff02::1",
	"port 80", "port 53", "port 22", "tcp port 80", "udp port 53", "src port 53", "dst port 80",
	"tcp src port 40000", "portrange 1-1024", "udp portrange 50-60", "sctp port 9",
	"ether broadcast", "ether multicast", "ether src 02:00:00:00:00:01", "ether dst 02:00:00:00:00:02",
	"ether proto 0x88cc", "ether proto \\arp", "ip proto 47", "ip6 proto 58", "proto 17",
	"vlan", "vlan 10", "vlan 20", "vlan 100",
	"less 60", "greater 100", "len > 64", "len < 100",
	"ip[0] = 0x45", "ip[6:2] & 0x1fff != 0", "ip[8] < 64", "ip[9] = 17", "ip6[6] = 44", "ip6[40] = 6",
	"tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[0:2] > 1023",
	"udp[2:2] = 53", "udp[4:2] > 20", "icmp[icmptype] = icmp-echo", "icmp6[0] = 128",
	"ether[0] & 1 != 0", "ether[12:2] > 1500", "arp[7] = 1", "ip[2:2] - ((ip[0] & 0xf) << 2) > 20",
	"ip multicast", "ip broadcast", "ip6 multicast", "ip[ip[0] & 0xf] = 0", "len - 14 > ip[2:2]",
}

// randomIDs continue an expression as a bare id after and/or.
var randomIDs = []string{"198.18.0.2", "10.0.0.1", "80", "53", "2001:db8::2", "443"}

func randomExpr(r *rand.Rand, depth int) string {
	if depth <= 0 || r.Intn(3) == 0 {
		return randomAtoms[r.Intn(len(randomAtoms))]
	}
	switch r.Intn(7) {
	case 0:
		return "not " + randomExpr(r, depth-1)
	case 1:
		return "(" + randomExpr(r, depth-1) + ")"
	case 2:
		a := randomExpr(r, depth-1)
		if strings.HasPrefix(a, "host") || strings.HasPrefix(a, "port") || strings.HasPrefix(a, "src") || strings.HasPrefix(a, "dst") {
			op := []string{" or ", " and ", " and not "}[r.Intn(3)]
			return a + op + randomIDs[r.Intn(len(randomIDs))]
		}
		return a + " or " + randomExpr(r, depth-1)
	case 3, 4:
		return randomExpr(r, depth-1) + " and " + randomExpr(r, depth-1)
	default:
		return randomExpr(r, depth-1) + " or " + randomExpr(r, depth-1)
	}
}

// TestRandomExpressionsAgainstLibpcap compares verdicts with libpcap for
// random combinations of primitives (a fixed seed, so failures repeat),
// which exercise the optimiser's passes on shapes the corpus lacks.
func TestRandomExpressionsAgainstLibpcap(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	n, seed := 300, int64(20261128)
	if testing.Short() {
		n = 40
	}
	// SONDE_FILTER_RANDOM=N[:SEED] runs more (or other) expressions.
	if v := os.Getenv("SONDE_FILTER_RANDOM"); v != "" {
		cnt, sd, _ := strings.Cut(v, ":")
		if x, err := strconv.Atoi(cnt); err == nil {
			n = x
		}
		if x, err := strconv.ParseInt(sd, 10, 64); err == nil {
			seed = x
		}
	}
	c := loadCorpus(t)
	r := rand.New(rand.NewSource(seed))
	lts := []LinkType{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeRaw}
	compared, mismatches := 0, 0
	for i := 0; i < n; i++ {
		expr := randomExpr(r, 4)
		lt := lts[i%len(lts)]
		lib := libpcapCompile(tcpdump, expr, lt)
		ours, err := Compile(expr, lt, 0)
		switch {
		case lib.err != "" && err != nil:
			continue
		case lib.err != "":
			t.Errorf("%v %q: libpcap rejects (%s), we accept", lt, expr, lib.err)
			mismatches++
			continue
		case err != nil:
			t.Errorf("%v %q: libpcap accepts, we reject: %v", lt, expr, err)
			mismatches++
			continue
		}
		var theirs *Program
		if !lib.rejectsAll {
			if theirs, err = FromRaw(lib.prog, lt); err != nil {
				t.Fatalf("%v %q: libpcap's program: %v", lt, expr, err)
			}
		}
		bad := 0
		for j, pk := range c[lt] {
			want := theirs != nil && theirs.Match(pk.data, len(pk.data))
			got := ours.Match(pk.data, len(pk.data))
			compared++
			if got != want {
				bad++
				if bad <= 2 {
					t.Errorf("%v %q: packet %d (%s): libpcap %v, sonde %v", lt, expr, j, pk.name, want, got)
				}
			}
		}
		if bad > 0 {
			mismatches++
		}
	}
	t.Logf("%d random expressions, %d verdicts compared, %d expressions disagree", n, compared, mismatches)
}
