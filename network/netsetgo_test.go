package network

import (
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func nsgOpts(pid int) NetsetgoOptions {
	return NetsetgoOptions{BridgeName: NetsetgoBridge, BridgeAddress: NetsetgoBridgeAddress,
		VethNamePrefix: NetsetgoVethPrefix, ContainerAddress: NetsetgoContainerAddress, Pid: pid, NAT: true}
}

func TestPlanNetsetgo(t *testing.T) {
	p, err := planNetsetgo(nsgOpts(42))
	if err != nil {
		t.Fatal(err)
	}
	if p.bridgeNet.String() != "10.10.10.1/24" || p.subnet.String() != "10.10.10.0/24" || p.container.String() != "10.10.10.2/24" {
		t.Errorf("plan = %+v", p)
	}
	// The original gives the container the bridge's prefix length.
	o := nsgOpts(42)
	o.ContainerAddress = "10.10.10.7/16"
	if p, err := planNetsetgo(o); err != nil || p.container.String() != "10.10.10.7/24" {
		t.Errorf("container address with another prefix: %v %v", p, err)
	}
	for _, tc := range []struct {
		change func(*NetsetgoOptions)
		want   string
	}{
		{func(o *NetsetgoOptions) { o.Pid = 0 }, "netsetgo needs a pid"},
		{func(o *NetsetgoOptions) { o.Pid = -3 }, "invalid pid"},
		{func(o *NetsetgoOptions) { o.BridgeName = "" }, "bridge name"},
		{func(o *NetsetgoOptions) { o.BridgeName = "a-very-long-bridge-name" }, "at most 15"},
		{func(o *NetsetgoOptions) { o.BridgeName = "a/b" }, "no '/'"},
		{func(o *NetsetgoOptions) { o.VethNamePrefix = "abcdefghijklmn" }, "at most 13"},
		{func(o *NetsetgoOptions) { o.BridgeAddress = "10.10.10.1" }, "CIDR"},
		{func(o *NetsetgoOptions) { o.BridgeAddress = "fd00::1/64" }, "IPv4"},
		{func(o *NetsetgoOptions) { o.BridgeAddress = "10.10.10.0/24" }, "network or broadcast"},
		{func(o *NetsetgoOptions) { o.BridgeAddress = "10.10.10.1/32" }, "no room"},
		{func(o *NetsetgoOptions) { o.ContainerAddress = "x" }, "container address"},
		{func(o *NetsetgoOptions) { o.ContainerAddress = "10.10.11.2/24" }, "outside the bridge's subnet"},
		{func(o *NetsetgoOptions) { o.ContainerAddress = "10.10.10.1/24" }, "the bridge's own address"},
		{func(o *NetsetgoOptions) { o.ContainerAddress = "10.10.10.255/24" }, "network or broadcast"},
	} {
		o := nsgOpts(42)
		tc.change(&o)
		if _, err := planNetsetgo(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", o, err, tc.want)
		}
	}
}

func TestNetsetgoPair(t *testing.T) {
	for i, want := range [][2]string{{"veth0", "veth1"}, {"veth2", "veth3"}, {"veth20", "veth21"}} {
		n := []int{0, 1, 10}[i]
		if h, p := NetsetgoPair("veth", n); h != want[0] || p != want[1] {
			t.Errorf("pair %d = %s/%s, want %v", n, h, p, want)
		}
	}
}

// A netsetgo bridge shares mydocker's base chains: removing the last
// mydocker network keeps them (and netsetgo's rules) until netsetgo's
// cleanup, which leaves the rules as they were before.
func TestNetsetgoSharesTheBaseChains(t *testing.T) {
	m, _ := testManager(t)
	before := snap(t)
	pid := sleeper(t)
	mustCreate(t, m, "testnet", "192.168.51.0/24")
	o := nsgOpts(pid)
	o.BridgeName = "nsgbr0"
	w, err := m.Netsetgo(o)
	if err != nil {
		t.Fatal(err)
	}
	if w.HostVeth != "veth0" || w.PeerVeth != "veth1" || w.Bridge != "nsgbr0" {
		t.Errorf("wiring = %+v", w)
	}
	if _, err := m.Netsetgo(o); err == nil || !strings.Contains(err.Error(), "already wired") {
		t.Errorf("second wiring of the same pid: %v", err)
	}
	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	if rules := run(t, "iptables", "-t", "nat", "-S", "MYDOCKER-POSTROUTING"); !strings.Contains(rules, "-s 10.10.10.0/24 ! -o nsgbr0") {
		t.Errorf("netsetgo's masquerade went with the last network:\n%s", rules)
	}
	if err := ping(pid, "10.10.10.1"); err != nil {
		t.Error(err)
	}
	if err := m.NetsetgoCleanup(pid, "nsgbr0"); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName("nsgbr0"); err == nil {
		t.Error("the bridge netsetgo created is still there")
	}
	before.check(t)
}
