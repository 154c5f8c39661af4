package labsvc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is a service that a Server can run. Each kind has one transport,
// given by its Network method; echo and dns exist over both, as Echo (TCP)
// and UDPEcho, DNS (UDP) and DNSTCP.
type Kind uint8

// The kinds of service. The zero Kind is invalid.
const (
	SSH     Kind = iota + 1 // OpenSSH-like banner and key-exchange start, TCP
	HTTP                    // nginx-like web server, TCP
	HTTPS                   // the same over TLS with a self-signed certificate, TCP
	SMTP                    // Postfix-like mail server dialogue, TCP
	FTP                     // vsFTPd-like control connection that accepts no login, TCP
	MySQL                   // MySQL protocol v10 handshake, then access denied, TCP
	Redis                   // RESP server, a read-only replica with an empty database, TCP
	Echo                    // RFC 862 echo, TCP
	Banner                  // sends Config.Banner and discards what it reads, TCP
	DNSTCP                  // the DNS service over TCP (RFC 7766), TCP
	DNS                     // authoritative DNS for Config.Names (A, AAAA, PTR, ANY), UDP
	NTP                     // stratum-2 NTP server (RFC 5905 mode 4 replies), UDP
	UDPEcho                 // RFC 862 echo, UDP
	SNMP                    // SNMPv1/v2c agent answering system-group gets for community "public", UDP
	numKinds
)

var kindNames = [numKinds]string{
	SSH: "ssh", HTTP: "http", HTTPS: "https", SMTP: "smtp", FTP: "ftp", MySQL: "mysql",
	Redis: "redis", Echo: "echo", Banner: "banner", DNSTCP: "dns", DNS: "dns", NTP: "ntp", UDPEcho: "echo",
	SNMP: "snmp",
}

// Kinds lists every valid Kind, TCP kinds first.
func Kinds() []Kind {
	ks := make([]Kind, 0, numKinds-1)
	for k := SSH; k < numKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}

// String returns the kind's name as the spec syntax spells it ("ssh",
// "dns"); both Echo and UDPEcho are "echo", both DNS and DNSTCP "dns".
func (k Kind) String() string {
	if k == 0 || k >= numKinds {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Network returns "tcp" or "udp", the transport of the kind, or "" for an
// invalid kind.
func (k Kind) Network() string {
	switch {
	case k >= SSH && k <= DNSTCP:
		return "tcp"
	case k >= DNS && k < numKinds:
		return "udp"
	}
	return ""
}

// Spec is one service to run: a kind on a port. Port 0 asks the kernel for
// a free port (see Server.Addrs).
type Spec struct {
	Kind Kind
	Port uint16
}

// String returns the spec as "kind:port/network", which ParseSpecs accepts.
func (s Spec) String() string {
	return s.Kind.String() + ":" + strconv.Itoa(int(s.Port)) + "/" + s.Kind.Network()
}

// Short returns the shortest form of the spec that ParseSpecs(…, "") reads
// back as s: "ssh:22", "dns:53", with the transport only where the name
// alone means the other one ("dns:53/tcp", "echo:7/udp").
func (s Spec) Short() string {
	short := s.Kind.String() + ":" + strconv.Itoa(int(s.Port))
	if back, err := ParseSpec(short, ""); err == nil && back == s {
		return short
	}
	return s.String()
}

// ErrSpec is wrapped by every error of ParseSpecs and ParseSpec, so callers
// can tell bad input from other failures.
var ErrSpec = errors.New("bad service spec")

// ParseSpecs parses a comma-separated list of services such as
// "ssh:22,http:8080,dns:53". Each item is KIND:PORT with an optional
// "/tcp" or "/udp" suffix ("echo:7/udp"). network is "tcp", "udp" or "":
// with "tcp" or "udp" every item must be of that transport and the suffix
// may be left out; with "" an item without suffix takes its kind's usual
// transport (dns, ntp and snmp are UDP, the others TCP: "dns:53/tcp" is
// DNS over TCP). Spaces around
// items are ignored and empty items are skipped, so "" yields no specs.
// The error names the offending item.
func ParseSpecs(list, network string) ([]Spec, error) {
	if network != "" && network != "tcp" && network != "udp" {
		return nil, fmt.Errorf("labsvc: %w: unknown network %q (want tcp or udp)", ErrSpec, network)
	}
	var specs []Spec
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		s, err := ParseSpec(item, network)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// ParseSpec parses one KIND:PORT[/NETWORK] item; see ParseSpecs.
func ParseSpec(item, network string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("labsvc: %w %q: %s", ErrSpec, item, fmt.Sprintf(format, args...))
	}
	name, port, ok := strings.Cut(item, ":")
	if !ok {
		return bad("want KIND:PORT, e.g. ssh:22")
	}
	port, suffix, hasSuffix := strings.Cut(port, "/")
	if hasSuffix {
		if suffix != "tcp" && suffix != "udp" {
			return bad("unknown transport %q (want tcp or udp)", suffix)
		}
		if network != "" && suffix != network {
			return bad("a %s service in a %s list", suffix, network)
		}
		network = suffix
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if network == "" && name == "dns" {
		network = "udp" // DNS is UDP first; DNS over TCP must be asked for
	}
	var kind Kind
	for k := SSH; k < numKinds; k++ {
		if kindNames[k] != name {
			continue
		}
		if network == "" || k.Network() == network {
			kind = k
			break
		}
		if kind == 0 {
			kind = k // remember a match on the wrong transport for the message
		}
	}
	switch {
	case kind == 0:
		return bad("unknown service %q (known: %s)", name, knownKinds())
	case network != "" && kind.Network() != network:
		return bad("%s is a %s service, not %s", name, kind.Network(), network)
	}
	p, err := strconv.ParseUint(strings.TrimSpace(port), 10, 16)
	if err != nil {
		return bad("port %q is not a number from 0 to 65535", port)
	}
	return Spec{Kind: kind, Port: uint16(p)}, nil
}

func knownKinds() string {
	var tcp, udp []string
	for k := SSH; k < numKinds; k++ {
		if k.Network() == "tcp" {
			tcp = append(tcp, k.String())
		} else {
			udp = append(udp, k.String())
		}
	}
	return "tcp " + strings.Join(tcp, " ") + "; udp " + strings.Join(udp, " ")
}
