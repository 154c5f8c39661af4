//go:build linux

package rawsock_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/rawsock"
)

// testProto is an EtherType for local experiments (IEEE 802 local
// experimental 1): nothing in the lab speaks it, so only our frames carry
// it.
const testProto = 0x88b5

// endpoint is a PacketConn opened in a lab node, on its eth0.
type endpoint struct {
	c   *rawsock.PacketConn
	ifi *net.Interface
}

// open opens a PacketConn on node's eth0 (in the node's namespace) and
// closes it when the test ends.
func open(t testing.TB, l *labtest.Lab, node string, cfg *rawsock.Config) endpoint {
	t.Helper()
	var e endpoint
	var err error
	l.Do(node, func() {
		e.ifi, err = net.InterfaceByName("eth0")
		if err != nil {
			return
		}
		e.c, err = rawsock.Listen(e.ifi.Index, cfg)
	})
	if err != nil {
		t.Fatalf("%s: %v", node, err)
	}
	t.Cleanup(func() { e.c.Close() })
	return e
}

// frame builds an Ethernet frame of testProto from src to dst carrying
// payload.
func frame(dst, src net.HardwareAddr, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], testProto)
	return append(f, payload...)
}

// protoFilter accepts only frames of EtherType proto.
func protoFilter(t testing.TB, proto uint16) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(proto), SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// readUntil reads frames until match accepts one, failing the test after
// timeout.
func readUntil(t testing.TB, c *rawsock.PacketConn, timeout time.Duration, match func([]byte, rawsock.PacketInfo) bool) ([]byte, rawsock.PacketInfo) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 65536)
	for {
		n, info, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("waiting for a frame: %v", err)
		}
		if match(buf[:n], info) {
			return buf[:n], info
		}
	}
}

func TestPacketConnSendReceive(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	client := open(t, l, "client", nil)
	target := open(t, l, "target", &rawsock.Config{Protocol: testProto})

	payload := []byte("sonde rawsock hello")
	before := time.Now()
	f := frame(target.ifi.HardwareAddr, client.ifi.HardwareAddr, payload)
	if n, err := client.c.Write(f); err != nil || n != len(f) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(f))
	}
	got, info := readUntil(t, target.c, 2*time.Second, func(b []byte, _ rawsock.PacketInfo) bool {
		return bytes.HasSuffix(b, payload)
	})
	if !bytes.Equal(got, f) {
		t.Errorf("received %x, sent %x", got, f)
	}
	if info.Ifindex != target.ifi.Index || info.PktType != rawsock.PktHost || info.Protocol != testProto {
		t.Errorf("info = ifindex %d type %v proto %#x; want %d In %#x", info.Ifindex, info.PktType, info.Protocol, target.ifi.Index, testProto)
	}
	if !bytes.Equal(info.HardwareAddr(), client.ifi.HardwareAddr) {
		t.Errorf("source address %v, want the client's %v", info.HardwareAddr(), client.ifi.HardwareAddr)
	}
	if info.Time.Before(before.Add(-time.Millisecond)) || time.Since(info.Time) > 2*time.Second {
		t.Errorf("receive time %v is not between the send (%v) and now", info.Time, before)
	}
}

func TestPacketConnOutgoing(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	// Outgoing frames are tapped only for sockets of every protocol.
	only := protoFilter(t, testProto)
	sender := open(t, l, "client", &rawsock.Config{Filter: only})
	sees := open(t, l, "client", &rawsock.Config{Filter: only})
	blind := open(t, l, "client", &rawsock.Config{Filter: only, IgnoreOutgoing: true})
	payload := []byte("own frame")
	if _, err := sender.c.Write(frame(layers.EthernetBroadcast, sender.ifi.HardwareAddr, payload)); err != nil {
		t.Fatal(err)
	}
	// The kernel never loops a frame back to the socket that sent it, but
	// every other socket of the host sees it, as outgoing.
	_, info := readUntil(t, sees.c, 2*time.Second, func(b []byte, _ rawsock.PacketInfo) bool { return bytes.HasSuffix(b, payload) })
	if info.PktType != rawsock.PktOutgoing {
		t.Errorf("own frame has type %v, want Out", info.PktType)
	}
	blind.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, info, err := blind.c.ReadFrom(make([]byte, 1500)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("with IgnoreOutgoing read %d bytes (type %v), err %v; want a timeout", n, info.PktType, err)
	}
	sender.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := sender.c.ReadFrom(make([]byte, 1500)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the sender read its own frame back (err %v)", err)
	}
}

