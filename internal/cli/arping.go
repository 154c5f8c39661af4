package cli

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"sonde/packet"
	"sonde/probe"
)

func init() {
	register(newARPingCmd, "arping")
	addDemoStep(demoStep{order: 11, title: "arping: who else is on the client's LAN? (ARP)", run: func(ctx context.Context, d *demo) error {
		return d.sonde(ctx, d.lab.Topology.Client, "arping", "--retry", "0", "-t", "0.3", "198.18.0.0/24")
	}})
}

func newARPingCmd(e *env) *cobra.Command {
	var iface string
	var timeout time.Duration
	var retry int
	cmd := &cobra.Command{
		Use:   "arping TARGET",
		Short: "Find who is on this Ethernet segment: an ARP request to each address",
		Long: `Broadcast an ARP "who-has" for each address of TARGET (an address or a CIDR
prefix on a directly attached segment) and list the hosts that answer, with
their MAC addresses, as Scapy's arping() does.`,
		Example: `  sonde arping 198.18.0.0/24
  sonde arping -i eth0 198.18.0.11`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := args[0]
			if !strings.Contains(target, "/") {
				target += "/32"
			}
			p, err := netip.ParsePrefix(target)
			if err != nil || !p.Addr().Is4() {
				return usagef("arping: %q is not an IPv4 address or prefix (ARP is IPv4 only; IPv6 uses neighbour discovery)", args[0])
			}
			if p.Bits() < 16 {
				return usagef("arping: %s has %d addresses; give a /16 or smaller", p, 1<<(32-p.Bits()))
			}
			if timeout <= 0 {
				return usagef("--timeout %v: must be positive", timeout)
			}
			t, err := packet.Parse(fmt.Sprintf(`Ether(dst="ff:ff:ff:ff:ff:ff")/ARP(pdst="%s")`, p.Masked()))
			if err != nil {
				return err
			}
			res, err := probe.SRP(cmd.Context(), t, &probe.Config{Timeout: timeout, Retry: retry, Interface: iface})
			if res == nil {
				return probeError(err)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "IP\tMAC\tRTT")
			seen := map[string]bool{}
			ds := decoders{}
			for _, pair := range res.Answered {
				d := ds.decode(pair.Received.Link, pair.Received.Data)
				if !d.Has(layers.LayerTypeARP) {
					continue
				}
				ip, _ := netip.AddrFromSlice(d.ARP.SourceProtAddress)
				mac := net.HardwareAddr(d.ARP.SourceHwAddress).String()
				if seen[ip.String()+mac] {
					continue
				}
				seen[ip.String()+mac] = true
				fmt.Fprintf(tw, "%s\t%s\t%s\n", ip, mac, appendRTT(nil, pair.RTT()))
			}
			tw.Flush()
			fmt.Fprintf(e.stdout, "%d of %d addresses answered, in %s.\n", len(seen), res.Stats.Answered+res.Stats.Unanswered, roundDuration(res.Stats.Elapsed))
			return probeError(err)
		},
	}
	cmd.Flags().StringVarP(&iface, "iface", "i", "", "interface (default: the route's to TARGET)")
	timeout = time.Second
	cmd.Flags().VarP(secondsFlag{&timeout}, "timeout", "t", "how long to wait for answers, in seconds or as a duration")
	cmd.Flags().IntVar(&retry, "retry", 1, "ask the silent addresses again this many times")
	return cmd
}
