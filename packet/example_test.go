package packet_test

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"

	"sonde/packet"
)

func Example() {
	t, err := packet.Parse(`IP(dst="198.18.0.0/31")/TCP(dport=[22,80], flags="S")`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Count(), "packets")
	buf := gopacket.NewSerializeBuffer()
	d := packet.NewDecoder(packet.LinkRaw)
	for p := range t.All() {
		p.Fill(netip.MustParseAddr("198.18.0.1"), nil, nil)
		if err := p.SerializeIP(buf); err != nil {
			fmt.Println(err)
			return
		}
		d.Decode(buf.Bytes())
		fmt.Println(string(d.AppendTCPDump(nil)))
	}
	// Output:
	// 4 packets
	// IP 198.18.0.1.20 > 198.18.0.0.22: Flags [S], seq 0, win 8192, length 0
	// IP 198.18.0.1.20 > 198.18.0.0.80: Flags [S], seq 0, win 8192, length 0
	// IP 198.18.0.1.20 > 198.18.0.1.22: Flags [S], seq 0, win 8192, length 0
	// IP 198.18.0.1.20 > 198.18.0.1.80: Flags [S], seq 0, win 8192, length 0
}

func ExampleParse_error() {
	_, err := packet.Parse(`IP(dst="198.18.0.2", ttl=300)/UDP()`)
	fmt.Println(err)
	// Output:
	// packet: column 26: value 300 out of range for field "ttl" (0..255)
}

func ExampleDecoder_AppendShow() {
	t, _ := packet.Parse(`IP(src="198.18.0.1", dst="198.18.0.2")/UDP(sport=4000, dport=53)/DNS(qd=DNSQR(qname="target.lab"))`)
	buf := gopacket.NewSerializeBuffer()
	t.At(0).SerializeIP(buf)
	d := packet.NewDecoder(packet.LinkRaw)
	d.Decode(buf.Bytes())
	fmt.Println(string(d.AppendSummary(nil)))
	fmt.Println(string(d.AppendTCPDump(nil)))
	fmt.Print(string(packet.AppendHexdump(nil, d.Data)))
	fmt.Println(string(d.AppendJSON(nil)))
	// Output:
	// IP / UDP / DNS Qry "target.lab."
	// IP 198.18.0.1.4000 > 198.18.0.2.53: 0+ A? target.lab. (28)
	// 0000  45 00 00 38 00 01 00 00 40 11 EE 8C C6 12 00 01  E..8....@.......
	// 0010  C6 12 00 02 0F A0 00 35 00 24 50 F5 00 00 01 00  .......5.$P.....
	// 0020  00 01 00 00 00 00 00 00 06 74 61 72 67 65 74 03  .........target.
	// 0030  6C 61 62 00 00 01 00 01                          lab.....
	// {"ip":{"ip.version":"4","ip.hdr_len":"20","ip.dsfield":"0x00","ip.len":"56","ip.id":"0x0001","ip.flags":"0x00","ip.frag_offset":"0","ip.ttl":"64","ip.proto":"17","ip.checksum":"0xee8c","ip.src":"198.18.0.1","ip.dst":"198.18.0.2"},"udp":{"udp.srcport":"4000","udp.dstport":"53","udp.length":"36","udp.checksum":"0x50f5"},"dns":{"dns.id":"0x0000","dns.flags":"0x0100","dns.count.queries":"1","dns.count.answers":"0","dns.count.auth_rr":"0","dns.count.add_rr":"0","dns.qry.name":"target.lab","dns.qry.type":"1","dns.qry.class":"0x0001"}}
}
