package capfile_test

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"

	"sonde/capfile"
)

func Example() {
	var file bytes.Buffer
	w, _ := capfile.NewWriter(&file, capfile.WriterConfig{
		Interfaces: []capfile.Interface{{Name: "lo", LinkType: layers.LinkTypeEthernet, Snaplen: 65535}},
	})
	w.WritePacket(capfile.CaptureInfo{Timestamp: time.Unix(0, 0)}, []byte{1, 2, 3}, "hello")
	w.Flush()

	r, err := capfile.NewReader(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.Format(), ci.LinkType, ci.InterfaceIndex, data, r.Comments())
	}
	// Output:
	// pcapng Ethernet 0 [1 2 3] [hello]
}
