package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/bpf"
)

// tcpSYN is an Ethernet/IPv4/TCP SYN from 198.18.0.1:40000 to
// 198.18.0.2:80.
var tcpSYN = []byte{
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet
	0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, // IPv4
	0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x04, 0, 0, 0, 0, 0, // TCP SYN
}

func mustCompile(t testing.TB, expr string, lt LinkType) *Program {
	t.Helper()
	p, err := Compile(expr, lt, 0)
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	return p
}

func TestMatchBasics(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{"", true},
		{"tcp", true},
		{"udp", false},
		{"tcp port 80", true},
		{"src port 80", false},
		{"dst host 198.18.0.2 and src host 198.18.0.1", true},
		{"port 80 and host 198.18.0.2 or udp", true},
		{"tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", true},
		{"tcp[tcpflags] & tcp-ack != 0", false},
		{"net 198.18.0.0/15", true},
		{"not net 198.18.0.0/15", false},
		{"ether src 02:00:00:00:00:01", true},
		{"ether broadcast", false},
		{"ip[8] = 64 and ip[9] = 6", true},
		{"less 54", true},
		{"less 53", false},
		{"greater 55", false},
		{"vlan", false},
		{"icmp", false},
		{"ip6", false},
	}
	for _, tt := range tests {
		p := mustCompile(t, tt.expr, LinkTypeEthernet)
		if got := p.Match(tcpSYN, len(tcpSYN)); got != tt.want {
			t.Errorf("%q: Match = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestEmptyExpressionMatchesEverything(t *testing.T) {
	for _, lt := range []LinkType{LinkTypeEthernet, LinkTypeRaw, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeIPv4, LinkTypeIPv6} {
		for _, expr := range []string{"", "   ", "\t\n"} {
			p := mustCompile(t, expr, lt)
			for _, pkt := range [][]byte{nil, {1}, tcpSYN} {
				if !p.Match(pkt, len(pkt)) {
					t.Errorf("%v %q: rejects a %d-byte packet", lt, expr, len(pkt))
				}
			}
		}
	}
}

// TestWirelen checks that len, less and greater see the length on the wire,
// not the captured length, as libpcap does on capture files.
func TestWirelen(t *testing.T) {
	p := mustCompile(t, "len > 1000", LinkTypeEthernet)
	if p.Match(tcpSYN, len(tcpSYN)) {
		t.Error("len > 1000 matched a 54-byte packet")
	}
	if !p.Match(tcpSYN, 1500) {
		t.Error("len > 1000 did not match a 54-byte capture of a 1500-byte packet")
	}
	if !mustCompile(t, "greater 1500", LinkTypeEthernet).Match(tcpSYN, 1500) {
		t.Error("greater 1500 did not match wirelen 1500")
	}
	if p.Match(tcpSYN, 10) { // a wirelen below the capture length is ignored
		t.Error("wirelen smaller than the capture was used")
	}
}

func TestSnaplen(t *testing.T) {
	p, err := Compile("tcp", LinkTypeEthernet, 96)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.RawInstructions()
	vm, err := bpf.NewVM(p.Instructions())
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(tcpSYN)
	if err != nil || n != 96 {
		t.Errorf("accepting run returns %d, %v; want 96 (program %v)", n, err, raw)
	}
}

func TestInstructionsAgree(t *testing.T) {
	p := mustCompile(t, "tcp port 80 or icmp[icmptype] = icmp-echo or ip6 net 2001:db8::/32", LinkTypeEthernet)
	raw, err := p.RawInstructions()
	if err != nil {
		t.Fatal(err)
	}
	again, err := bpf.Assemble(p.Instructions())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(raw, again); diff != "" {
		t.Errorf("Instructions do not assemble to RawInstructions (-raw +again):\n%s", diff)
	}
	if p.String() == "" || p.LinkType() != LinkTypeEthernet {
		t.Errorf("String/LinkType: %q %v", p.String(), p.LinkType())
	}
	// The returned slice is a copy.
	raw[0].K = 12345
	raw2, _ := p.RawInstructions()
	if raw2[0].K == 12345 {
		t.Error("RawInstructions returns the program's own slice")
	}
}

func TestUnsupportedLinkType(t *testing.T) {
	if _, err := Compile("tcp", LinkType(105), 0); err == nil {
		t.Error("802.11 accepted")
	}
	if p, err := Compile("ip", linkTypeDLTRaw, 0); err != nil || p.LinkType() != LinkTypeRaw {
		t.Errorf("DLT_RAW (12): %v, %v", p, err)
	}
}

// TestSyntaxErrorOffsets checks that errors point at the token at fault.
func TestSyntaxErrorOffsets(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"port 80 and", 11, "unexpected end"},
		{"port 70000", 5, "illegal port number 70000"},
		{"tcp port 80 and host foo", 21, "does not resolve names"},
		{"host 1.2.3.4 and and tcp", 17, "unexpected 'and'"},
		{"ip[0:3] = 1", 5, "data size"},
		{"tcp[tcpflags] & tcp-syn", 23, "comparison"},
		{"vlan 5000", 5, "4095"},
		{"ip6 and arp host", 16, "address"},
		{"net 10.1.2.3/8", 4, "non-network bits"},
		{"ip[0] / 0 = 1", 6, "division by zero"},
		{"ip[0] % 0 = 1", 6, "modulus by zero"},
		{"ip[0] << 32 = 1", 6, "shift by more than 31"},
		{"tcp @ udp", 4, "illegal character '@'"},
		{"(tcp", 4, "')'"},
		{"udp port ssh", 9, "port 'ssh' is tcp"},
		{"ether host 1.2.3.4", 11, "link layer address"},
		{"TCP", 0, "primitive"},
		{"inbound", 0, "Linux cooked"},
		{"ip proto icmp", 9, `write \icmp`},
		{"port 80 or (tcp", 15, "')'"},
		{"host 2001:db8::1 and port ::1", 26, "'port' modifier"},
		{"ip6 host 198.18.0.1", 9, "'ip6' modifier"},
		{"tcp host 198.18.0.1", 9, "'tcp' modifier"},
		{"ip port 80", 8, "illegal qualifier"},
		{"(tcp) or 198.18.0.1", 9, "needs a qualifier"},
		{"tcp or 80", 7, "needs a qualifier"},
		{"portrange 1-70000", 10, "70000"},
		{"host 10.0.0.0/8", 5, "networks only"},
		{"ip[", 3, "unexpected end"},
		{"port 0189", 5, "non-octal"},
		{"port 99999999999", 5, "overflows"},
		{"gateway 198.18.0.1", 8, "gateway"},
		{"protochain 6", 11, "protochain"},
		{"atalk", 0, "not supported"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr, LinkTypeEthernet, 0)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v is not a *SyntaxError", tt.expr, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) || se.Expr != tt.expr {
			t.Errorf("%q: got offset %d %q, want offset %d and %q", tt.expr, se.Offset, se.Msg, tt.offset, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "filter: ") || !strings.Contains(err.Error(), "column") {
			t.Errorf("%q: Error() = %q", tt.expr, err.Error())
		}
	}
}

