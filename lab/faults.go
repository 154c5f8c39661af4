package lab

import (
	"fmt"
	"math"
	"strings"
)

// nftTable is the name of the nftables table a node's faults live in.
const nftTable = "sonde"

// needsNft reports whether building t needs the nft command.
func needsNft(t *Topology) bool {
	for _, n := range t.Nodes {
		if n.Faults.any() {
			return true
		}
	}
	return false
}

// nftRules renders f as an nftables ruleset for `nft -f`, or "" when f
// needs none. Loss is applied as early (prerouting, before conntrack) and
// as late (postrouting) as possible, so forwarded, received and sent packets
// all meet it once each way; loopback traffic is spared.
func nftRules(f Faults) string {
	if !f.any() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {\n", nftTable)
	if f.Loss > 0 {
		// numgen gives 0–9999: the loss keeps two decimals.
		n := int(math.Round(f.Loss * 100))
		fmt.Fprintf(&b, "\tchain loss_in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n")
		fmt.Fprintf(&b, "\t\tiifname != \"lo\" numgen random mod 10000 < %d drop\n\t}\n", n)
		fmt.Fprintf(&b, "\tchain loss_out {\n\t\ttype filter hook postrouting priority 300; policy accept;\n")
		fmt.Fprintf(&b, "\t\toifname != \"lo\" numgen random mod 10000 < %d drop\n\t}\n", n)
	}
	if len(f.Drop) > 0 || len(f.Reject) > 0 {
		fmt.Fprintf(&b, "\tchain ports {\n\t\ttype filter hook input priority 0; policy accept;\n")
		if len(f.Drop) > 0 {
			set := portSet(f.Drop)
			fmt.Fprintf(&b, "\t\ttcp dport %s drop\n\t\tudp dport %s drop\n", set, set)
		}
		if len(f.Reject) > 0 {
			set := portSet(f.Reject)
			fmt.Fprintf(&b, "\t\ttcp dport %s reject with icmpx type admin-prohibited\n", set)
			fmt.Fprintf(&b, "\t\tudp dport %s reject with icmpx type admin-prohibited\n", set)
		}
		b.WriteString("\t}\n")
	}
	if f.Silent {
		fmt.Fprintf(&b, "\tchain silent {\n\t\ttype filter hook output priority 0; policy accept;\n")
		b.WriteString("\t\ticmp type time-exceeded drop\n\t\ticmpv6 type time-exceeded drop\n\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func portSet(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return "{ " + strings.Join(s, ", ") + " }"
}
