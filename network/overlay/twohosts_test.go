package overlay

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostDump is the overlay's state on the host whose namespace is $H.
const hostDump = `
echo '== vxlan'; nsenter -t $H -n ip -d link show dev vx-ov1
echo '== addr'; nsenter -t $H -n ip -4 addr show dev vx-ov1
echo '== routes'; nsenter -t $H -n ip route show
echo '== neigh'; nsenter -t $H -n ip neigh show dev vx-ov1
echo '== fdb'; nsenter -t $H -n bridge fdb show dev vx-ov1
`

// peerText shows every field of peers.
func peerText(peers []Peer) string {
	var b strings.Builder
	for _, p := range peers {
		fmt.Fprintf(&b, "subnet %v vtep %v mac %v public %v host %q\n", p.Subnet, p.VTEP, p.MAC, p.PublicIP, p.Host)
	}
	return b.String()
}

var ifindexRE = regexp.MustCompile(`(?m)^\d+: `)

func dumpHost(t *testing.T, h simHost) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", hostDump)
	cmd.Env = append(os.Environ(), fmt.Sprintf("H=%d", h.pid))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dump %s: %v\n%s", h.name, err, out)
	}
	return ifindexRE.ReplaceAllString(string(out), "")
}

// A container on h1 pings one on h2 and back, by IP, through the vxlan
// devices (their counters grow); the narration is iproute2's; a second
// run changes nothing; removing the peer cuts the path and leaves no
// route, neighbour or fdb entry of it; and the narrated commands, run by a
// shell on two other hosts built the same way, make the same state, which
// pings as well.
func TestTwoHostsOverVxlan(t *testing.T) {
	hosts := twoHosts(t)
	h1, h2 := hosts[0], hosts[1]
	var cmds [2][]string
	for i, h := range hosts {
		cmds[i] = h.step(t, hostStep{Action: "vtep", Dev: "vx-ov1", VNI: 42, Subnet: h.subnet, Local: h.public})
	}
	want := func(h simHost) []wantPeer { return []wantPeer{{Subnet: h.subnet, PublicIP: h.public, Host: h.name}} }
	for i, h := range hosts {
		cmds[i] = append(cmds[i], h.step(t, hostStep{Action: "peers", Dev: "vx-ov1", Want: want(hosts[1-i])})...)
	}
	sameLines(t, cmds[0],
		"ip link add vx-ov1 address 0e:76:0a:c8:01:00 mtu 1450 type vxlan id 42 dstport 4789 local 10.99.0.11 dev eth0 nolearning",
		"ip addr add 10.200.1.0/32 dev vx-ov1",
		"ip link set dev vx-ov1 up",
		"ip neigh replace 10.200.2.0 lladdr 0e:76:0a:c8:02:00 dev vx-ov1 nud permanent",
		"bridge fdb append 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12",
		"ip route replace 10.200.2.0/24 via 10.200.2.0 dev vx-ov1 onlink")

	rx0, tx0 := counters(t, h1.pid, "vx-ov1")
	if err := ping(h1.ctr, "10.200.2.2"); err != nil {
		t.Fatalf("h1's container to h2's: %v", err)
	}
	if err := ping(h2.ctr, "10.200.1.2"); err != nil {
		t.Fatalf("h2's container to h1's: %v", err)
	}
	rx1, tx1 := counters(t, h1.pid, "vx-ov1")
	if rx1-rx0 < 2 || tx1-tx0 < 2 {
		t.Errorf("h1's vx-ov1 received %d and sent %d packets for two pings each way: not through vxlan", rx1-rx0, tx1-tx0)
	}
	if got, want := peerText(h1.read(t)), peerText([]Peer{NewPeer(subnet(h2.subnet), net.ParseIP(h2.public), "")}); got != want {
		t.Errorf("ReadPeers on h1: got\n%swant\n%s", got, want)
	}
	if again := h1.step(t, hostStep{Action: "peers", Dev: "vx-ov1", Want: want(h2)}); len(again) != 0 {
		t.Errorf("programming the same peers again did %q", again)
	}

	dumps := []string{dumpHost(t, h1), dumpHost(t, h2)}
	for _, must := range []string{"vxlan id 42 local 10.99.0.11 dev eth0", "dstport 4789 nolearning", "inet 10.200.1.0/32",
		"10.200.2.0/24 via 10.200.2.0 dev vx-ov1 onlink", "10.200.2.0 lladdr 0e:76:0a:c8:02:00 PERMANENT", "0e:76:0a:c8:02:00 dst 10.99.0.12 self permanent"} {
		if !strings.Contains(dumps[0], must) {
			t.Errorf("h1 lacks %q:\n%s", must, dumps[0])
		}
	}
	replay(t, hosts, cmds, dumps)

	gone := h1.step(t, hostStep{Action: "peers", Dev: "vx-ov1"})
	sameLines(t, gone,
		"ip route del 10.200.2.0/24 via 10.200.2.0 dev vx-ov1",
		"ip neigh del 10.200.2.0 dev vx-ov1",
		"bridge fdb del 0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12")
	if err := ping(h1.ctr, "10.200.2.2"); err == nil {
		t.Error("h1's container still reaches h2's after the peer was removed")
	}
	for _, c := range [][]string{{"ip", "route", "show", "10.200.2.0/24"}, {"ip", "neigh", "show", "dev", "vx-ov1"}, {"bridge", "fdb", "show", "dev", "vx-ov1"}} {
		if out := show(t, h1.pid, c...); strings.TrimSpace(out) != "" {
			t.Errorf("%s on h1 after the peer left:\n%s", strings.Join(c, " "), out)
		}
	}
	if got := h1.read(t); len(got) != 0 {
		t.Errorf("ReadPeers on h1 after the peer left: %+v", got)
	}
	if again := h1.step(t, hostStep{Action: "peers", Dev: "vx-ov1"}); len(again) != 0 {
		t.Errorf("removing the peer again did %q", again)
	}
}

