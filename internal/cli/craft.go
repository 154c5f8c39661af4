package cli

import (
	"bufio"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/spf13/cobra"

	"sonde/packet"
)

func init() { register(newCraftCmd, "craft") }

func newCraftCmd(e *env) *cobra.Command {
	var show, hex, asJSON bool
	var limit uint64
	cmd := &cobra.Command{
		Use:   "craft EXPR",
		Short: "Build packets and show them, without sending anything",
		Long: `Build the packets of EXPR (see sonde sr --help) as Scapy would, and show them:
a summary line each, or every layer and field (--show), the bytes (--hex) or
JSON. Nothing is sent; addresses the expression leaves to the sender (the
source IP, the Ethernet addresses) show as zeros.`,
		Example: `  sonde craft 'IP(dst="198.18.0.2")/TCP(dport=80,flags="S")' --show --hex
  sonde craft 'IP(dst="198.18.0.2",ttl=(1,3))/UDP(dport=33434)'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTemplate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := bufio.NewWriter(e.stdout)
			defer out.Flush()
			buf := gopacket.NewSerializeBuffer()
			ds := decoders{}
			var b []byte
			n := uint64(0)
			for p := range t.All() {
				if n == limit {
					fmt.Fprintf(out, "… %d more packets (--limit)\n", t.Count()-n)
					break
				}
				n++
				link := packet.LinkEthernet
				if p.StartsWithEthernet() || p.SerializeIP(buf) != nil { // no IP layer: ARP alone, say
					if err := p.Serialize(buf); err != nil {
						return err
					}
				} else {
					link = packet.LinkRaw
				}
				d := ds.decode(link, buf.Bytes())
				switch {
				case asJSON:
					b = append(d.AppendJSON(b[:0]), '\n')
				case show:
					b = d.AppendShow(b[:0])
				default:
					b = append(d.AppendSummary(b[:0]), '\n')
				}
				if hex {
					b = packet.AppendHexdump(b, buf.Bytes())
				}
				out.Write(b)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&show, "show", false, "every layer and field (Scapy's show())")
	cmd.Flags().BoolVar(&hex, "hex", false, "the bytes, as a hexdump")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per packet")
	cmd.Flags().Uint64Var(&limit, "limit", 100, "show at most this many packets")
	return cmd
}
