package rawsock_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/bpf"

	"sonde/rawsock"
)

// Listen on eth0 for ARP only, with the filter attached before any frame
// can arrive, and read one frame or give up after a second.
func ExampleListen() {
	ifi, err := net.InterfaceByName("eth0")
	if err != nil {
		fmt.Println(err)
		return
	}
	arpOnly, _ := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(rawsock.ProtoARP), SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	c, err := rawsock.Listen(ifi.Index, &rawsock.Config{Filter: arpOnly, IgnoreOutgoing: true})
	if errors.Is(err, os.ErrPermission) {
		fmt.Println("run as root or give CAP_NET_RAW")
		return
	} else if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 1514)
	n, info, err := c.ReadFrom(buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes from %v at %v\n", n, info.HardwareAddr(), info.Time)
}

// Send a hand-built IPv4 packet through the kernel's routing.
func ExampleIPConn_WriteTo() {
	c, err := rawsock.OpenIP(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var pkt []byte // a whole IPv4 packet, header included, built with package packet
	if err := c.WriteTo(pkt, netip.MustParseAddr("127.0.0.1")); err != nil {
		fmt.Println(err)
	}
}
