package netsetgo

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
	"github.com/mydocker/mydocker/internal/testns"
	"github.com/mydocker/mydocker/network"
)

func nsgOpts(pid int) Options {
	return Options{BridgeName: DefaultBridge, BridgeAddress: DefaultBridgeAddress,
		VethNamePrefix: DefaultVethPrefix, ContainerAddress: DefaultContainerAddress, Pid: pid, NAT: true}
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
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.Pid = 0 }, "netsetgo needs a pid"},
		{func(o *Options) { o.Pid = -3 }, "invalid pid"},
		{func(o *Options) { o.BridgeName = "" }, "bridge name"},
		{func(o *Options) { o.BridgeName = "a-very-long-bridge-name" }, "at most 15"},
		{func(o *Options) { o.BridgeName = "a/b" }, "no '/'"},
		{func(o *Options) { o.VethNamePrefix = "abcdefghijklmn" }, "at most 13"},
		{func(o *Options) { o.BridgeAddress = "10.10.10.1" }, "CIDR"},
		{func(o *Options) { o.BridgeAddress = "fd00::1/64" }, "IPv4"},
		{func(o *Options) { o.BridgeAddress = "10.10.10.0/24" }, "network or broadcast"},
		{func(o *Options) { o.BridgeAddress = "10.10.10.1/32" }, "no room"},
		{func(o *Options) { o.ContainerAddress = "x" }, "container address"},
		{func(o *Options) { o.ContainerAddress = "10.10.11.2/24" }, "outside the bridge's subnet"},
		{func(o *Options) { o.ContainerAddress = "10.10.10.1/24" }, "the bridge's own address"},
		{func(o *Options) { o.ContainerAddress = "10.10.10.255/24" }, "network or broadcast"},
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
		if h, p := Pair("veth", n); h != want[0] || p != want[1] {
			t.Errorf("pair %d = %s/%s, want %v", n, h, p, want)
		}
	}
}

// A netsetgo bridge shares mydocker's base chains: removing the last
// mydocker network keeps them (and netsetgo's rules) until netsetgo's
// cleanup, which leaves the rules as they were before.
func TestNetsetgoSharesTheBaseChains(t *testing.T) {
	testns.RequireRoot(t)
	root := t.TempDir()
	l := logrus.New()
	l.SetOutput(testWriter{t})
	l.SetFormatter(narrate.TextFormatter{})
	k := kernel.NewNarrating(l)
	m, s := network.NewManager(root, k), New(root, k)
	before := state(t)
	pid := sleeper(t)
	if _, err := m.Create(network.CreateOptions{Name: "testnet", Subnet: "192.168.51.0/24"}); err != nil {
		t.Fatal(err)
	}
	o := nsgOpts(pid)
	o.BridgeName = "nsgbr0"
	w, err := s.Wire(o)
	if err != nil {
		t.Fatal(err)
	}
	if w.HostVeth != "veth0" || w.PeerVeth != "veth1" || w.Bridge != "nsgbr0" {
		t.Errorf("wiring = %+v", w)
	}
	if _, err := s.Wire(o); err == nil || !strings.Contains(err.Error(), "already wired") {
		t.Errorf("second wiring of the same pid: %v", err)
	}
	if err := m.Remove("testnet"); err != nil {
		t.Fatal(err)
	}
	if rules := run(t, "iptables", "-t", "nat", "-S", "MYDOCKER-POSTROUTING"); !strings.Contains(rules, "-s 10.10.10.0/24 ! -o nsgbr0") {
		t.Errorf("netsetgo's masquerade went with the last network:\n%s", rules)
	}
	run(t, "nsenter", "-t", strconv.Itoa(pid), "-n", "busybox", "ping", "-c", "1", "-W", "2", "10.10.10.1")
	if err := s.Cleanup(pid, "nsgbr0"); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName("nsgbr0"); err == nil {
		t.Error("the bridge netsetgo created is still there")
	}
	if now := state(t); now != before {
		t.Errorf("links or rules changed:\nbefore:\n%s\nafter:\n%s", before, now)
	}
}

func TestMain(m *testing.M) { testns.Main(m) }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// state is the test namespace's links and rules.
func state(t *testing.T) string {
	return run(t, "ip", "-o", "link") + run(t, "iptables", "-S") + run(t, "iptables", "-t", "nat", "-S")
}

// sleeper is a process in a network namespace of its own.
func sleeper(t *testing.T) int { return testns.Sleeper(t) }

// A wiring record that does not parse or names nothing is one line naming
// the file; the other wirings still list, and a cleanup of its pid removes
// it.
func TestCorruptWiring(t *testing.T) {
	for name, content := range map[string]string{
		"null": "null", "empty": "{}", "garbage": "{not json", "other pid": `{"Pid":7,"Bridge":"b","HostVeth":"veth0","PeerVeth":"veth1"}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := New(t.TempDir(), kernel.NewReal(logrus.New()))
			path := s.wiringPath(4242)
			os.MkdirAll(s.dir(), 0o755)
			os.WriteFile(path, []byte(content), 0o644)
			if _, err := s.loadWiring(4242); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("load: %v, want an error naming %s", err, path)
			}
			if ws, err := s.loadWirings(); err != nil || len(ws) != 0 {
				t.Errorf("the others: %v, %v", ws, err)
			}
			if err := s.Cleanup(4242, ""); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("the corrupt record is left: %v", err)
			}
		})
	}
}