// udpFilter accepts IPv4 UDP only.
func udpFilter(t testing.TB) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 3},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// ipv4Frame serialises an Ethernet/IPv4 frame with the given transport
// layers.
func ipv4Frame(t testing.TB, dstMAC, srcMAC net.HardwareAddr, src, dst netip.Addr, l4 ...gopacket.SerializableLayer) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	switch l := l4[0].(type) {
	case *layers.UDP:
		ip.Protocol = layers.IPProtocolUDP
		l.SetNetworkLayerForChecksum(ip)
	case *layers.ICMPv4:
		ip.Protocol = layers.IPProtocolICMPv4
	}
	buf := gopacket.NewSerializeBuffer()
	all := append([]gopacket.SerializableLayer{eth, ip}, l4...)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPacketConnFilter(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	client := open(t, l, "client", nil)
	target := open(t, l, "target", &rawsock.Config{Filter: udpFilter(t)})
	src, dst := l.Addr("client"), l.Addr("target")
	icmp := ipv4Frame(t, target.ifi.HardwareAddr, client.ifi.HardwareAddr, src, dst,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 7, Seq: 1}, gopacket.Payload("icmp"))
	udp := ipv4Frame(t, target.ifi.HardwareAddr, client.ifi.HardwareAddr, src, dst,
		&layers.UDP{SrcPort: 40000, DstPort: 9}, gopacket.Payload("udp"))
	for _, f := range [][]byte{icmp, udp, icmp} {
		if _, err := client.c.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 2048)
	target.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := target.c.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], udp) {
		t.Fatalf("first frame through the UDP filter is %x, want the UDP frame %x", buf[:n], udp)
	}
	// The target answers the UDP datagram with an ICMP port unreachable and
	// sends ARP: none of it may pass either.
	target.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := target.c.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the UDP filter let %x through (err %v)", buf[:n], err)
	}
}

func TestPacketConnDeadlineAndClose(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	c := open(t, l, "target", &rawsock.Config{Protocol: testProto}).c
	buf := make([]byte, 1500)

	start := time.Now()
	c.SetReadDeadline(start.Add(100 * time.Millisecond))
	_, _, err := c.ReadFrom(buf)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom after the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > time.Second {
		t.Errorf("deadline of 100ms returned after %v", d)
	}

	// A past deadline unblocks a pending read.
	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, _, err := c.ReadFrom(buf); done <- err }()
	time.Sleep(50 * time.Millisecond)
	c.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read unblocked by a past deadline: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("a past deadline did not unblock ReadFrom")
	}

	// Close unblocks a pending read.
	c.SetReadDeadline(time.Time{})
	go func() { _, _, err := c.ReadFrom(buf); done <- err }()
	time.Sleep(50 * time.Millisecond)
	start = time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("read unblocked by Close: %v, want net.ErrClosed", err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("Close took %v to unblock the read", d)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not unblock ReadFrom")
	}
	if _, _, err := c.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadFrom after Close: %v, want net.ErrClosed", err)
	}
}

// numbered returns n frames of testProto to dst, each carrying its index.
func numbered(dst, src net.HardwareAddr, n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		p := make([]byte, 46)
		binary.BigEndian.PutUint32(p, uint32(i))
		copy(p[4:], "sonde-batch")
		frames[i] = frame(dst, src, p)
	}
	return frames
}

