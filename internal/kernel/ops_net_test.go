package kernel

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func cidr(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return &net.IPNet{IP: ip.To4(), Mask: n.Mask}
}

// The commands are today's, exactly: a replayed script depends on them.
func TestNetCommands(t *testing.T) {
	mac, _ := net.ParseMAC("02:42:0a:00:00:02")
	r := Rule{Table: "nat", Chain: "MYDOCKER-POSTROUTING", Args: []string{"-s", "10.0.0.0/24", "!", "-o", "br0", "-j", "MASQUERADE"}}
	for _, c := range []struct {
		op   Op
		want string
	}{
		{BridgeAdd{Name: "br0"}, "ip link add br0 type bridge"},
		{VethAdd{Host: "vethabc", Peer: "eth0", MAC: mac, Pid: 42}, "ip link add vethabc type veth peer name eth0 address 02:42:0a:00:00:02 netns 42"},
		{VethAdd{Host: "veth0", Peer: "veth1", Pid: 42}, "ip link add veth0 type veth peer name veth1 netns 42"},
		{LinkDel{Name: "br0"}, "ip link del br0"},
		{LinkSetUp{Name: "br0"}, "ip link set dev br0 up"},
		{LinkSetUp{In: 42, Name: "lo"}, "nsenter -t 42 -n ip link set dev lo up"},
		{LinkSetMaster{Name: "vethabc", Master: "br0"}, "ip link set dev vethabc master br0"},
		{LinkSetHairpin{Name: "vethabc"}, "ip link set dev vethabc type bridge_slave hairpin on"},
		{AddrAdd{Dev: "br0", Addr: cidr("10.0.0.1/24")}, "ip addr add 10.0.0.1/24 brd 10.0.0.255 dev br0"},
		{AddrAdd{In: 42, Dev: "eth0", Addr: cidr("10.0.0.2/24")}, "nsenter -t 42 -n ip addr add 10.0.0.2/24 brd 10.0.0.255 dev eth0"},
		{AddrDel{Dev: "br0", Addr: cidr("10.0.0.1/24")}, "ip addr del 10.0.0.1/24 dev br0"},
		{RouteAddDefault{In: 42, Gw: net.ParseIP("10.0.0.1"), Dev: "eth0"}, "nsenter -t 42 -n ip route add default via 10.0.0.1"},
		{Sysctl{Key: "net.ipv4.ip_forward", Value: "1"}, "sysctl -w net.ipv4.ip_forward=1"},
		{Sysctl{Key: SysctlIface("ipv4", "br.0", "route_localnet"), Value: "1"}, "sysctl -w net/ipv4/conf/br.0/route_localnet=1"},
		{ChainFlush{Table: "nat", Chain: "MYDOCKER"}, "iptables -t nat -F MYDOCKER"},
		{ChainDelete{Table: "nat", Chain: "MYDOCKER"}, "iptables -t nat -X MYDOCKER"},
		{RuleDelete{Rule: r}, "iptables -t nat -D MYDOCKER-POSTROUTING -s 10.0.0.0/24 '!' -o br0 -j MASQUERADE"},
	} {
		if got := c.op.Command().Text(nil); got != c.want {
			t.Errorf("%T: got  %s\nwant %s", c.op, got, c.want)
		}
	}
}

