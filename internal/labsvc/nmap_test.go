package labsvc

import (
	"context"
	"encoding/xml"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nmapRun is the part of nmap's XML output the tests read.
type nmapRun struct {
	Hosts []struct {
		Ports []struct {
			Protocol string `xml:"protocol,attr"`
			PortID   uint16 `xml:"portid,attr"`
			State    struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
			Service struct {
				Name    string `xml:"name,attr"`
				Product string `xml:"product,attr"`
				Version string `xml:"version,attr"`
				Tunnel  string `xml:"tunnel,attr"`
			} `xml:"service"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

// nmapServices runs nmap -n -Pn -sV with extra flags against 127.0.0.1 on
// the ports of kinds and returns "name|product|version" by kind.
func nmapServices(t *testing.T, r *running, flags []string, kinds []Kind) map[Kind]string {
	t.Helper()
	var ports []string
	byPort := make(map[uint16]Kind)
	for _, k := range kinds {
		ports = append(ports, strconv.Itoa(int(r.port[k])))
		byPort[r.port[k]] = k
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	args := append([]string{"-n", "-Pn", "-sV", "-p", strings.Join(ports, ","), "-oX", "-"}, flags...)
	args = append(args, "127.0.0.1")
	out, err := exec.CommandContext(ctx, "nmap", args...).Output()
	if err != nil {
		t.Fatalf("nmap %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var run nmapRun
	if err := xml.Unmarshal(out, &run); err != nil {
		t.Fatalf("nmap XML: %v\n%s", err, out)
	}
	got := make(map[Kind]string)
	for _, h := range run.Hosts {
		for _, p := range h.Ports {
			s := p.Service
			got[byPort[p.PortID]] = s.Tunnel + "/" + s.Name + "|" + s.Product + "|" + s.Version
		}
	}
	return got
}

func needNmap(t *testing.T) {
	if testing.Short() {
		t.Skip("nmap service detection takes tens of seconds; skipped with -short")
	}
	if _, err := exec.LookPath("nmap"); err != nil {
		t.Skip("nmap not installed (apt-get install nmap)")
	}
}

// TestNmapNamesTCPServices proves the services realistic: nmap's own
// version detection, which matches replies against its database of real
// servers, names each service and its version.
func TestNmapNamesTCPServices(t *testing.T) {
	needNmap(t)
	r := start(t, nil)
	got := nmapServices(t, r, []string{"-sT"}, []Kind{SSH, HTTP, HTTPS, SMTP, FTP, MySQL, Redis})
	want := map[Kind]string{
		SSH:   "/ssh|OpenSSH|9.2p1 Debian 2+deb12u3",
		HTTP:  "/http|nginx|1.22.1",
		HTTPS: "ssl/http|nginx|1.22.1",
		SMTP:  "/smtp|Postfix smtpd|",
		FTP:   "/ftp|vsftpd|3.0.3",
		MySQL: "/mysql|MySQL|8.0.36-0+deb12u1",
		Redis: "/redis|Redis key-value store|", // the version needs nmap's rarer INFO probe
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%v: nmap says %q, want %q", k, got[k], w)
		}
	}
}