func TestPacketConnWriteBatch(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	for _, cfg := range []rawsock.Config{{}, {QdiscBypass: true}, {QdiscBypass: true, SendOnly: true}} {
		bypass := fmt.Sprintf("%+v", cfg)
		client := open(t, l, "client", &cfg)
		target := open(t, l, "target", &rawsock.Config{Protocol: testProto})
		const n = 300 // more than BatchSize, less than the veth backlog
		frames := numbered(target.ifi.HardwareAddr, client.ifi.HardwareAddr, n)
		sent, err := client.c.WriteBatch(frames)
		if err != nil || sent != n {
			t.Fatalf("bypass %v: WriteBatch = %d, %v; want %d, nil", bypass, sent, err, n)
		}
		seen := make([]bool, n)
		buf := make([]byte, 2048)
		target.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for i := range n {
			m, _, err := target.c.ReadFrom(buf)
			if err != nil {
				t.Fatalf("bypass %v: after %d of %d frames: %v", bypass, i, n, err)
			}
			k := binary.BigEndian.Uint32(buf[14:m])
			if k >= n || seen[k] || !bytes.Equal(buf[:m], frames[k]) {
				t.Fatalf("bypass %v: frame %d: unexpected or repeated %x", bypass, i, buf[:m])
			}
			seen[k] = true
		}
		st, err := target.c.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Packets != n || st.Drops != 0 {
			t.Errorf("bypass %v: Stats = %+v, want %d packets, no drops", bypass, st, n)
		}
		if !cfg.SendOnly {
			continue
		}
		// A send-only connection refuses reads and is handed no frame:
		// frames sent back reach a control connection, not it.
		if _, _, err := client.c.ReadFrom(buf); err == nil {
			t.Error("ReadFrom on a send-only connection: no error")
		}
		control := open(t, l, "client", &rawsock.Config{Protocol: testProto})
		back := numbered(client.ifi.HardwareAddr, target.ifi.HardwareAddr, 10)
		if sent, err := target.c.WriteBatch(back); err != nil || sent != len(back) {
			t.Fatalf("sending back: %d, %v", sent, err)
		}
		control.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for i := range back {
			if _, _, err := control.c.ReadFrom(buf); err != nil {
				t.Fatalf("control connection, frame %d: %v", i, err)
			}
		}
		if st, err := client.c.Stats(); err != nil || st.Packets != 0 {
			t.Errorf("send-only connection: Stats = %+v, %v; want no packet", st, err)
		}
	}
}

