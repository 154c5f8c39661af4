package cli

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"

	"sonde/capfile"
	"sonde/packet"
	"sonde/probe"
)

// pcapRecorder writes the packets of an exchange to a pcapng file: raw IP
// packets on one interface, Ethernet frames on another, each with a comment
// that ties an answer to its request.
type pcapRecorder struct{ path string }

func newPCAPRecorder(path string) (*pcapRecorder, error) {
	// Fail before anything is sent when the file cannot be written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, usagef("-w %s: %v", path, err)
	}
	f.Close()
	return &pcapRecorder{path: path}, nil
}

type recorded struct {
	t       time.Time
	link    packet.LinkType
	data    []byte
	comment string
}

func (r *pcapRecorder) writeResult(res *probe.Result) error {
	var pkts []recorded
	sent := map[uint64]bool{} // with --multi a request has several answers
	for _, p := range res.Answered {
		if !sent[p.Sent.Index] {
			sent[p.Sent.Index] = true
			pkts = append(pkts, recorded{p.Sent.Time, p.Sent.Link, p.Sent.Data, sentComment(p.Sent)})
		}
		pkts = append(pkts, recorded{p.Received.Time, p.Received.Link, p.Received.Data, fmt.Sprintf("answer to #%d", p.Sent.Index)})
	}
	for _, s := range res.Unanswered {
		pkts = append(pkts, recorded{s.Time, s.Link, s.Data, sentComment(s) + ", unanswered"})
	}
	slices.SortStableFunc(pkts, func(a, b recorded) int { return a.t.Compare(b.t) })
	return writePCAPNG(r.path, pkts)
}

func sentComment(s probe.Sent) string { return fmt.Sprintf("sent #%d", s.Index) }

// writePCAPNG writes pkts to path with one interface per link type.
func writePCAPNG(path string, pkts []recorded) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := capfile.NewWriter(f, capfile.WriterConfig{Interfaces: []capfile.Interface{
		{Name: "ip", LinkType: layers.LinkTypeRaw},
		{Name: "ether", LinkType: layers.LinkTypeEthernet},
	}})
	if err != nil {
		return err
	}
	for _, p := range pkts {
		ifc := 0
		if p.link == packet.LinkEthernet {
			ifc = 1
		}
		if err := w.WritePacket(capfile.CaptureInfo{Timestamp: p.t, InterfaceIndex: ifc}, p.data, p.comment); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
