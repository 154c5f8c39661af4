package analyze_test

import (
	"fmt"
	"io"
	"os"

	"sonde/analyze"
	"sonde/capfile"
)

// Conversations and protocol hierarchy of a capture file, in one pass.
func Example() {
	f, err := os.Open("testdata/tcpdump/whois.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := analyze.New(analyze.Config{Conversations: analyze.TCP, Hierarchy: true})
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err) // the statistics so far remain valid
			break
		}
		a.Add(data, ci.Timestamp, ci.Length, ci.LinkType)
	}
	for _, c := range a.Conversations(analyze.TCP) {
		fmt.Printf("stream %d: %s:%d -> %s:%d, %d frames %d bytes out, %d frames %d bytes back\n",
			c.Stream, c.A, c.PortA, c.B, c.PortB, c.FramesAB, c.BytesAB, c.FramesBA, c.BytesBA)
	}
	var walk func([]*analyze.ProtocolNode, string)
	walk = func(ns []*analyze.ProtocolNode, indent string) {
		for _, n := range ns {
			fmt.Printf("%s%s frames:%d bytes:%d\n", indent, n.Name, n.Frames, n.Bytes)
			walk(n.Children, indent+"  ")
		}
	}
	walk(a.Hierarchy(), "")
	// Output:
	// stream 0: 10.0.2.15:44188 -> 192.0.47.59:43, 6 frames 357 bytes out, 5 frames 527 bytes back
	// eth frames:11 bytes:884
	//   ip frames:11 bytes:884
	//     tcp frames:11 bytes:884
	//       data frames:2 bytes:354
}
