//go:build linux

package rawsock_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"sonde/lab"
	"sonde/lab/labtest"
	"sonde/rawsock"
)

// echoRequest builds a whole IPv4 or IPv6 ICMP echo request, by hand.
func echoRequest(t testing.TB, src, dst netip.Addr, id, seq uint16) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	payload := gopacket.Payload("sonde echo")
	var err error
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: id, Seq: seq}
		err = gopacket.SerializeLayers(buf, opts, ip, icmp, payload)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
		if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		echo := &layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}
		err = gopacket.SerializeLayers(buf, opts, ip, icmp, echo, payload)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// isEchoReply says whether b, as a ProtoConn of family f reads it, is an
// echo reply with id and seq.
func isEchoReply(f rawsock.Family, b []byte, id, seq uint16) bool {
	if f == rawsock.IPv4 {
		if len(b) < 20 || b[0]>>4 != 4 {
			return false
		}
		b = b[int(b[0]&0x0f)*4:]
		return len(b) >= 8 && b[0] == 0 && binary.BigEndian.Uint16(b[4:]) == id && binary.BigEndian.Uint16(b[6:]) == seq
	}
	// IPv6 raw sockets deliver the payload only.
	return len(b) >= 8 && b[0] == 129 && binary.BigEndian.Uint16(b[4:]) == id && binary.BigEndian.Uint16(b[6:]) == seq
}

func TestIPConnEcho(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	var (
		send         *rawsock.IPConn
		recv4, recv6 *rawsock.ProtoConn
		err          error
	)
	l.Do("client", func() {
		if send, err = rawsock.OpenIP(nil); err != nil {
			return
		}
		if recv4, err = rawsock.ListenIP(rawsock.IPv4, 1, nil); err != nil {
			return
		}
		recv6, err = rawsock.ListenIP(rawsock.IPv6, 58, &rawsock.IPConfig{Device: "eth0"})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	defer recv4.Close()
	defer recv6.Close()

	for _, tc := range []struct {
		recv     *rawsock.ProtoConn
		src, dst netip.Addr
	}{
		{recv4, l.Addr("client"), l.Addr("target")},
		{recv6, l.Addr6("client"), l.Addr6("target")},
	} {
		const id, seq = 0x5d5d, 3
		sent := time.Now()
		if err := send.WriteTo(echoRequest(t, tc.src, tc.dst, id, seq), tc.dst); err != nil {
			t.Fatalf("WriteTo %s: %v", tc.dst, err)
		}
		tc.recv.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 1500)
		for {
			n, info, err := tc.recv.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no echo reply from %s: %v", tc.dst, err)
			}
			if !isEchoReply(tc.recv.Family(), buf[:n], id, seq) {
				continue
			}
			if info.Src != tc.dst {
				t.Errorf("echo reply from %s, want %s", info.Src, tc.dst)
			}
			if rtt := info.Time.Sub(sent); rtt <= 0 || rtt > 2*time.Second {
				t.Errorf("reply to %s received %v after the send", tc.dst, rtt)
			}
			break
		}
	}
	if err := send.WriteTo(echoRequest(t, l.Addr("client"), l.Addr("target"), 1, 1), l.Addr6("target")); err == nil {
		t.Error("WriteTo sent an IPv4 packet to an IPv6 address")
	}
}

// TestProtoConnFilter reads ICMP through a filter that passes destination
// unreachable messages only: the echo reply is filtered out, the port
// unreachable provoked by a UDP datagram to a closed port comes through.
func TestProtoConnFilter(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	unreachOnly, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadMemShift{Off: 0},          // X = IPv4 header length
		bpf.LoadIndirect{Off: 0, Size: 1}, // A = ICMP type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 3, SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		send *rawsock.IPConn
		recv *rawsock.ProtoConn
	)
	l.Do("client", func() {
		if send, err = rawsock.OpenIP(nil); err == nil {
			recv, err = rawsock.ListenIP(rawsock.IPv4, 1, &rawsock.IPConfig{Filter: unreachOnly})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	defer recv.Close()
	src, dst := l.Addr("client"), l.Addr("target")
	if err := send.WriteTo(echoRequest(t, src, dst, 1, 1), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	recv.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := recv.ReadFrom(buf); err == nil {
		t.Fatalf("the filter let %x through", buf[:n])
	}
	udp := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	u := &layers.UDP{SrcPort: 40000, DstPort: 9}
	u.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(udp, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, u, gopacket.Payload("x")); err != nil {
		t.Fatal(err)
	}
	if err := send.WriteTo(udp.Bytes(), dst); err != nil {
		t.Fatal(err)
	}
	recv.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, info, err := recv.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no port unreachable: %v", err)
	}
	if ihl := int(buf[0]&0x0f) * 4; n < ihl+2 || buf[ihl] != 3 || buf[ihl+1] != 3 || info.Src != dst {
		t.Errorf("read %x from %s, want a port unreachable from %s", buf[:n], info.Src, dst)
	}
}

// TestProtoConnTaken: Taken counts the packets read and sees those still
// in the kernel's queue.
func TestProtoConnTaken(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{NoServices: true})
	var (
		send *rawsock.IPConn
		recv *rawsock.ProtoConn
		err  error
	)
	l.Do("client", func() {
		if send, err = rawsock.OpenIP(nil); err != nil {
			return
		}
		recv, err = rawsock.ListenIP(rawsock.IPv4, 1, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	defer recv.Close()

	check := func(wantTaken uint64, wantQueued bool) {
		t.Helper()
		taken, queued, err := recv.Taken()
		if err != nil || taken != wantTaken || queued != wantQueued {
			t.Fatalf("Taken() = %d, %v, %v; want %d, %v", taken, queued, err, wantTaken, wantQueued)
		}
	}
	check(0, false)
	read := uint64(0)
	for seq := uint16(1); seq <= 2; seq++ {
		if err := send.WriteTo(echoRequest(t, l.Addr("client"), l.Addr("target"), 7, seq), l.Addr("target")); err != nil {
			t.Fatal(err)
		}
		for end := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, queued, _ := recv.Taken(); queued {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("echo reply %d: never queued", seq)
			}
		}
		check(read, true)
		recv.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 1500)
		n, _, err := recv.ReadFrom(buf)
		if err != nil || !isEchoReply(rawsock.IPv4, buf[:n], 7, seq) {
			t.Fatalf("read %d: %v, not the echo reply", seq, err)
		}
		read++
		check(read, false)
	}
	recv.Close()
	if _, _, err := recv.Taken(); err == nil {
		t.Error("Taken on a closed socket: no error")
	}
}