func TestCaret(t *testing.T) {
	_, err := Compile("tcp port 80 and\thost foo", LinkTypeEthernet, 0)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	want := "tcp port 80 and\thost foo\n               \t     ^"
	if got := se.Caret(); got != want {
		t.Errorf("Caret() =\n%s\nwant\n%s", got, want)
	}
}

// TestLinkTypeErrors mirrors libpcap's refusals per link type.
func TestLinkTypeErrors(t *testing.T) {
	for _, tt := range []struct {
		expr string
		lt   LinkType
	}{
		{"vlan", LinkTypeLinuxSLL},
		{"vlan", LinkTypeRaw},
		{"ether host 02:00:00:00:00:01", LinkTypeLinuxSLL2},
		{"ether broadcast", LinkTypeRaw},
		{"multicast", LinkTypeLinuxSLL},
		{"inbound", LinkTypeEthernet},
		{"outbound", LinkTypeRaw},
	} {
		if _, err := Compile(tt.expr, tt.lt, 0); err == nil {
			t.Errorf("%v %q: accepted", tt.lt, tt.expr)
		}
	}
	for _, tt := range []struct {
		expr string
		lt   LinkType
	}{
		{"inbound", LinkTypeLinuxSLL},
		{"outbound", LinkTypeLinuxSLL2},
		{"arp", LinkTypeRaw}, // matches nothing, like libpcap
		{"ip6", LinkTypeIPv4},
	} {
		if _, err := Compile(tt.expr, tt.lt, 0); err != nil {
			t.Errorf("%v %q: %v", tt.lt, tt.expr, err)
		}
	}
}

