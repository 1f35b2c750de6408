package overlay

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
	"github.com/mydocker/mydocker/internal/testns"
)

// Two simulated hosts: network namespaces on an underlay bridge, each
// with a bridge for its containers and one "container" namespace on it,
// as the overlay driver will make them. The hosts' vxlan devices and
// peers are programmed only through VTEPOps and PeerOps, by this test
// binary re-run inside each host's namespace (as mydocker runs on a host).

// stepEnv carries a hostStep to the helper run in a host's namespace.
const stepEnv = "OVERLAY_HOST_STEP"

func TestMain(m *testing.M) {
	if os.Getenv(stepEnv) != "" {
		os.Exit(m.Run()) // already in the namespace the test chose
	}
	testns.Main(m)
}

// hostStep is what the helper does on one host.
type hostStep struct {
	Action string // "vtep", "peers" (program Want), "read"
	Dev    string
	VNI    int
	Subnet string // this host's subnet
	Local  string // its advertise address
	Want   []wantPeer
	Out    string // where the narration and what was read go
}

type wantPeer struct{ Subnet, PublicIP, Host string }

// TestHostStepHelper is the helper; it skips when not run as one.
func TestHostStepHelper(t *testing.T) {
	var s hostStep
	if err := json.Unmarshal([]byte(os.Getenv(stepEnv)), &s); err != nil {
		t.Skip("helper of the two-host tests")
	}
	rec := &narration{}
	l := logrus.New()
	l.SetOutput(&rec.text)
	l.SetFormatter(narrate.TextFormatter{})
	l.AddHook(rec)
	k := kernel.NewNarrating(l)
	defer k.Close()
	var err error
	switch s.Action {
	case "vtep":
		var dev string
		var mtu int
		if dev, mtu, err = UnderlayFor(net.ParseIP(s.Local)); err == nil {
			err = k.Do(VTEPOps(s.Dev, s.VNI, subnet(s.Subnet), net.ParseIP(s.Local), dev, mtu)...)
		}
	case "peers":
		var have []Peer
		if have, err = ReadPeers(s.Dev); err == nil {
			var want []Peer
			for _, w := range s.Want {
				want = append(want, NewPeer(subnet(w.Subnet), net.ParseIP(w.PublicIP), w.Host))
			}
			err = k.Do(PeerOps(s.Dev, have, want)...)
		}
	case "read":
		var have []Peer
		if have, err = ReadPeers(s.Dev); err == nil {
			var b []byte
			b, err = json.Marshal(have)
			os.WriteFile(s.Out+".read", b, 0o644)
		}
	}
	os.WriteFile(s.Out+".log", []byte(rec.text.String()), 0o644)
	os.WriteFile(s.Out+".cmds", []byte(strings.Join(rec.cmds, "\n")), 0o644)
	if err != nil {
		t.Fatal(err)
	}
}

// narration keeps the text log, and the commands of its "$" lines: a
// logrus hook.
type narration struct {
	text strings.Builder
	cmds []string
}

func (n *narration) Levels() []logrus.Level { return logrus.AllLevels }
func (n *narration) Fire(e *logrus.Entry) error {
	if cmd, ok := strings.CutPrefix(e.Message, "$ "); ok {
		n.cmds = append(n.cmds, cmd)
	}
	return nil
}

// simHost is one simulated host: its namespace's process and addresses.
type simHost struct {
	name   string
	pid    int // holds the host's network namespace
	ctr    int // holds its container's
	public string
	subnet string
}

// step runs the helper in h's namespace and returns its narration.
func (h simHost) step(t *testing.T, s hostStep) []string {
	t.Helper()
	s.Out = filepath.Join(t.TempDir(), h.name)
	b, _ := json.Marshal(s)
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(h.pid), "-n", os.Args[0], "-test.run=^TestHostStepHelper$", "-test.v")
	cmd.Env = append(os.Environ(), stepEnv+"="+string(b))
	out, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(s.Out + ".log")
	t.Logf("%s %s:\n%s", h.name, s.Action, log)
	if err != nil {
		t.Fatalf("%s on %s: %v\n%s", s.Action, h.name, err, out)
	}
	cmds, _ := os.ReadFile(s.Out + ".cmds")
	if len(cmds) == 0 {
		return nil
	}
	return strings.Split(string(cmds), "\n")
}

