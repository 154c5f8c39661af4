package cli

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"sonde/internal/labsvc"
)

func init() { register(newLabServeCmd, "lab-serve") }

func newLabServeCmd(e *env) *cobra.Command {
	var (
		tcp, udp, names []string
		cfg             labsvc.Config
		verbose         bool
	)
	cmd := &cobra.Command{
		Use:   "lab-serve --tcp KIND:PORT,… --udp KIND:PORT,… [--hostname H] [--name NAME=ADDR]…",
		Short: "Run the lab's network services in the current network namespace",
		Long: `lab-serve runs the services that "sonde lab" gives its target hosts — in the
current network namespace, on the wildcard address (IPv4 and IPv6), until
interrupted. It prints one line per service once every socket is open.

TCP kinds: ssh http https smtp ftp mysql redis echo banner dns
UDP kinds: dns ntp echo snmp

The DNS service answers for the names given with --name (A, AAAA and PTR);
the HTTPS certificate is made for --hostname and those names.`,
		Example: `  sonde lab-serve --tcp ssh:22,http:80,https:443 --udp dns:53,ntp:123 \
    --hostname target.lab --name target.lab=198.19.0.10 --name target.lab=fd00::10`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var specs []labsvc.Spec
			for _, l := range []struct {
				network string
				items   []string
			}{{"tcp", tcp}, {"udp", udp}} {
				for _, item := range l.items {
					s, err := labsvc.ParseSpecs(item, l.network)
					if err != nil {
						return asUsage(err)
					}
					specs = append(specs, s...)
				}
			}
			if len(specs) == 0 {
				return usagef("lab-serve: no service given (use --tcp and --udp, e.g. --tcp ssh:22 --udp dns:53)")
			}
			zone, err := parseNames(names)
			if err != nil {
				return asUsage(err)
			}
			cfg.Names = zone
			if verbose {
				cfg.Logger = eventLogger(e.stderr)
			}
			srv, err := labsvc.Listen(specs, &cfg)
			if errors.Is(err, labsvc.ErrSpec) || errors.Is(err, labsvc.ErrConfig) {
				return asUsage(err)
			}
			if err != nil {
				return err
			}
			defer srv.Close()
			addrs := srv.Addrs()
			for i, sp := range srv.Specs() {
				fmt.Fprintf(e.stdout, "%-14s listening on %s\n", sp, addrs[i])
			}
			return srv.Serve(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&tcp, "tcp", nil, "TCP services, KIND:PORT,… (repeatable)")
	f.StringArrayVar(&udp, "udp", nil, "UDP services, KIND:PORT,… (repeatable)")
	f.StringVar(&cfg.Hostname, "hostname", labsvc.DefaultHostname, "host name the services announce")
	f.StringArrayVar(&names, "name", nil, "DNS record NAME=ADDR[,ADDR…] (repeatable)")
	f.DurationVar(&cfg.Timeout, "timeout", labsvc.DefaultTimeout, "longest wait for a client's next message")
	f.IntVar(&cfg.MaxConns, "max-conns", labsvc.DefaultMaxConns, "TCP connections served at once; more are reset")
	f.StringVar(&cfg.Banner, "banner", "", "text of the banner service (default \"sonde lab service on HOSTNAME ready\")")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every connection, request and datagram to stderr")
	return cmd
}

// parseNames turns NAME=ADDR[,ADDR…] items into a DNS zone.
func parseNames(items []string) (map[string][]netip.Addr, error) {
	zone := make(map[string][]netip.Addr)
	for _, item := range items {
		name, list, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("lab-serve: --name %q: want NAME=ADDR", item)
		}
		name = strings.TrimSpace(name)
		for a := range strings.SplitSeq(list, ",") {
			addr, err := netip.ParseAddr(strings.TrimSpace(a))
			if err != nil {
				return nil, fmt.Errorf("lab-serve: --name %q: %w", item, err)
			}
			zone[name] = append(zone[name], addr)
		}
	}
	return zone, nil
}

// eventLogger writes each event as one line, serialised.
func eventLogger(w io.Writer) func(labsvc.Event) {
	var mu sync.Mutex
	return func(ev labsvc.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s\n", ev.Time.Format(time.TimeOnly+".000"), ev)
	}
}
