package filter_test

import (
	"errors"
	"fmt"

	"sonde/filter"
)

func ExampleCompile() {
	prog, err := filter.Compile("tcp dst port 80 and tcp[tcpflags] & tcp-syn != 0", filter.LinkTypeEthernet, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	// An Ethernet/IPv4/TCP SYN to port 80, and the same bytes with a UDP
	// protocol number.
	syn := []byte{
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
		0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x04, 0, 0, 0, 0, 0,
	}
	fmt.Println(prog.Match(syn, len(syn)))
	udp := append([]byte(nil), syn...)
	udp[23] = 17
	fmt.Println(prog.Match(udp, len(udp)))
	// Output:
	// true
	// false
}

func ExampleProgram_Instructions() {
	prog, err := filter.Compile("ip6 and udp", filter.LinkTypeEthernet, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ins := range prog.Instructions() {
		fmt.Println(ins)
	}
	// Output:
	// ldh [12]
	// jneq #34525,6
	// ldb [20]
	// jeq #17,3
	// jneq #44,3
	// ldb [54]
	// jneq #17,1
	// ret #262144
	// ret #0
}

func ExampleSyntaxError() {
	_, err := filter.Compile("tcp port 80 and host", filter.LinkTypeEthernet, 0)
	var se *filter.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(err)
		fmt.Println(se.Caret())
	}
	// Output:
	// filter: unexpected end of expression, expected an address, number or name at column 21 of "tcp port 80 and host"
	// tcp port 80 and host
	//                     ^
}
