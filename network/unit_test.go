package network

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/testns"
)

func TestMain(m *testing.M) { testns.Main(m) }

func TestParsePortMapping(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"8080:80", "8080:80/tcp", ""},
		{"8080:80/udp", "8080:80/udp", ""},
		{"127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp", ""},
		{"0.0.0.0:53:53/UDP", "53:53/udp", ""},
		{"80", "0:80/tcp", ""}, // connect picks the host port
		{"53/udp", "0:53/udp", ""},
		{"127.0.0.1::80", "127.0.0.1:0:80/tcp", ""},
		{"8080:", "", "not a number"},
		{"1:2:3:4", "", "want [[hostIP:][hostPort]:]containerPort"},
		{"0:80", "", "out of range"},
		{"65536:80", "", "out of range"},
		{"80:70000", "", "out of range"},
		{"x:80", "", "not a number"},
		{"8080:80/sctp", "", "protocol"},
		{"::1:80:80", "", "want"},
		{"foo:80:80", "", "not an IPv4 address"},
	} {
		got, err := ParsePortMapping(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParsePortMappings([]string{"8080:80", "127.0.0.1:8080:81"}); err == nil {
		t.Error("same host port twice accepted")
	}
	if _, err := ParsePortMappings([]string{"8080:80", "8080:80/udp"}); err != nil {
		t.Errorf("tcp and udp on one port refused: %v", err)
	}
	if _, err := ParsePortMappings([]string{"80", "127.0.0.1::80", "81"}); err != nil {
		t.Errorf("ports still to be picked conflict: %v", err)
	}
}

// A port to pick gets the first of the range that no endpoint publishes
// and no earlier mapping of the same request took; an explicit one stays.
func TestPickHostPorts(t *testing.T) {
	lo, _ := ephemeralRange()
	other := &Network{Name: "n", Containers: map[string]*Endpoint{
		"a": {ID: "a", Ports: []PortMapping{{HostPort: lo, ContainerPort: 80, Proto: "tcp"}, {HostPort: lo + 1, ContainerPort: 53, Proto: "udp"}}},
	}}
	req, _ := ParsePortMappings([]string{"80", "53/udp", "8080:80", "127.0.0.1::81"})
	got, err := pickHostPorts([]*Network{other}, req)
	if err != nil {
		t.Fatal(err)
	}
	if req[0].HostPort != 0 {
		t.Error("pickHostPorts changed its argument")
	}
	for i, p := range got {
		if p.HostPort == 0 || p.ContainerPort != req[i].ContainerPort || p.Proto != req[i].Proto || p.HostIP != req[i].HostIP {
			t.Errorf("mapping %d = %v, from %v", i, p, req[i])
		}
	}
	if got[2].HostPort != 8080 {
		t.Errorf("the explicit port moved: %v", got[2])
	}
	// lo is taken for tcp, lo+1 only for udp; the tcp picks differ.
	if got[0].HostPort == lo || got[1].HostPort == lo+1 || got[0].HostPort == got[3].HostPort {
		t.Errorf("picked %v, with %d/tcp and %d/udp taken", got, lo, lo+1)
	}
}

func TestPortRules(t *testing.T) {
	ports, _ := ParsePortMappings([]string{"8080:80", "127.0.0.1:5353:53/udp"})
	got := portRules("0123456789abcdef", net.ParseIP("192.168.0.2"), ports)
	want := []string{
		"nat MYDOCKER -j MYDOCKER-P-0123456789ab -m comment --comment mydocker:0123456789ab",
		"nat MYDOCKER-P-0123456789ab -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.0.2:80",
		"nat MYDOCKER-P-0123456789ab -d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 192.168.0.2:53",
		"nat MYDOCKER-POSTROUTING -s 192.168.0.2/32 -d 192.168.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment mydocker:0123456789ab -j MASQUERADE",
		"nat MYDOCKER-POSTROUTING -s 192.168.0.2/32 -d 192.168.0.2/32 -p udp -m udp --dport 53 -m comment --comment mydocker:0123456789ab -j MASQUERADE",
	}
	checkRules(t, got, want)
	if portRules("x", net.ParseIP("10.0.0.2"), nil) != nil {
		t.Error("rules without ports")
	}
	if len(portChain(strings.Repeat("f", 64))) > 28 {
		t.Error("port chain name longer than iptables allows")
	}
}

func TestNetworkRules(t *testing.T) {
	want := []string{
		"nat MYDOCKER-POSTROUTING -s 192.168.0.0/24 ! -o testnet -m comment --comment mydocker:testnet -j MASQUERADE",
		"nat MYDOCKER-POSTROUTING -s 127.0.0.0/8 -o testnet -m comment --comment mydocker:testnet -j MASQUERADE",
		"filter MYDOCKER-FORWARD -o testnet -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment mydocker:testnet -j ACCEPT",
		"filter MYDOCKER-FORWARD -i testnet -m comment --comment mydocker:testnet -j ACCEPT",
		"filter MYDOCKER-ISOLATION-1 -i testnet ! -o testnet -m comment --comment mydocker:testnet -j MYDOCKER-ISOLATION-2",
		"filter MYDOCKER-ISOLATION-2 -o testnet -m comment --comment mydocker:testnet -j DROP",
	}
	checkRules(t, NetworkRules("testnet", "192.168.0.0/24"), want)
	for _, r := range append(append(NetworkRules("testnet", "192.168.0.0/24"), baseJumps()...), portRules("0123456789abcdef", net.ParseIP("192.168.0.2"), []PortMapping{{HostPort: 1, ContainerPort: 1, Proto: "tcp"}})...) {
		if f := strings.Fields(r.Why); len(f) == 0 || f[0] != strings.ToLower(f[0]) && f[0] != strings.ToUpper(f[0]) {
			t.Errorf("rule %v: why %q (every rule says what it is for, lowercase but for acronyms)", r.Args, r.Why)
		}
	}
	jumps := []string{
		"filter MYDOCKER-FORWARD -j MYDOCKER-ISOLATION-1",
		"filter FORWARD -j MYDOCKER-FORWARD",
		"nat PREROUTING -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j MYDOCKER",
		"nat OUTPUT -m addrtype --dst-type LOCAL -j MYDOCKER",
		"nat POSTROUTING -j MYDOCKER-POSTROUTING",
	}
	checkRules(t, baseJumps(), jumps)
}

func checkRules(t *testing.T, got []Rule, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rules, want %d: %v", len(got), len(want), got)
	}
	for i, r := range got {
		if s := r.Table + " " + r.Chain + " " + strings.Join(r.Args, " "); s != want[i] {
			t.Errorf("rule %d:\n got %s\nwant %s", i, s, want[i])
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"testnet", "a", "net-1", "my_net.2", "abcdefghijklmno"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "abcdefghijklmnop", "a/b", "a b", "..", ".", "../etc", "-x", "é", "a\tb"} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOverlapAndFreeSubnet(t *testing.T) {
	cidr := func(s string) *net.IPNet { _, n, _ := net.ParseCIDR(s); return n }
	if !overlaps(cidr("10.0.0.0/8"), cidr("10.1.0.0/16")) || !overlaps(cidr("10.1.0.0/16"), cidr("10.0.0.0/8")) {
		t.Error("nested subnets do not overlap")
	}
	if overlaps(cidr("192.168.0.0/24"), cidr("192.168.1.0/24")) {
		t.Error("adjacent subnets overlap")
	}
	got, err := freeSubnet([]*net.IPNet{cidr("172.17.0.0/16")}, []*net.IPNet{cidr("172.16.0.0/13")})
	if err != nil || got.String() != "172.24.0.0/16" {
		t.Errorf("freeSubnet = %v, %v; want 172.24.0.0/16", got, err)
	}
}

func TestPlanBadInput(t *testing.T) {
	others := []*Network{{Name: "a", Subnet: "10.10.0.0/16"}}
	for _, tc := range []struct {
		opts CreateOptions
		err  string
	}{
		{CreateOptions{Name: "x", Subnet: "10.10.5.0/24"}, "overlaps network a"},
		{CreateOptions{Name: "x", Subnet: "300.1.0.0/24"}, "invalid subnet"},
		{CreateOptions{Name: "x", Subnet: "10.20.0.1/24"}, "host bits"},
		{CreateOptions{Name: "x", Subnet: "10.20.0.0/31"}, "too small"},
		{CreateOptions{Name: "x", Subnet: "10.20.0.0/24", Gateway: "10.21.0.1"}, "invalid gateway"},
		{CreateOptions{Name: "x", Subnet: "10.20.0.0/24", Gateway: "10.20.0.255"}, "invalid gateway"},
		{CreateOptions{Name: "x", Subnet: "10.20.0.0/24", Gateway: "bogus"}, "invalid gateway"},
		{CreateOptions{Name: "x", Subnet: "10.20.0.0/24", IPRange: "10.21.0.0/28"}, "--ip-range"},
		{CreateOptions{Name: "host", Subnet: "10.20.0.0/24"}, "predefined"},
	} {
		_, err := plan(tc.opts, tc.opts.Name, others)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: err = %v, want %q", tc.opts, err, tc.err)
		}
	}
	nw, err := plan(CreateOptions{Name: "x", Subnet: "10.20.0.0/24", Gateway: "10.20.0.254", IPRange: "10.20.0.128/25"}, "x", others)
	if err != nil {
		t.Fatal(err)
	}
	if pool, err := poolOf(nw); err != nil || nw.IpRange != "10.20.0.254/24" || nw.Gateway != "10.20.0.254" || !pool.InUse(net.ParseIP("10.20.0.254")) {
		t.Errorf("plan = %+v", nw)
	}
}

func TestHostsAndResolv(t *testing.T) {
	self := &Endpoint{ID: "1", Name: "web", Hostname: "abc123", IP: "10.0.0.2"}
	other := &Endpoint{ID: "2", Name: "db", Hostname: "db", IP: "10.0.0.3"}
	got := string(hostsContent(self, []*Endpoint{self, other}))
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "10.0.0.2\tabc123 web\n", "10.0.0.3\tdb\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts lacks %q:\n%s", want, got)
		}
	}
	host := []byte("# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example.com\noptions ndots:2\nnameserver ::1\n")
	r, _ := resolvConfContent(host, nil)
	if string(r) != "search example.com\noptions ndots:2\nnameserver 10.0.0.1\n" {
		t.Errorf("resolv.conf:\n%s", r)
	}
	r, _ = resolvConfContent([]byte("nameserver 127.0.0.1\n"), nil)
	if !strings.Contains(string(r), "nameserver 8.8.8.8") {
		t.Errorf("only local nameservers: %s", r)
	}
	r, _ = resolvConfContent(host, []string{"1.1.1.1"})
	if !strings.HasSuffix(string(r), "nameserver 1.1.1.1\n") || strings.Contains(string(r), "10.0.0.1") {
		t.Errorf("--dns: %s", r)
	}
	if _, err := resolvConfContent(host, []string{"nope"}); err == nil {
		t.Error("bad --dns accepted")
	}
	// In place: the inode stays (a bind mount pins it).
	p := t.TempDir() + "/hosts"
	os.WriteFile(p, []byte("a much longer old content\n"), 0o644)
	before, _ := os.Stat(p)
	if err := (kernel.WriteFile{Path: p, Content: "new\n", Create: true}).Apply(nil); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	data, _ := os.ReadFile(p)
	if !os.SameFile(before, after) || string(data) != "new\n" {
		t.Errorf("rewrite: same inode %v, content %q", os.SameFile(before, after), data)
	}
}

func TestNames(t *testing.T) {
	v := vethName("0123456789abcdef", "testnet")
	if len(v) != 15 || !strings.HasPrefix(v, "veth0123456") {
		t.Errorf("veth name %q", v)
	}
	if vethName("0123456789", "a") == vethName("0123456789", "b") {
		t.Error("same veth name on two networks")
	}
	if m := macFor(net.ParseIP("192.168.0.2")).String(); m != "02:42:c0:a8:00:02" {
		t.Errorf("mac %s", m)
	}
}
