package labsvc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseSpecs(t *testing.T) {
	for _, tc := range []struct {
		list, network string
		want          []Spec
	}{
		{"ssh:22,http:8080,dns:53", "", []Spec{{SSH, 22}, {HTTP, 8080}, {DNS, 53}}},
		{" SSH:22 , ,https:443,", "tcp", []Spec{{SSH, 22}, {HTTPS, 443}}},
		{"echo:7", "", []Spec{{Echo, 7}}},
		{"echo:7", "udp", []Spec{{UDPEcho, 7}}},
		{"echo:7/udp,echo:7/tcp", "", []Spec{{UDPEcho, 7}, {Echo, 7}}},
		{"dns:53,ntp:123,snmp:161", "udp", []Spec{{DNS, 53}, {NTP, 123}, {SNMP, 161}}},
		{"dns:53,dns:53/tcp", "", []Spec{{DNS, 53}, {DNSTCP, 53}}},
		{"dns:53", "tcp", []Spec{{DNSTCP, 53}}},
		{"mysql:3306,redis:6379,smtp:25,ftp:21,banner:0,http:65535", "", []Spec{{MySQL, 3306}, {Redis, 6379}, {SMTP, 25}, {FTP, 21}, {Banner, 0}, {HTTP, 65535}}},
		{"", "", nil},
	} {
		got, err := ParseSpecs(tc.list, tc.network)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseSpecs(%q, %q) = %v, %v; want %v", tc.list, tc.network, got, err, tc.want)
		}
	}
}

func TestParseSpecsErrors(t *testing.T) {
	for _, tc := range []struct {
		list, network, want string
	}{
		{"ssh:22,htp:80", "", `"htp:80": unknown service "htp"`},
		{"ssh", "", `"ssh": want KIND:PORT`},
		{"ssh:", "", `"ssh:": port "" is not a number`},
		{"ssh:65536", "", `port "65536"`},
		{"ssh:-1", "", `port "-1"`},
		{"ntp:123", "tcp", `"ntp:123": ntp is a udp service, not tcp`},
		{"ssh:22/udp", "", `"ssh:22/udp": ssh is a tcp service, not udp`},
		{"ssh:22/sctp", "", `unknown transport "sctp"`},
		{"dns:53/udp", "tcp", `a udp service in a tcp list`},
		{"ntp:123/tcp", "", `ntp is a udp service, not tcp`},
		{"ssh:22", "icmp", `unknown network "icmp"`},
	} {
		_, err := ParseSpecs(tc.list, tc.network)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrSpec) || !strings.HasPrefix(err.Error(), "labsvc: ") {
			t.Errorf("ParseSpecs(%q, %q) = %v, want an ErrSpec with %q", tc.list, tc.network, err, tc.want)
		}
	}
}

func TestKinds(t *testing.T) {
	for _, k := range Kinds() {
		s := Spec{k, 1234}
		got, err := ParseSpec(s.String(), "")
		if err != nil || got != s {
			t.Errorf("%v: ParseSpec(%q) = %v, %v", k, s.String(), got, err)
		}
		short, err := ParseSpec(s.Short(), "")
		if err != nil || short != s {
			t.Errorf("%v: ParseSpec(%q) = %v, %v", k, s.Short(), short, err)
		}
		if k.Network() != "tcp" && k.Network() != "udp" {
			t.Errorf("%v: network %q", k, k.Network())
		}
	}
	var shorts []string
	for _, s := range []Spec{{SSH, 22}, {DNS, 53}, {DNSTCP, 53}, {Echo, 7}, {UDPEcho, 7}} {
		shorts = append(shorts, s.Short())
	}
	if got, want := strings.Join(shorts, ","), "ssh:22,dns:53,dns:53/tcp,echo:7,echo:7/udp"; got != want {
		t.Errorf("Short: %s, want %s", got, want)
	}
	if Kind(0).Network() != "" || Kind(99).String() != "Kind(99)" {
		t.Error("invalid kinds")
	}
}

func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{"ssh:22,http:8080,dns:53", "echo:7/udp", "x", ":", "ssh:22/", "a:b:c,,", "DNS:0053"} {
		f.Add(s, "")
		f.Add(s, "udp")
	}
	f.Fuzz(func(t *testing.T, list, network string) {
		specs, err := ParseSpecs(list, network)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("error %v is not ErrSpec", err)
			}
			return
		}
		for _, s := range specs {
			if network != "" && s.Kind.Network() != network {
				t.Fatalf("%v in a %s list", s, network)
			}
			back, err := ParseSpec(s.String(), "")
			if err != nil || back != s {
				t.Fatalf("%v does not round-trip: %v, %v", s, back, err)
			}
		}
	})
}

func ExampleParseSpecs() {
	specs, err := ParseSpecs("ssh:22,http:80,echo:7", "tcp")
	fmt.Println(specs, err)
	specs, err = ParseSpecs("dns:53,ntp:123,echo:7", "udp")
	fmt.Println(specs, err)
	_, err = ParseSpecs("ssh:22,htp:80", "")
	fmt.Println(err)
	// Output:
	// [ssh:22/tcp http:80/tcp echo:7/tcp] <nil>
	// [dns:53/udp ntp:123/udp echo:7/udp] <nil>
	// labsvc: bad service spec "htp:80": unknown service "htp" (known: tcp ssh http https smtp ftp mysql redis echo banner dns; udp dns ntp echo snmp)
}
