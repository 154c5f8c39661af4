package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"sonde/internal/labsvc"
)

// Config tunes Up. A nil *Config means the defaults.
type Config struct {
	// ID names the lab: its namespaces are sonde-ID-NODE. Empty picks a
	// random one. At most 8 lower-case letters and digits.
	ID string
	// Unpublished keeps the namespaces out of /run/netns: they live only
	// as long as the Lab. Up sets it by itself when it cannot publish (in a
	// user namespace).
	Unpublished bool
	// Logf, when set, receives a line per step of the build.
	Logf func(format string, args ...any)
}

// Lab is a built topology. Close tears it down.
type Lab struct {
	// ID is the lab's name; its namespaces are sonde-ID-NODE.
	ID string
	// Topology is what was built.
	Topology Topology

	nodes     map[string]*Node
	published bool
	stopSvc   context.CancelFunc
	svcDone   sync.WaitGroup
	svcErrs   chan error
	closeOnce sync.Once
	closeErr  error
}

// Node is a running node of a lab: one network namespace.
type Node struct {
	// Name is the node's name in the topology.
	Name string
	// Path is the namespace's file in /run/netns, or empty when the lab is
	// unpublished.
	Path string
	fd   int
}

// Up builds t: namespaces, links, addresses, routes, faults and services.
// On error everything it created is removed again. Services run until Close.
func Up(ctx context.Context, t Topology, cfg *Config) (_ *Lab, err error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	id := cfg.ID
	if id == "" {
		var b [3]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	if !lowerAlnum(id, 1, 8) {
		return nil, fmt.Errorf("lab: name %q: want 1 to 8 lower-case letters or digits", id)
	}
	if needsNft(&t) {
		if _, err := exec.LookPath("nft"); err != nil {
			return nil, errors.New("lab: faults need the nft command (apt-get install nftables)")
		}
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	l := &Lab{ID: id, Topology: t, nodes: map[string]*Node{}, published: !cfg.Unpublished && canPublish()}
	if l.published {
		if _, err := os.Stat(filepath.Join(netnsDir, nsName(id, t.Nodes[0].Name))); err == nil {
			return nil, fmt.Errorf("lab: a lab named %q is already up (sonde lab down %s)", id, id)
		}
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.published {
		if err := writeState(l); err != nil {
			return nil, err
		}
	}
	for _, n := range t.Nodes {
		path := ""
		if l.published {
			path = filepath.Join(netnsDir, nsName(id, n.Name))
		}
		fd, err := newNetns(path)
		if err != nil {
			return nil, err
		}
		l.nodes[n.Name] = &Node{Name: n.Name, Path: path, fd: fd}
	}
	logf("%d namespaces created", len(t.Nodes))
	for _, n := range t.Nodes {
		if err := l.configureNode(&n); err != nil {
			return nil, err
		}
	}
	for i := range t.Segments {
		if err := l.buildSegment(i); err != nil {
			return nil, err
		}
	}
	logf("%d segments linked", len(t.Segments))
	for _, n := range t.Nodes {
		if err := l.route(&n); err != nil {
			return nil, err
		}
		if err := l.faults(ctx, &n); err != nil {
			return nil, err
		}
	}
	logf("routes and faults set")
	if err := l.waitLinks(ctx); err != nil {
		return nil, err
	}
	if err := l.startServices(); err != nil {
		return nil, err
	}
	return l, nil
}

func nsName(id, node string) string { return "sonde-" + id + "-" + node }

// canPublish reports whether /run/netns can take our namespaces: only as
// root of the initial user namespace.
func canPublish() bool {
	if os.Geteuid() != 0 {
		return false
	}
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

// Node returns the named node, or nil.
func (l *Lab) Node(name string) *Node { return l.nodes[name] }

// Published reports whether the lab's namespaces are in /run/netns.
func (l *Lab) Published() bool { return l.published }

// Do runs fn in the node's namespace on the calling goroutine; see the
// package documentation for what that does and does not cover.
func (n *Node) Do(fn func() error) error { return inNetns(n.fd, fn) }

// Start starts cmd inside the node's namespace: the whole process and its
// threads run there.
func (n *Node) Start(cmd *exec.Cmd) error { return n.Do(cmd.Start) }

// Run runs cmd inside the node's namespace and waits for it.
func (n *Node) Run(cmd *exec.Cmd) error {
	if err := n.Start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// handle returns a netlink handle bound to the node's namespace.
func (n *Node) handle() (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(netns.NsHandle(n.fd))
	if err != nil {
		return nil, fmt.Errorf("lab: netlink in %s: %w", n.Name, errnoErr(err))
	}
	return h, nil
}

// sysctl writes /proc/sys/KEY (dots as slashes) in the node's namespace.
func (n *Node) sysctl(key, value string) error {
	return n.Do(func() error {
		p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("lab: %s: sysctl %s=%s: %w", n.Name, key, value, err)
		}
		return nil
	})
}

// configureNode sets the node's sysctls and brings lo up, with its
// addresses and local routes.
func (l *Lab) configureNode(spec *NodeSpec) error {
	n := l.nodes[spec.Name]
	sysctls := [][2]string{
		// Addresses are usable at once: no duplicate address detection.
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_ra", "0"},
	}
	if canPublish() {
		// Anybody may use ICMP echo sockets (unprivileged ping) inside;
		// in a user namespace only mapped groups could be named.
		sysctls = append(sysctls, [2]string{"net.ipv4.ping_group_range", "0 2147483647"})
	}
	if spec.Router {
		sysctls = append(sysctls,
			[2]string{"net.ipv4.ip_forward", "1"},
			[2]string{"net.ipv6.conf.all.forwarding", "1"},
			[2]string{"net.ipv6.conf.default.forwarding", "1"},
			// Multipath routes hash on addresses and L4 ports.
			[2]string{"net.ipv4.fib_multipath_hash_policy", "1"},
			[2]string{"net.ipv6.fib_multipath_hash_policy", "1"})
	}
	if rl := spec.Faults.ICMPRateLimit; rl != 0 {
		ms := "0"
		if rl > 0 {
			ms = fmt.Sprint(rl.Milliseconds())
		}
		sysctls = append(sysctls, [2]string{"net.ipv4.icmp_ratelimit", ms}, [2]string{"net.ipv6.icmp.ratelimit", ms})
		if rl == NoRateLimit {
			// The host-wide budget too (0 there would mean no ICMP at all).
			sysctls = append(sysctls, [2]string{"net.ipv4.icmp_msgs_per_sec", "1000000"}, [2]string{"net.ipv4.icmp_msgs_burst", "100000"})
		}
	}
	for _, kv := range sysctls {
		if err := n.sysctl(kv[0], kv[1]); err != nil {
			return err
		}
	}
	h, err := n.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lab: %s: %w", n.Name, err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lab: %s: lo up: %w", n.Name, err)
	}
	for _, p := range spec.Loopback {
		if err := h.AddrAdd(lo, addr(p)); err != nil {
			return fmt.Errorf("lab: %s: address %s on lo: %w", n.Name, p, err)
		}
	}
	for _, p := range spec.Local {
		r := &netlink.Route{Dst: ipnet(p.Masked()), LinkIndex: lo.Attrs().Index, Type: unix.RTN_LOCAL,
			Table: unix.RT_TABLE_LOCAL, Scope: unix.RT_SCOPE_HOST}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("lab: %s: local route %s: %w", n.Name, p, err)
		}
	}
	if spec.Switch {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
		if err := h.LinkAdd(br); err != nil {
			return fmt.Errorf("lab: %s: bridge: %w", n.Name, err)
		}
		if err := h.LinkSetUp(br); err != nil {
			return fmt.Errorf("lab: %s: bridge up: %w", n.Name, err)
		}
	}
	return nil
}

// buildSegment creates segment i's veth pairs, inside the namespaces from
// the start (the host never sees them), and gives them their addresses.
func (l *Lab) buildSegment(i int) error {
	s := l.Topology.Segments[i]
	ifname := func(node string) string {
		for _, ifc := range l.Topology.Interfaces(node) {
			if ifc.Segment == i {
				return ifc.Name
			}
		}
		panic("lab: member without interface") // Interfaces is derived from Segments
	}
	if s.Switch == "" {
		a, b := s.Members[0], s.Members[1]
		if err := l.veth(a.Node, ifname(a.Node), b.Node, ifname(b.Node)); err != nil {
			return err
		}
	} else {
		for _, m := range s.Members {
			if err := l.veth(s.Switch, "p"+m.Node, m.Node, ifname(m.Node)); err != nil {
				return err
			}
			if err := l.enslave(s.Switch, "p"+m.Node); err != nil {
				return err
			}
		}
	}
	for _, m := range s.Members {
		if err := l.addrs(m, ifname(m.Node), s.Prefixes); err != nil {
			return err
		}
	}
	return nil
}

// veth creates a pair with end ifa in node a and ifb in node b, both up.
func (l *Lab) veth(a, ifa, b, ifb string) error {
	na, nb := l.nodes[a], l.nodes[b]
	h, err := na.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: ifa}, PeerName: ifb, PeerNamespace: netlink.NsFd(nb.fd)}
	if err := h.LinkAdd(v); err != nil {
		return fmt.Errorf("lab: veth %s:%s–%s:%s: %w", a, ifa, b, ifb, errnoErr(err))
	}
	if err := h.LinkSetUp(v); err != nil {
		return fmt.Errorf("lab: %s:%s up: %w", a, ifa, err)
	}
	return nil
}

