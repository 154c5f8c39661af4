package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sonde/internal/labsvc"
	"sonde/lab"
)

func init() { register(newLabCmd, "lab") }

func newLabCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Build a virtual practice network of namespaces, and run commands in it",
		Long: `The lab is a network of Linux network namespaces joined by virtual links,
with routers, faults and services, built on this machine and nowhere else.
It has no route out: whatever you run inside can reach only the lab.

Practise on it, not on networks you do not own.`,
	}
	cmd.AddCommand(newLabUpCmd(e), newLabExecCmd(e), newLabLsCmd(e), newLabDownCmd(e), newLabDemoCmd(e))
	return cmd
}

// labEnv names the environment variable that tells a command run by the
// lab (lab exec, lab demo) which lab it runs in.
const labEnv = "SONDE_LAB"

// labFlags are the flags that shape a built-in topology.
type labFlags struct {
	routers, hosts int
	loss           float64
	lossAt         []string
	silent         []string
	drop, reject   string
	ratelimit      string
	services       string
	name           string
}

func (f *labFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.routers, "routers", 0, "routers in chain (default 6) or demo (default 3)")
	fl.IntVar(&f.hosts, "hosts", 0, "hosts on the LAN of lan (default 4) or demo (default 3)")
	fl.Float64Var(&f.loss, "loss", 0, "random loss in percent, each way, at the target")
	fl.StringSliceVar(&f.lossAt, "loss-at", nil, "random loss at another node: NODE=PERCENT (repeatable)")
	fl.StringSliceVar(&f.silent, "silent", nil, "routers that never send ICMP time-exceeded (e.g. r3)")
	fl.StringVar(&f.drop, "drop", "", "ports the target drops silently (filtered), e.g. 8081,9000")
	fl.StringVar(&f.reject, "reject", "", "ports the target rejects with ICMP admin-prohibited")
	fl.StringVar(&f.ratelimit, "icmp-ratelimit", "", `ICMP error rate limit on every node: a duration ("1s"), or "off"; default: the kernel's`)
	fl.StringVar(&f.services, "services", "", `services on the target, e.g. "ssh:22,http:80,dns:53", or "none"; default: ftp, ssh, smtp, http, https, mysql, http-alt, dns, ntp, echo`)
	fl.StringVar(&f.name, "name", "", "name of the lab (default: random)")
}

// topology builds the topology the flags ask for; every error is a usage
// error, reported before anything is created.
func (f *labFlags) topology(name string) (lab.Topology, error) {
	o := lab.Options{Routers: f.routers, Hosts: f.hosts, Loss: f.loss, Silent: f.silent}
	var err error
	if o.Drop, err = parsePortList("--drop", f.drop); err != nil {
		return lab.Topology{}, err
	}
	if o.Reject, err = parsePortList("--reject", f.reject); err != nil {
		return lab.Topology{}, err
	}
	switch f.ratelimit {
	case "":
	case "off", "0":
		o.ICMPRateLimit = lab.NoRateLimit
	default:
		d, err := time.ParseDuration(f.ratelimit)
		if err != nil || d <= 0 {
			return lab.Topology{}, usagef("--icmp-ratelimit %q: want a positive duration such as 1s, or off", f.ratelimit)
		}
		o.ICMPRateLimit = d
	}
	switch f.services {
	case "":
	case "none":
		o.NoServices = true
	default:
		if o.Services, err = labsvc.ParseSpecs(f.services, ""); err != nil {
			return lab.Topology{}, asUsage(err)
		}
	}
	t, err := lab.Build(name, o)
	if err != nil {
		return t, asUsage(err)
	}
	for _, kv := range f.lossAt {
		node, pct, ok := strings.Cut(kv, "=")
		p, perr := strconv.ParseFloat(pct, 64)
		n := t.Node(node)
		switch {
		case !ok || perr != nil:
			return t, usagef("--loss-at %q: want NODE=PERCENT, e.g. r2=5", kv)
		case n == nil:
			return t, usagef("--loss-at %q: no node %q in %s (nodes: %s)", kv, node, t.Name, strings.Join(t.NodeNames(), ", "))
		}
		n.Faults.Loss = p
	}
	return t, asUsage(t.Validate())
}