// read is what ReadPeers finds on h.
func (h simHost) read(t *testing.T) []Peer {
	t.Helper()
	s := hostStep{Action: "read", Dev: "vx-ov1", Out: filepath.Join(t.TempDir(), h.name)}
	b, _ := json.Marshal(s)
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(h.pid), "-n", os.Args[0], "-test.run=^TestHostStepHelper$")
	cmd.Env = append(os.Environ(), stepEnv+"="+string(b))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("read on %s: %v\n%s", h.name, err, out)
	}
	var peers []Peer
	data, _ := os.ReadFile(s.Out + ".read")
	if err := json.Unmarshal(data, &peers); err != nil {
		t.Fatalf("read on %s: %v: %s", h.name, err, data)
	}
	return peers
}

// topology is the shell commands that build the two hosts around $H1,
// $H2 (the hosts' namespaces) and $C1, $C2 (their containers'): the
// underlay ul0 (10.99.0.0/24), each host's eth0 on it, its bridge br-ov1
// with the gateway of its subnet, its container's veth on that bridge
// with the overlay MTU, and ip_forward on. The test runs them, and so does
// the replay, before the narrated steps.
func topology(hosts []simHost) []string {
	lines := []string{"ip link add ul0 type bridge", "ip link set ul0 up"}
	for i, h := range hosts {
		H, C := fmt.Sprintf("$H%d", i+1), fmt.Sprintf("$C%d", i+1)
		in := "nsenter -t " + H + " -n "
		gw, ctr := strings.TrimSuffix(h.subnet, "0/24")+"1/24", strings.TrimSuffix(h.subnet, "0/24")+"2/24"
		lines = append(lines,
			fmt.Sprintf("ip link add ul-%s type veth peer name eth0 netns %s", h.name, H),
			fmt.Sprintf("ip link set ul-%s master ul0", h.name),
			fmt.Sprintf("ip link set ul-%s up", h.name),
			in+"ip link set lo up",
			in+"ip addr add "+h.public+"/24 dev eth0",
			in+"ip link set eth0 up",
			in+"sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'",
			in+"ip link add br-ov1 type bridge",
			in+"ip addr add "+gw+" dev br-ov1",
			in+"ip link set br-ov1 up",
			in+"ip link add v-"+h.name+" mtu 1450 type veth peer name eth0 mtu 1450 netns "+C,
			in+"ip link set v-"+h.name+" master br-ov1",
			in+"ip link set v-"+h.name+" up",
			"nsenter -t "+C+" -n ip link set lo up",
			"nsenter -t "+C+" -n ip addr add "+ctr+" dev eth0",
			"nsenter -t "+C+" -n ip link set eth0 up",
			"nsenter -t "+C+" -n ip route add default via "+strings.TrimSuffix(gw, "/24"),
		)
	}
	return lines
}

// vars are the topology's variables for hosts.
func vars(hosts []simHost) []string {
	var env []string
	for i, h := range hosts {
		env = append(env, fmt.Sprintf("H%d=%d", i+1, h.pid), fmt.Sprintf("C%d=%d", i+1, h.ctr))
	}
	return env
}

// twoHosts makes the two hosts in the test's namespace.
func twoHosts(t *testing.T) []simHost {
	t.Helper()
	testns.RequireRoot(t)
	hosts := []simHost{
		{name: "h1", pid: testns.Sleeper(t), ctr: testns.Sleeper(t), public: "10.99.0.11", subnet: "10.200.1.0/24"},
		{name: "h2", pid: testns.Sleeper(t), ctr: testns.Sleeper(t), public: "10.99.0.12", subnet: "10.200.2.0/24"},
	}
	env := append(os.Environ(), vars(hosts)...)
	for _, l := range topology(hosts) {
		cmd := exec.Command("sh", "-c", l)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", l, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", "ul0").Run() })
	return hosts
}

// ping sends one ping from the namespace of pid.
func ping(pid int, ip string) error {
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-n", "busybox", "ping", "-c", "1", "-W", "2", ip).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s: %v: %s", ip, err, out)
	}
	return nil
}

// counters are dev's received and sent packets in the namespace of pid.
func counters(t *testing.T, pid int, dev string) (rx, tx uint64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) != dev {
			continue
		}
		f := strings.Fields(rest)
		rx, _ = strconv.ParseUint(f[1], 10, 64)
		tx, _ = strconv.ParseUint(f[9], 10, 64)
		return rx, tx
	}
	t.Fatalf("no %s in the namespace of pid %d:\n%s", dev, pid, b)
	return 0, 0
}

// show runs a command in the namespace of pid and returns its output.
func show(t *testing.T, pid int, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(pid), "-n"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