func (l *Lab) enslave(sw, port string) error {
	h, err := l.nodes[sw].handle()
	if err != nil {
		return err
	}
	defer h.Close()
	p, err := h.LinkByName(port)
	if err != nil {
		return fmt.Errorf("lab: %s: %w", sw, err)
	}
	br, err := h.LinkByName("br0")
	if err != nil {
		return fmt.Errorf("lab: %s: %w", sw, err)
	}
	if err := h.LinkSetMaster(p, br); err != nil {
		return fmt.Errorf("lab: %s: %s into br0: %w", sw, port, err)
	}
	return nil
}

// addrs gives member m its addresses on ifname, with the segment's prefix
// lengths, and brings the interface up.
func (l *Lab) addrs(m Member, ifname string, prefixes []netip.Prefix) error {
	h, err := l.nodes[m.Node].handle()
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("lab: %s: %w", m.Node, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("lab: %s:%s up: %w", m.Node, ifname, err)
	}
	for _, a := range m.Addrs {
		for _, p := range prefixes {
			if p.Contains(a) {
				if err := h.AddrAdd(link, addr(netip.PrefixFrom(a, p.Bits()))); err != nil {
					return fmt.Errorf("lab: %s: address %s: %w", m.Node, a, err)
				}
			}
		}
	}
	return nil
}