// TestLongJumps checks that programs longer than a conditional jump can
// reach stay valid (trampolines are inserted) and agree with the VM.
func TestLongJumps(t *testing.T) {
	var parts []string
	for i := 0; i < 200; i++ {
		parts = append(parts, "host 10.0."+itoa(i/250)+"."+itoa(i%250+1))
	}
	parts = append(parts, "host 198.18.0.2")
	p := mustCompile(t, strings.Join(parts, " or "), LinkTypeEthernet)
	raw, _ := p.RawInstructions()
	if len(raw) < 600 {
		t.Fatalf("program has %d instructions; the test needs more than 255 between jumps", len(raw))
	}
	vm, err := bpf.NewVM(p.Instructions())
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(tcpSYN)
	if err != nil || n == 0 || !p.Match(tcpSYN, len(tcpSYN)) {
		t.Errorf("VM: %d %v; Match: %v; want a match", n, err, p.Match(tcpSYN, len(tcpSYN)))
	}
	if _, err := FromRaw(raw, LinkTypeEthernet); err != nil {
		t.Errorf("FromRaw rejects our own program: %v", err)
	}
}

func TestFromRaw(t *testing.T) {
	bad := [][]bpf.RawInstruction{
		nil,
		{{Op: opLD | szH | mABS, K: 12}},                          // no return
		{{Op: opJMP | jJEQ, Jt: 5}, {Op: opRET}},                  // jump past the end
		{{Op: opJMP | jJA, K: 1}, {Op: opRET}},                    // ja past the end
		{{Op: opALU | aluDIV | srcK, K: 0}, {Op: opRET}},          // constant division by zero
		{{Op: opLD | szW | mABS, K: 0xfffff000 + 4}, {Op: opRET}}, // Linux extension (packet type)
		{{Op: 0xffff}, {Op: opRET}},                               // nonsense
		{{Op: opST, K: 16}, {Op: opRET}},                          // no such scratch slot
	}
	for i, prog := range bad {
		if _, err := FromRaw(prog, LinkTypeEthernet); err == nil {
			t.Errorf("program %d accepted: %v", i, prog)
		}
	}
	// libpcap's "tcp" program for Ethernet, as tcpdump -ddd prints it.
	prog, err := parseDDD("12\n40 0 0 12\n21 0 2 2048\n48 0 0 23\n21 6 7 6\n21 0 6 34525\n48 0 0 20\n21 3 0 6\n21 0 3 44\n48 0 0 54\n21 0 1 6\n6 0 0 262144\n6 0 0 0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromRaw(prog, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Match(tcpSYN, len(tcpSYN)) {
		t.Error("libpcap's tcp program rejects a TCP SYN")
	}
}

// TestMatchDoesNotAllocate proves the in-process matcher allocation-free.
func TestMatchDoesNotAllocate(t *testing.T) {
	p := mustCompile(t, "tcp port 80 and host 198.18.0.2 and tcp[tcpflags] & (tcp-syn|tcp-ack) != 0 and len - 14 > 20 and ip[0] * 2 / 3 != 7", LinkTypeEthernet)
	var ok bool
	if n := testing.AllocsPerRun(1000, func() { ok = p.Match(tcpSYN, len(tcpSYN)) }); n != 0 {
		t.Errorf("Match allocates %.1f times per call", n)
	}
	if !ok {
		t.Error("no match")
	}
}

// TestCompileRejectsNothingSilently: every primitive in the corpus of good
// expressions compiles for Ethernet and yields a program x/net/bpf accepts.
func TestCompiledProgramsAreValid(t *testing.T) {
	for _, e := range readLines(t, "testdata/exprs.txt") {
		for _, lt := range linkTypesUnderTest {
			p, err := Compile(e, lt, 0)
			if err != nil {
				continue // link-type specific refusals are checked elsewhere
			}
			if _, err := bpf.NewVM(p.Instructions()); err != nil {
				t.Errorf("%v %q: x/net/bpf refuses the program: %v", lt, e, err)
			}
			raw, _ := p.RawInstructions()
			if len(raw) > 4096 {
				t.Errorf("%v %q: %d instructions", lt, e, len(raw))
			}
		}
	}
}
