package report_test

import (
	"fmt"
	"io"
	"os"

	"sonde/capfile"
	"sonde/report"
)

// Example writes the page of a capture file, read once, and says what it
// shows.
func Example() {
	f, err := os.Open("../analyze/testdata/mix.pcap")
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
	rep := report.New(&report.Config{Title: "mix.pcap", Top: 10})
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err != nil {
			break // io.EOF, or damage: the page shows what was read
		}
		rep.Add(data, ci.Timestamp, ci.Length, ci.LinkType)
	}
	if err := rep.WriteHTML(io.Discard); err != nil { // a file, in a program
		fmt.Println(err)
		return
	}
	st := rep.Stats()
	fmt.Println(st)
	fmt.Printf("%d protocols plotted, %d rows of hierarchy, %d countries on the map\n", st.Series, st.Protocols, st.MapCountries)
	// Output:
	// 400 packets, 16 IP conversations, 32 IP endpoints (0 located in 0 countries)
	// 7 protocols plotted, 13 rows of hierarchy, 175 countries on the map
}
