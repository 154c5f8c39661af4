package scan

import (
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"
)

// TestReplyFilter runs the kernel filter in x/net/bpf's VM: TCP, UDP and
// ICMP to our IPv4 address and TCP, UDP and ICMPv6 to our IPv6 address
// pass; other protocols, other destinations, ARP and our own probes (to
// the target) do not; with no IPv6 address, nothing of IPv6 passes.
func TestReplyFilter(t *testing.T) {
	var pb [maxPayload]byte
	frame := func(from, to netip.Addr, proto Proto, ipProto uint8) []byte {
		l := newLink(nil, nil, from, from)
		b := make([]byte, maxFrameLen)
		p := probeSpec{dst: to, dport: 1, sport: 2, proto: proto}
		if proto == UDP {
			p.payload = udpPayload(pb[:], 53, 1)
		}
		b = b[:buildFrame(b, &l, &p)]
		if ipProto != 0 {
			if to.Is4() {
				b[23] = ipProto
			} else {
				b[20] = ipProto
			}
		}
		return b
	}
	me4, me6 := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("2001:2::1")
	other4, other6 := netip.MustParseAddr("198.18.0.9"), netip.MustParseAddr("2001:2::9")
	for _, tc := range []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"TCP to us", frame(target4, me4, TCP, 0), true},
		{"UDP to us", frame(target4, me4, UDP, 0), true},
		{"ICMP to us", frame(target4, me4, TCP, 1), true},
		{"IGMP to us", frame(target4, me4, TCP, 2), false},
		{"TCP to another", frame(target4, other4, TCP, 0), false},
		{"our probe", frame(me4, target4, TCP, 0), false},
		{"TCPv6 to us", frame(target6, me6, TCP, 0), true},
		{"UDPv6 to us", frame(target6, me6, UDP, 0), true},
		{"ICMPv6 to us", frame(target6, me6, TCP, 58), true},
		{"TCPv6 to another", frame(target6, other6, TCP, 0), false},
		{"our IPv6 probe", frame(me6, target6, TCP, 0), false},
		{"ARP", append(make([]byte, 12), 0x08, 0x06, 0, 1), false},
	} {
		prog, err := replyFilter(&testLocals)
		if err != nil {
			t.Fatal(err)
		}
		ins, _ := bpf.Disassemble(prog)
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatal(err)
		}
		n, err := vm.Run(tc.frame)
		if err != nil || (n > 0) != tc.want {
			t.Errorf("%s: filter says %d (%v), want pass %v", tc.name, n, err, tc.want)
		}
	}
	prog, _ := replyFilter(&locals{v4: testLocals.v4})
	ins, _ := bpf.Disassemble(prog)
	vm, _ := bpf.NewVM(ins)
	if n, _ := vm.Run(frame(target6, netip.IPv6Unspecified(), TCP, 0)); n != 0 {
		t.Errorf("IPv6 to :: passes a filter without an IPv6 address")
	}
	prog, _ = replyFilter(&locals{v6: testLocals.v6})
	ins, _ = bpf.Disassemble(prog)
	vm, _ = bpf.NewVM(ins)
	if n, _ := vm.Run(frame(target4, netip.IPv4Unspecified(), TCP, 0)); n != 0 {
		t.Errorf("IPv4 to 0.0.0.0 passes a filter without an IPv4 address")
	}
}