// route installs the node's computed routes.
func (l *Lab) route(spec *NodeSpec) error {
	routes := l.Topology.Routes(spec.Name)
	if len(routes) == 0 {
		return nil
	}
	n := l.nodes[spec.Name]
	h, err := n.handle()
	if err != nil {
		return err
	}
	defer h.Close()
	index := func(name string) (int, error) {
		link, err := h.LinkByName(name)
		if err != nil {
			return 0, fmt.Errorf("lab: %s: %w", n.Name, err)
		}
		return link.Attrs().Index, nil
	}
	for _, r := range routes {
		nr := &netlink.Route{Dst: ipnet(r.Dst)}
		for _, hop := range r.Via {
			idx, err := index(hop.Iface)
			if err != nil {
				return err
			}
			nr.MultiPath = append(nr.MultiPath, &netlink.NexthopInfo{LinkIndex: idx, Gw: hop.Gateway.AsSlice()})
		}
		if len(nr.MultiPath) == 1 {
			nr.LinkIndex, nr.Gw, nr.MultiPath = nr.MultiPath[0].LinkIndex, nr.MultiPath[0].Gw, nil
		}
		if err := h.RouteAdd(nr); err != nil {
			return fmt.Errorf("lab: %s: route to %s: %w", n.Name, r.Dst, err)
		}
	}
	return nil
}