// Deleting a link takes, in a plan as in the kernel, its veth peer and the
// addresses and routes planned on either.
func TestPlanLinkDelTakesWhatHangsOnIt(t *testing.T) {
	p := NewPlan(MapWorld{}, nil)
	err := p.Do(
		BridgeAdd{Name: "br0"},
		AddrAdd{Dev: "br0", Addr: cidr("10.0.0.1/24")},
		VethAdd{Host: "vethabc", Peer: "eth0", Pid: 42},
		AddrAdd{In: 42, Dev: "eth0", Addr: cidr("10.0.0.2/24")},
		RouteAddDefault{In: 42, Gw: net.ParseIP("10.0.0.1"), Dev: "eth0"},
		LinkDel{Name: "vethabc", Peer: "eth0", PeerIn: 42},
		LinkDel{Name: "br0"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if m := p.Made(); len(m) != 0 {
		t.Errorf("made: %v", m)
	}
	// Gone already: skipped, not refused.
	if err := p.Do(LinkDel{Name: "br0"}); err != nil || len(p.Ops) != 7 {
		t.Errorf("second delete: %v, %d ops", err, len(p.Ops))
	}
}

func TestPlanChains(t *testing.T) {
	r := Rule{Table: "nat", Chain: "MYDOCKER-P-1", Args: []string{"-p", "tcp", "-j", "DNAT", "--to-destination", "10.0.0.2:80"}}
	p := NewPlan(nil, nil)
	if err := p.Do(IptablesRestore{Lines: []RestoreLine{{Verb: VerbNewChain, Rule: Rule{Table: "nat", Chain: "MYDOCKER-P-1"}}, {Verb: VerbAppend, Rule: r}}}); err != nil {
		t.Fatal(err)
	}
	err := p.Do(ChainDelete{Table: "nat", Chain: "MYDOCKER-P-1"})
	if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), "still holds 1 rule") {
		t.Fatalf("deleting a chain with a rule: %v", err)
	}
	if err := p.Do(ChainFlush{Table: "nat", Chain: "MYDOCKER-P-1"}, ChainDelete{Table: "nat", Chain: "MYDOCKER-P-1"}); err != nil {
		t.Fatal(err)
	}
	n := len(p.Ops)
	if err := p.Do(RuleDelete{Rule: r}, ChainDelete{Table: "nat", Chain: "MYDOCKER-P-1"}); err != nil || len(p.Ops) != n {
		t.Errorf("deleting what is gone: %v, %d ops planned", err, len(p.Ops)-n)
	}
}

// A world's rules count too: a plan over the running kernel refuses to
// delete a chain that holds rules it never planned.
func TestPlanWorldRules(t *testing.T) {
	r := Rule{Table: "nat", Chain: "MYDOCKER", Args: []string{"-j", "MYDOCKER-P-1"}}
	w := MapWorld{ChainObj("nat", "MYDOCKER"): true, r.Object(): true}
	p := NewPlan(w, nil)
	if err := p.Do(ChainDelete{Table: "nat", Chain: "MYDOCKER"}); !errors.Is(err, ErrPlan) {
		t.Fatalf("got %v", err)
	}
	if err := p.Do(RuleDelete{Rule: r}, ChainDelete{Table: "nat", Chain: "MYDOCKER"}); err != nil {
		t.Fatal(err)
	}
	if rm := p.Removed(); len(rm) != 2 {
		t.Errorf("removed %v", rm)
	}
}

func TestPlanSysctlSkippedWhenSet(t *testing.T) {
	w := MapWorld{SysctlObj("net.ipv4.ip_forward", "1"): true}
	p := NewPlan(w, nil)
	if err := p.Do(Sysctl{Key: "net.ipv4.ip_forward", Value: "1"}); err != nil || len(p.Ops) != 0 {
		t.Errorf("%v, %d ops", err, len(p.Ops))
	}
	p = NewPlan(nil, nil)
	if err := p.Do(Sysctl{Key: "net.ipv4.ip_forward", Value: "1"}, Sysctl{Key: "net.ipv4.ip_forward", Value: "1"}); err != nil || len(p.Ops) != 1 {
		t.Errorf("%v, %d ops", err, len(p.Ops))
	}
}

func TestSplitRuleSpec(t *testing.T) {
	got := splitRuleSpec(`-A MYDOCKER -m comment --comment "a b" -j X`)
	want := []string{"-A", "MYDOCKER", "-m", "comment", "--comment", "a b", "-j", "X"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
}