func TestPacketConnStatsCountDrops(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	client := open(t, l, "client", nil)
	// The smallest receive buffer the kernel allows holds a few frames.
	target := open(t, l, "target", &rawsock.Config{Protocol: testProto, RecvBuffer: 1})
	const n = 200
	frames := numbered(target.ifi.HardwareAddr, client.ifi.HardwareAddr, n)
	total := rawsock.Stats{}
	for round := range 2 {
		if sent, err := client.c.WriteBatch(frames); err != nil || sent != n {
			t.Fatalf("WriteBatch = %d, %v", sent, err)
		}
		// Let the frames cross the veth (softirq) before reading the counters.
		deadline := time.Now().Add(2 * time.Second)
		var st rawsock.Stats
		for {
			var err error
			if st, err = target.c.Stats(); err != nil {
				t.Fatal(err)
			}
			if st.Packets >= uint64(n*(round+1)) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st.Packets != uint64(n*(round+1)) {
			t.Errorf("round %d: Stats.Packets = %d, want %d (accumulated)", round, st.Packets, n*(round+1))
		}
		if st.Drops <= total.Drops || st.Drops >= st.Packets {
			t.Errorf("round %d: Stats.Drops = %d (before %d) of %d: want new drops with a tiny buffer", round, st.Drops, total.Drops, st.Packets)
		}
		total = st
		// Drain what was queued.
		buf := make([]byte, 2048)
		target.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		for {
			if _, _, err := target.c.ReadFrom(buf); err != nil {
				break
			}
		}
	}
}

func TestPacketConnLANBroadcastAndCooked(t *testing.T) {
	l := labtest.New(t, "lan", lab.Options{NoServices: true, Hosts: 3})
	client := open(t, l, "client", nil)
	hosts := []string{"h1", "h2", "h3"}
	var eps []endpoint
	for _, h := range hosts {
		eps = append(eps, open(t, l, h, &rawsock.Config{Protocol: testProto}))
	}
	payload := []byte("to everyone")
	if _, err := client.c.Write(frame(layers.EthernetBroadcast, client.ifi.HardwareAddr, payload)); err != nil {
		t.Fatal(err)
	}
	for i, e := range eps {
		_, info := readUntil(t, e.c, 2*time.Second, func(b []byte, _ rawsock.PacketInfo) bool { return bytes.HasSuffix(b, payload) })
		if info.PktType != rawsock.PktBroadcast {
			t.Errorf("%s: broadcast frame has type %v", hosts[i], info.PktType)
		}
	}

	// A cooked socket reads IP packets without the Ethernet header.
	cooked := open(t, l, "h2", &rawsock.Config{Protocol: rawsock.ProtoIPv4, Cooked: true})
	if r := l.Command("client", "ping", "-n", "-c", "1", "-W", "2", l.Addr("h2").String()); r.Code != 0 {
		t.Logf("ping: %s%s", r.Stdout, r.Stderr)
	}
	got, info := readUntil(t, cooked.c, 2*time.Second, func(b []byte, _ rawsock.PacketInfo) bool {
		return len(b) >= 20 && b[0]>>4 == 4 && b[9] == 1 // IPv4 ICMP
	})
	if src := netip.AddrFrom4([4]byte(got[12:16])); src != l.Addr("client") {
		t.Errorf("cooked packet from %v, want the client's %v", src, l.Addr("client"))
	}
	if info.Protocol != rawsock.ProtoIPv4 || !bytes.Equal(info.HardwareAddr(), client.ifi.HardwareAddr) {
		t.Errorf("cooked info: protocol %#x from %v", info.Protocol, info.HardwareAddr())
	}
}

// TestPacketConnConcurrent writes from two goroutines on one connection
// while another reads and a fourth reads the counters (run it with -race).
func TestPacketConnConcurrent(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	client := open(t, l, "client", nil)
	target := open(t, l, "target", &rawsock.Config{Protocol: testProto})
	const n = 200
	frames := numbered(target.ifi.HardwareAddr, client.ifi.HardwareAddr, 2*n)
	got := make(chan int, 1)
	go func() {
		buf := make([]byte, 2048)
		target.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		k := 0
		for ; k < 2*n; k++ {
			if _, _, err := target.c.ReadFrom(buf); err != nil {
				break
			}
		}
		got <- k
	}()
	errs := make(chan error, 3)
	go func() {
		for _, f := range frames[:n] {
			if _, err := client.c.Write(f); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	go func() {
		_, err := client.c.WriteBatch(frames[n:])
		errs <- err
	}()
	go func() {
		for range 50 {
			if _, err := target.c.Stats(); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if k := <-got; k != 2*n {
		t.Errorf("target read %d frames, want %d", k, 2*n)
	}
}

func TestPacketConnPromisc(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	promiscuity := func() string {
		t.Helper()
		f := strings.Fields(l.Command("target", "ip", "-d", "link", "show", "eth0").Stdout)
		for i := range f[:len(f)-1] {
			if f[i] == "promiscuity" {
				return f[i+1]
			}
		}
		t.Fatal("ip -d link shows no promiscuity")
		return ""
	}
	if p := promiscuity(); p != "0" {
		t.Fatalf("promiscuity %s before the test", p)
	}
	e := open(t, l, "target", &rawsock.Config{Promisc: true})
	if p := promiscuity(); p != "1" {
		t.Errorf("promiscuity %s with a Promisc connection open, want 1", p)
	}
	e.c.Close()
	if p := promiscuity(); p != "0" {
		t.Errorf("promiscuity %s after Close, want 0", p)
	}
	if _, err := rawsock.Listen(0, &rawsock.Config{Promisc: true}); err == nil {
		t.Error("Promisc on all interfaces did not fail")
	}
}

// TestCooked sends and reads packets without link-layer headers: on lo,
// where another cooked socket reads the packet sent, and on Ethernet, where
// the kernel adds the header for the hardware address given and the
// target's echo reply comes back without one.
func TestCooked(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	var send, recv *rawsock.PacketConn
	var lo *net.Interface
	var err error
	cooked := &rawsock.Config{Cooked: true, Protocol: rawsock.ProtoIPv4}
	l.Do("client", func() {
		if lo, err = net.InterfaceByName("lo"); err != nil {
			return
		}
		if send, err = rawsock.Listen(lo.Index, cooked); err == nil {
			recv, err = rawsock.Listen(lo.Index, cooked)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	defer recv.Close()
	local := netip.MustParseAddr("127.0.0.1")
	pkt := echoRequest(t, local, local, 0x10, 0x20)
	if _, err := send.Write(pkt); err != nil {
		t.Fatal(err)
	}
	got, info := readUntil(t, recv, 2*time.Second, func(b []byte, _ rawsock.PacketInfo) bool { return bytes.Equal(b, pkt) })
	if info.Ifindex != lo.Index || info.Protocol != rawsock.ProtoIPv4 || info.PktType != rawsock.PktHost {
		t.Errorf("on lo read %x as %+v; want it incoming on lo (%d), IPv4", got, info, lo.Index)
	}

	eth := open(t, l, "client", cooked)
	tg := open(t, l, "target", nil)
	const id, seq = 0x11, 0x22
	req := echoRequest(t, l.Addr("client"), l.Addr("target"), id, seq)
	if _, err := eth.c.WriteToHW(req, eth.ifi.Index, tg.ifi.HardwareAddr); err != nil {
		t.Fatal(err)
	}
	readUntil(t, eth.c, 2*time.Second, func(b []byte, _ rawsock.PacketInfo) bool { return isEchoReply(rawsock.IPv4, b, id, seq) })
}

// TestMisuse checks that wrong calls fail with an error, not a send.
func TestMisuse(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	var all, cooked *rawsock.PacketConn
	var err error
	long := make([]bpf.RawInstruction, 5000)
	l.Do("client", func() {
		if _, err := rawsock.Listen(-1, nil); err == nil {
			t.Error("Listen(-1) did not fail")
		}
		if _, err := rawsock.Listen(0, &rawsock.Config{Filter: long}); err == nil {
			t.Error("a filter of 5000 instructions was accepted")
		}
		if _, err := rawsock.ListenIP(rawsock.Family(5), 1, nil); err == nil {
			t.Error("ListenIP of family 5 did not fail")
		}
		if all, err = rawsock.Listen(0, nil); err != nil {
			return
		}
		cooked, err = rawsock.Listen(1, &rawsock.Config{Cooked: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	defer cooked.Close()
	f := frame(layers.EthernetBroadcast, layers.EthernetBroadcast, []byte("x"))
	if _, err := all.Write(f); err == nil {
		t.Error("Write on a connection bound to all interfaces did not fail")
	}
	if _, err := all.WriteBatch([][]byte{f}); err == nil {
		t.Error("WriteBatch on a connection bound to all interfaces did not fail")
	}
	if _, err := cooked.Write([]byte{0x00, 1, 2, 3}); err == nil {
		t.Error("a cooked all-protocols connection sent a packet that is not IP")
	}
	all.Close()
	if _, err := all.WriteTo(f, 1); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteTo after Close: %v, want net.ErrClosed", err)
	}
	if err := all.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
}