// waitLinks waits until every link of the lab is operationally up. The
// kernel turns a new veth's carrier on, and activates its queueing
// discipline, from a deferred work item that may run up to a second later;
// until then frames sent on it are dropped.
func (l *Lab) waitLinks(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for _, n := range l.nodes {
		h, err := n.handle()
		if err != nil {
			return err
		}
		for {
			links, err := h.LinkList()
			if err != nil {
				h.Close()
				return fmt.Errorf("lab: %s: %w", n.Name, err)
			}
			down := ""
			for _, link := range links {
				a := link.Attrs()
				if a.Name != "lo" && a.OperState != netlink.OperUp {
					down = a.Name
				}
			}
			if down == "" {
				break
			}
			if time.Now().After(deadline) {
				h.Close()
				return fmt.Errorf("lab: %s: link %s is not up after 5s", n.Name, down)
			}
			select {
			case <-ctx.Done():
				h.Close()
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		h.Close()
	}
	return nil
}

// faults loads the node's nftables rules, if it has faults.
func (l *Lab) faults(ctx context.Context, spec *NodeSpec) error {
	rules := nftRules(spec.Faults)
	if rules == "" {
		return nil
	}
	cmd := exec.CommandContext(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := l.nodes[spec.Name].Run(cmd); err != nil {
		return fmt.Errorf("lab: %s: nft: %v: %s", spec.Name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// startServices opens every node's service sockets inside its namespace,
// then serves them from this process until Close.
func (l *Lab) startServices() error {
	ctx, cancel := context.WithCancel(context.Background())
	l.stopSvc = cancel
	l.svcErrs = make(chan error, len(l.Topology.Nodes))
	names := l.zone()
	for _, spec := range l.Topology.Nodes {
		if len(spec.Services) == 0 {
			continue
		}
		var srv *labsvc.Server
		cfg := &labsvc.Config{Hostname: spec.Name + ".lab", Names: names}
		err := l.nodes[spec.Name].Do(func() (err error) {
			srv, err = labsvc.Listen(spec.Services, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("lab: %s: services: %w", spec.Name, err)
		}
		l.svcDone.Add(1)
		go func() {
			defer l.svcDone.Done()
			if err := srv.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
				l.svcErrs <- fmt.Errorf("lab: %s: services: %w", spec.Name, err)
			}
		}()
	}
	return nil
}

// zone is the lab's DNS zone: NODE.lab for every node with an address.
func (l *Lab) zone() map[string][]netip.Addr {
	z := map[string][]netip.Addr{}
	for _, name := range l.Topology.NodeNames() {
		var as []netip.Addr
		for _, v6 := range []bool{false, true} {
			if a, ok := l.Topology.Addr(name, v6); ok {
				as = append(as, a)
			}
		}
		z[name+".lab"] = as
	}
	return z
}

// Close stops the services, kills any process left in the lab's
// namespaces and removes them. It is safe to call more than once.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		if l.stopSvc != nil {
			l.stopSvc()
			l.svcDone.Wait()
		}
		var errs []error
		for _, n := range l.nodes {
			if n.Path != "" {
				killIn(n.Path)
				errs = append(errs, unpublish(n.Path))
			}
			unix.Close(n.fd)
		}
		if l.published {
			errs = append(errs, removeState(l.ID))
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// Err returns the first error a service reported since Up, or nil.
func (l *Lab) Err() error {
	select {
	case err := <-l.svcErrs:
		return err
	default:
		return nil
	}
}

func addr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: ipnet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

func ipnet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