// parsePortList parses "80,443" into ports 1–65535.
func parsePortList(flag, s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	var out []uint16
	for _, item := range strings.Split(s, ",") {
		p, err := strconv.ParseUint(strings.TrimSpace(item), 10, 16)
		if err != nil || p == 0 {
			return nil, usagef("%s %q: %q is not a port from 1 to 65535", flag, s, item)
		}
		out = append(out, uint16(p))
	}
	return out, nil
}

func newLabUpCmd(e *env) *cobra.Command {
	var f labFlags
	var hold time.Duration
	var names []string
	for _, t := range lab.Topologies {
		names = append(names, fmt.Sprintf("  %-6s %s", t.Name, t.Help))
	}
	cmd := &cobra.Command{
		Use:   "up [TOPOLOGY]",
		Short: "Build a lab and keep it up until Ctrl-C (or sonde lab down)",
		Long: "Build a lab and keep it up until interrupted; meanwhile run commands in it\n" +
			"with `sonde lab exec NODE -- CMD…` from another terminal.\n\nTopologies:\n" + strings.Join(names, "\n"),
		Example: `  sonde lab up chain --routers 6 --loss 5
  sonde lab up pair --drop 8081 --reject 8082
  sonde lab up ecmp`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "demo"
			if len(args) == 1 {
				name = args[0]
			}
			topo, err := f.topology(name)
			if err != nil {
				return err
			}
			if reexec, err := needUserns(); reexec || err != nil {
				return runInUserns(cmd.Context(), e, err)
			}
			l, err := lab.Up(cmd.Context(), topo, &lab.Config{ID: f.name})
			if err != nil {
				return labError(err)
			}
			defer l.Close()
			printLab(e.stdout, l)
			if cmd.Flags().Changed("for") {
				fmt.Fprintf(e.stdout, "\nlab %s is up for %v.\n", l.ID, hold)
			} else if l.Published() {
				fmt.Fprintf(e.stdout, "\nlab %s is up. Run commands in it with `sonde lab exec NODE -- CMD…`;\nCtrl-C or `sonde lab down` tears it down.\n", l.ID)
			} else {
				fmt.Fprintf(e.stdout, "\nlab %s is up inside a user namespace: only this process sees it.\nCtrl-C tears it down.\n", l.ID)
			}
			if hold > 0 {
				ctx, cancel := context.WithTimeout(cmd.Context(), hold)
				defer cancel()
				<-ctx.Done()
			} else if !cmd.Flags().Changed("for") {
				<-cmd.Context().Done()
			}
			if err := l.Close(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "lab %s is down\n", l.ID)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().DurationVar(&hold, "for", 0, "tear the lab down after this long (0: at once, for timing a build)")
	return cmd
}

// labError turns the lab's permission failures into a usage error: with
// neither root nor user namespaces, nothing can be built.
func labError(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return usagef("%v: building a lab needs root, or user namespaces", err)
	}
	return err
}

