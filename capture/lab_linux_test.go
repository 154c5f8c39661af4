package capture_test

import (
	"context"
	"net"
	"testing"
	"time"

	"sonde/capture"
	"sonde/lab"
	"sonde/lab/labtest"
)

// TestCaptureOnVeth captures on both ends of a lab's veth link: the
// target's copy in promiscuous mode with a kernel filter, the client's
// without, where the datagrams it sends show as outgoing.
func TestCaptureOnVeth(t *testing.T) {
	l := labtest.New(t, "pair", lab.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var atTarget, atClient *capture.Handle
	var targetIf, clientIf int
	l.Do("target", func() {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		targetIf = ifi.Index
		atTarget, err = capture.Open(ctx, capture.Config{Interface: "eth0", Promisc: true, Filter: udpDstPort(t, 9999)})
		if err != nil {
			t.Fatal(err)
		}
	})
	defer atTarget.Close()
	l.Do("client", func() {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		clientIf = ifi.Index
		atClient, err = capture.Open(ctx, capture.Config{Interface: "eth0", Filter: udpDstPort(t, 9999), Snaplen: 100})
		if err != nil {
			t.Fatal(err)
		}
	})
	defer atClient.Close()

	const n = 50
	to := &net.UDPAddr{IP: l.Addr("target").AsSlice(), Port: 9999}
	l.Do("client", func() {
		c, err := net.ListenUDP("udp4", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range n {
			if _, err := c.WriteToUDP([]byte{byte(i)}, to); err != nil {
				t.Fatal(err)
			}
			if _, err := c.WriteToUDP([]byte{byte(i)}, &net.UDPAddr{IP: to.IP, Port: 9998}); err != nil {
				t.Fatal(err)
			}
		}
	})
	got, other := readUntil(t, atTarget, n, func(data []byte, ci capture.CaptureInfo) bool {
		return udpToPort(data) == 9999 && !ci.Outgoing && ci.InterfaceIndex == targetIf
	})
	if got != n || other != 0 {
		t.Errorf("target saw %d datagrams to 9999 and %d others, want %d and 0", got, other, n)
	}
	got, other = readUntil(t, atClient, n, func(data []byte, ci capture.CaptureInfo) bool {
		return udpToPort(data) == 9999 && ci.Outgoing && ci.InterfaceIndex == clientIf
	})
	if got != n || other != 0 {
		t.Errorf("client saw %d outgoing datagrams to 9999 and %d others, want %d and 0", got, other, n)
	}
	for _, h := range []*capture.Handle{atTarget, atClient} {
		st, err := h.Stats()
		if err != nil || st.Packets != n || st.Drops != 0 {
			t.Errorf("stats %+v, %v; want %d packets, no drops", st, err, n)
		}
	}
}
