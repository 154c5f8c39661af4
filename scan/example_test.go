package scan_test

import (
	"context"
	"fmt"

	"sonde/scan"
)

func ExampleParseTargets() {
	t, err := scan.ParseTargets(context.Background(), scan.TargetSpec{
		Include: []string{"198.18.0.1-4", "198.18.1-2.1"},
		Exclude: []string{"198.18.0.3"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range t.Len() {
		fmt.Println(t.At(i))
	}
	fmt.Println(t.Prefixes())
	// Output:
	// 198.18.0.1
	// 198.18.0.2
	// 198.18.0.4
	// 198.18.1.1
	// 198.18.2.1
	// [198.18.0.1/32 198.18.0.2/32 198.18.0.4/32 198.18.1.1/32 198.18.2.1/32]
}

func ExampleParsePorts() {
	p, err := scan.ParsePorts("22,80-82,U:53,T:443")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.For(scan.TCP), p.For(scan.UDP))
	_, err = scan.ParsePorts("22,80-70000")
	fmt.Println(err)
	// Output:
	// [22 80 81 82 443] [22 53 80 81 82]
	// scan: ports "22,80-70000", column 7: port: want 0 to 65535
}

func ExampleNewPermutation() {
	p := scan.NewPermutation(10, 42)
	for i := range uint64(10) {
		fmt.Print(p.At(i), " ")
	}
	fmt.Println()
	// Output:
	// 1 0 3 5 9 2 8 7 6 4
}
