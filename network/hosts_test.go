package network

import (
	"strings"
	"testing"
)

func TestParseExtraHost(t *testing.T) {
	for _, tc := range []struct{ spec, name, ip, err string }{
		{"db:10.0.0.2", "db", "10.0.0.2", ""},
		{"db=10.0.0.2", "db", "10.0.0.2", ""},
		{"v6:2001:db8::33", "v6", "2001:db8::33", ""},
		{"v6=[2001:db8::33]", "v6", "2001:db8::33", ""},
		{"gw:host-gateway", "gw", "host-gateway", ""},
		{"nohost", "", "", "want NAME:IP"},
		{":1.2.3.4", "", "", "want NAME:IP"},
		{"h:1.2.3", "", "", "not an IP address"},
		{"a b:1.2.3.4", "", "", "bad host name"},
	} {
		name, ip, err := ParseExtraHost(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || name != tc.name || ip != tc.ip {
			t.Errorf("%q: %q %q %v", tc.spec, name, ip, err)
		}
	}
	if got := ResolveExtraHosts([]string{"gw:host-gateway", "x=1.2.3.4"}, "10.0.0.1"); strings.Join(got, " ") != "gw:10.0.0.1 x:1.2.3.4" {
		t.Errorf("ResolveExtraHosts: %v", got)
	}
}

func TestHostsContentAliasesAndExtraHosts(t *testing.T) {
	self := &Endpoint{ID: "a", Name: "app", Hostname: "aaaa", IP: "10.0.0.3", ExtraHosts: []string{"gw:10.0.0.1"}}
	db := &Endpoint{ID: "b", Name: "db", Hostname: "bbbb", IP: "10.0.0.2", Aliases: []string{"database"}}
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.1\tgw\n10.0.0.3\taaaa app\n10.0.0.2\tbbbb db database\n"
	if got := string(hostsContent(self, []*Endpoint{db, self})); got != want {
		t.Errorf("hosts:\n%s\nwant\n%s", got, want)
	}
	// Its endpoint on a network joined later has no extra lines: the first's stay.
	later := &Endpoint{ID: "a", Name: "app", Hostname: "aaaa", IP: "10.1.0.2"}
	if got := string(hostsContent(later, []*Endpoint{self, later})); !strings.Contains(got, "10.0.0.1\tgw\n") {
		t.Errorf("hosts of the later endpoint lost --add-host:\n%s", got)
	}
}