// replay runs the topology and each host's narrated commands as shell
// scripts on two new hosts in fresh namespaces, and compares their state
// with dumps; their containers must ping each other too.
func replay(t *testing.T, hosts []simHost, cmds [2][]string, dumps []string) {
	t.Helper()
	dir := t.TempDir()
	for i := range hosts {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("h%d.sh", i+1)), []byte(strings.Join(cmds[i], "\n")+"\n"), 0o644)
	}
	script := fmt.Sprintf(`set -e
ip link set lo up
start() {
	unshare --net sleep 600 & P=$!
	while [ "$(readlink /proc/$P/ns/net)" = "$(readlink /proc/self/ns/net)" ] || [ "$(readlink /proc/$P/exe)" != "$(readlink -f "$(command -v sleep)")" ]; do sleep 0.01; done
}
H1= C1= H2= C2=
trap 'kill $H1 $C1 $H2 $C2 2>/dev/null' EXIT
start; H1=$P; start; C1=$P; start; H2=$P; start; C2=$P
%s
nsenter -t $H1 -n sh -ex %[2]s/h1.sh
nsenter -t $H2 -n sh -ex %[2]s/h2.sh
H=$H1; { %[3]s } > %[2]s/dump1 2>&1
H=$H2; { %[3]s } > %[2]s/dump2 2>&1
nsenter -t $C1 -n busybox ping -c 1 -W 2 10.200.2.2
nsenter -t $C2 -n busybox ping -c 1 -W 2 10.200.1.2
`, strings.Join(topology(hosts), "\n"), dir, hostDump)
	os.WriteFile(filepath.Join(dir, "replay.sh"), []byte(script), 0o644)
	out, err := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", filepath.Join(dir, "replay.sh")).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s\nscript:\n%s", err, out, script)
	}
	for i := range hosts {
		b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("dump%d", i+1)))
		if got := ifindexRE.ReplaceAllString(string(b), ""); got != dumps[i] {
			t.Errorf("h%d replayed differs.\n--- through the ops:\n%s\n--- replayed:\n%s", i+1, dumps[i], got)
		}
	}
}
