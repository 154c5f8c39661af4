package labsvc_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"

	"sonde/internal/labsvc"
)

func Example() {
	// Port 0: the kernel picks a free port; Specs tells which.
	srv, err := labsvc.Listen([]labsvc.Spec{{Kind: labsvc.SMTP}}, &labsvc.Config{Hostname: "mail.lab"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()

	port := srv.Specs()[0].Port
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := bufio.NewReader(c)
	greeting, _ := r.ReadString('\n')
	fmt.Fprintf(c, "HELO client.lab\r\n")
	reply, _ := r.ReadString('\n')
	c.Close()
	fmt.Printf("%q\n%q\n", greeting, reply)

	cancel()
	fmt.Println(<-done)
	// Output:
	// "220 mail.lab ESMTP Postfix (Debian/GNU)\r\n"
	// "250 mail.lab\r\n"
	// <nil>
}
