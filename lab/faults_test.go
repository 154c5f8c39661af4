package lab

import (
	"strings"
	"testing"
)

func TestNftRules(t *testing.T) {
	if got := nftRules(Faults{ICMPRateLimit: NoRateLimit}); got != "" {
		t.Errorf("no faults: got rules %q", got)
	}
	got := nftRules(Faults{Loss: 5, Silent: true, Drop: []uint16{8081}, Reject: []uint16{8082, 8083}})
	for _, want := range []string{
		"hook prerouting priority -300",
		`iifname != "lo" numgen random mod 10000 < 500 drop`,
		`oifname != "lo" numgen random mod 10000 < 500 drop`,
		"tcp dport { 8081 } drop",
		"udp dport { 8082, 8083 } reject with icmpx type admin-prohibited",
		"icmp type time-exceeded drop",
		"icmpv6 type time-exceeded drop",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rules lack %q:\n%s", want, got)
		}
	}
	if got := nftRules(Faults{Loss: 0.25}); !strings.Contains(got, "< 25 drop") {
		t.Errorf("0.25%% loss: %s", got)
	}
}