// printLab prints the lab's nodes, interfaces and addresses.
func printLab(w io.Writer, l *lab.Lab) {
	t := l.Topology
	fmt.Fprintf(w, "lab %s: topology %s, client %s, target %s\n\n", l.ID, t.Name, t.Client, t.Target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tINTERFACE\tADDRESSES\tFAULTS\tSERVICES")
	for _, n := range t.Nodes {
		if n.Switch {
			continue
		}
		role := "host"
		if n.Router {
			role = "router"
		}
		faults, services := describeFaults(n.Faults), describeServices(n.Services)
		ifaces := t.Interfaces(n.Name)
		if len(n.Loopback) > 0 {
			ifaces = append(ifaces, lab.Iface{Name: "lo", Addrs: prefixAddrs(n.Loopback)})
		}
		for i, ifc := range ifaces {
			name, r := n.Name, role
			if i > 0 {
				name, r, faults, services = "", "", "", ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, r, ifc.Name, joinAddrs(ifc.Addrs), faults, services)
		}
	}
	tw.Flush()
}

func prefixAddrs(ps []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, len(ps))
	for i, p := range ps {
		out[i] = p.Addr()
	}
	return out
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

func describeFaults(f lab.Faults) string {
	var s []string
	if f.Loss > 0 {
		s = append(s, fmt.Sprintf("loss %g%%", f.Loss))
	}
	if f.Silent {
		s = append(s, "silent")
	}
	if len(f.Drop) > 0 {
		s = append(s, "drop "+joinPorts(f.Drop))
	}
	if len(f.Reject) > 0 {
		s = append(s, "reject "+joinPorts(f.Reject))
	}
	switch {
	case f.ICMPRateLimit == lab.NoRateLimit:
		s = append(s, "icmp-ratelimit off")
	case f.ICMPRateLimit > 0:
		s = append(s, "icmp-ratelimit "+f.ICMPRateLimit.String())
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}

func joinPorts(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

func describeServices(specs []labsvc.Spec) string {
	if len(specs) == 0 {
		return "-"
	}
	s := make([]string, len(specs))
	for i, sp := range specs {
		s[i] = fmt.Sprintf("%s:%d", sp.Kind, sp.Port)
		if sp.Kind == labsvc.UDPEcho {
			s[i] += "/udp"
		}
	}
	return strings.Join(s, ",")
}

func newLabExecCmd(e *env) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "exec NODE -- CMD [ARG…]",
		Short: "Run a command inside a node of a running lab",
		Example: `  sonde lab exec client -- ping -c 3 198.18.200.1
  sonde lab exec client -- sonde trace -n 198.18.200.1`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return usagef("lab exec: want NODE -- CMD [ARG…]")
			}
			info, err := lab.Find(id)
			if err != nil {
				return asUsage(err)
			}
			node, err := info.Node(args[0])
			if err != nil {
				return asUsage(err)
			}
			// Tell the command it runs in a lab (scan allows the lab's
			// benchmarking range there).
			os.Setenv(labEnv, info.ID)
			argv := args[1:]
			if argv[0] == "sonde" {
				if self, err := os.Executable(); err == nil {
					argv[0] = self // the same sonde as the one running the lab
				}
			}
			return node.Exec(argv)
		},
	}
	cmd.Flags().StringVar(&id, "lab", "", "the lab's name, when several are up")
	return cmd
}

func newLabLsCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the labs that are up, and leftovers of killed ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			labs, err := lab.List()
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				for _, l := range labs {
					if err := enc.Encode(l); err != nil {
						return err
					}
				}
				return nil
			}
			if len(labs) == 0 {
				fmt.Fprintln(e.stdout, "no lab is up")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "LAB\tTOPOLOGY\tSTATE\tOWNER\tNODES")
			for _, l := range labs {
				state, topo := "up", l.Topology
				switch {
				case topo == "":
					state, topo = "orphaned (sonde lab down)", "?"
				case !l.Alive:
					state = "owner gone (sonde lab down)"
				}
				var nodes []string
				for _, n := range l.Nodes {
					nodes = append(nodes, n.Name)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", l.ID, topo, state, l.Owner, strings.Join(nodes, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per lab")
	return cmd
}

func newLabDownCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "down [LAB…]",
		Short: "Tear down labs (all of them, and leftovers of killed runs, by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			done, err := lab.Down(args...)
			for _, id := range done {
				fmt.Fprintf(e.stdout, "lab %s is down\n", id)
			}
			if len(done) == 0 && err == nil {
				fmt.Fprintln(e.stdout, "no lab was up")
			}
			return err
		},
	}
}
