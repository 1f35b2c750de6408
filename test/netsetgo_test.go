package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/testns"
)

// End-to-end tests of `netsetgo` (mydocker under that program name): the
// original's own checks, then NAT, cleanup, -watch and concurrency. The
// "container" is `unshare --net sleep`, as in the original's tutorials.

// netsetgoBin is the netsetgo symlink `make build` puts next to mydocker.
func netsetgoBin(t *testing.T) string {
	t.Helper()
	testns.RequireRoot(t)
	return filepath.Join(filepath.Dir(binary), "netsetgo")
}

type nsg struct {
	t    *testing.T
	bin  string
	root string
}

// newNsg gives a test its own MYDOCKER_ROOT (netsetgo has no global flags)
// and checks, when the test ends, that it left the namespace as it found it.
func newNsg(t *testing.T) *nsg {
	n := &nsg{t: t, bin: netsetgoBin(t), root: filepath.Join(t.TempDir(), "run")}
	before := hostState(t)
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", "tower").Run()
		// Records of processes that are gone are cleaned up by the next call.
		n.run("-cleanup", "-pid", "1")
		if after := hostState(t); after != before {
			t.Errorf("netsetgo left something behind:\nbefore: %s\nafter:  %s", before, after)
		}
	})
	return n
}

// run runs netsetgo; it never hangs longer than a minute.
func (n *nsg) run(args ...string) result {
	n.t.Helper()
	return runCmd(n.t, []string{"MYDOCKER_ROOT=" + n.root}, nil, n.bin, args...)
}

func (n *nsg) ok(args ...string) string {
	n.t.Helper()
	r := n.run(args...)
	if r.code != 0 {
		n.t.Fatalf("netsetgo %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// netnsProcess starts `unshare --net sleep 1000` and returns its pid once
// it is in its own network namespace; it is killed, by pid, at the end.
func netnsProcess(t *testing.T) (int, func()) {
	t.Helper()
	c := exec.Command("unshare", "--net", "sleep", "1000")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pid := c.Process.Pid
	var once sync.Once
	kill := func() { once.Do(func() { c.Process.Kill(); c.Wait() }) }
	t.Cleanup(kill)
	waitOwnNetns(t, pid)
	return pid, kill
}

func inNs(t *testing.T, pid int, args ...string) string {
	t.Helper()
	return sh(t, append([]string{"nsenter", "-t", fmt.Sprint(pid), "-n"}, args...)...)
}

func ping(pid int, addr string) error {
	out, err := exec.Command("nsenter", "-t", fmt.Sprint(pid), "-n", "busybox", "ping", "-c", "1", "-W", "2", addr).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from pid %d: %v: %s", addr, pid, err, out)
	}
	return nil
}

// checkWired is the original netsetgo's integration check.
func checkWired(t *testing.T, pid int, bridge, host, peer, bridgeAddr, containerIP string) {
	t.Helper()
	addrs := strings.Fields(sh(t, "ip", "-o", "-4", "addr", "show", "dev", bridge))
	if len(addrs) < 4 || addrs[3] != bridgeAddr {
		t.Errorf("bridge %s: first address %v, want %s", bridge, addrs, bridgeAddr)
	}
	link := sh(t, "ip", "link", "show", host)
	if !strings.Contains(link, " master "+bridge+" ") || !strings.Contains(link, "state UP") {
		t.Errorf("%s is not on %s and UP: %s", host, bridge, link)
	}
	if a := inNs(t, pid, "ip", "-o", "-4", "addr", "show", "dev", peer); !strings.Contains(a, " "+containerIP+"/") {
		t.Errorf("%s in pid %d: %s, want %s", peer, pid, a, containerIP)
	}
	gw := strings.SplitN(bridgeAddr, "/", 2)[0]
	if r := inNs(t, pid, "ip", "route"); !strings.Contains(r, "default via "+gw+" dev "+peer) {
		t.Errorf("routes in pid %d:\n%s", pid, r)
	}
	if l := inNs(t, pid, "ip", "link", "show", "lo"); !strings.Contains(l, "UP") {
		t.Errorf("lo in pid %d is down: %s", pid, l)
	}
}

func TestNetsetgoNeedsAPid(t *testing.T) {
	n := newNsg(t)
	for _, args := range [][]string{nil, {"-bridgeName", "tower"}, {"--pid=0"}} {
		r := n.run(args...)
		if r.code != 1 || r.stdout != "ERROR - netsetgo needs a pid\n" {
			t.Errorf("netsetgo %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	// Also as a mydocker verb.
	out, err := exec.Command(binary, "netsetgo").Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || string(out) != "ERROR - netsetgo needs a pid\n" {
		t.Errorf("mydocker netsetgo: %v %q", err, out)
	}
	// Any failure: ERROR - <reason>, exit 1, and nothing made.
	pid, _ := netnsProcess(t)
	for _, args := range [][]string{
		{"-pid", fmt.Sprint(pid), "-bridgeName", "tower", "-containerAddress", "10.20.0.2/24"},
		{"-pid", fmt.Sprint(pid), "-bridgeName", "tower", "-containerAddress", "10.10.10.1/24"},
		{"-pid", fmt.Sprint(pid), "-bridgeName", "tower", "-bridgeAddress", "nonsense"},
		{"-pid", "999999999", "-bridgeName", "tower"},
		{"-pid", fmt.Sprint(os.Getpid()), "-bridgeName", "tower"},
		{"-pid", fmt.Sprint(pid), "-nosuchflag"},
	} {
		r := n.run(args...)
		if r.code != 1 || !strings.HasPrefix(r.stdout, "ERROR - ") {
			t.Errorf("netsetgo %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if err := exec.Command("ip", "link", "show", "tower").Run(); err == nil {
		t.Error("a refused call created the bridge")
	}
}

// The original's integration test, 7 times in a row, alternating the two
// flag syntaxes, the bridge and the process removed after each run.
func TestNetsetgoSevenTimes(t *testing.T) {
	n := newNsg(t)
	for i := 0; i < 7; i++ {
		pid, kill := netnsProcess(t)
		args := []string{"-bridgeName", "tower", "-bridgeAddress", "10.10.10.1/24", "-vethNamePrefix", "veth",
			"-containerAddress", "10.10.10.2/24", "-pid", fmt.Sprint(pid)}
		if i%2 == 1 {
			args = []string{"--bridgeName=tower", "--bridgeAddress=10.10.10.1/24", "--vethNamePrefix=veth",
				"--containerAddress=10.10.10.2/24", fmt.Sprintf("--pid=%d", pid)}
		}
		r := n.run(args...)
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("run %d: netsetgo %v: exit %d\nstdout: %s\nstderr: %s", i, args, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "$ ip link add veth0 type veth peer name veth1 netns "+fmt.Sprint(pid)) {
			t.Errorf("run %d: the veth pair is not narrated:\n%s", i, r.stderr)
		}
		checkWired(t, pid, "tower", "veth0", "veth1", "10.10.10.1/24", "10.10.10.2")
		sh(t, "ip", "link", "del", "tower")
		kill()
	}
}

func TestNetsetgoNATAndCleanup(t *testing.T) {
	n := newNsg(t)
	outside(t) // 10.99.0.2, with no route back to 10.10.10.0/24
	before := hostState(t)
	pid, _ := netnsProcess(t)
	n.ok("--bridgeName=tower", "--pid", fmt.Sprint(pid))
	checkWired(t, pid, "tower", "veth0", "veth1", "10.10.10.1/24", "10.10.10.2")
	if err := ping(pid, "10.10.10.1"); err != nil {
		t.Error(err)
	}
	if err := ping(pid, "10.99.0.2"); err != nil {
		t.Errorf("through NAT: %v", err)
	}
	if !strings.Contains(sh(t, "iptables-save", "-t", "nat"), "-A MYDOCKER-POSTROUTING -s 10.10.10.0/24 ! -o tower") {
		t.Error("no MASQUERADE in MYDOCKER-POSTROUTING")
	}
	n.ok("-cleanup", "-pid", fmt.Sprint(pid), "-bridgeName", "tower")
	if after := hostState(t); after != before {
		t.Errorf("cleanup left something:\nbefore: %s\nafter:  %s", before, after)
	}
	if l := inNs(t, pid, "ip", "-o", "link"); strings.Contains(l, "veth1") {
		t.Errorf("veth1 still in the namespace: %s", l)
	}
	if r := n.run("-cleanup", "-pid", fmt.Sprint(pid)); r.code != 1 || !strings.HasPrefix(r.stdout, "ERROR - no netsetgo wiring") {
		t.Errorf("second cleanup: exit %d %q", r.code, r.stdout)
	}

	// -nat=false leaves iptables alone: the bridge answers, the world does
	// not (it has no route back without the masquerade).
	n.ok("-nat=false", "-bridgeName", "tower", "-pid", fmt.Sprint(pid))
	if err := ping(pid, "10.10.10.1"); err != nil {
		t.Error(err)
	}
	if err := ping(pid, "10.99.0.2"); err == nil {
		t.Error("the outside answered without NAT")
	}
	if got := hostState(t); strings.Contains(got, "MYDOCKER") {
		t.Errorf("-nat=false touched iptables:\n%s", got)
	}
	n.ok("-cleanup", "-pid", fmt.Sprint(pid), "-bridgeName", "tower")
	if after := hostState(t); after != before {
		t.Errorf("cleanup left something:\nbefore: %s\nafter:  %s", before, after)
	}
}

func TestNetsetgoWatch(t *testing.T) {
	n := newNsg(t)
	before := hostState(t)
	pid, kill := netnsProcess(t)
	cmd := exec.Command(n.bin, "-watch", "-bridgeName", "tower", "-pid", fmt.Sprint(pid))
	cmd.Env = append(os.Environ(), "MYDOCKER_ROOT="+n.root)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	// Wired once its record is complete (veth1 alone comes before lo is up).
	waitFor(t, "the wiring", func() bool {
		b, err := os.ReadFile(filepath.Join(n.root, "netsetgo", fmt.Sprintf("%d.json", pid)))
		return err == nil && !strings.Contains(string(b), `"Wiring"`)
	})
	checkWired(t, pid, "tower", "veth0", "veth1", "10.10.10.1/24", "10.10.10.2")
	kill()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("netsetgo -watch: %v\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("netsetgo -watch did not end after its process did\n%s", errb.String())
	}
	if after := hostState(t); after != before {
		t.Errorf("-watch left something:\nbefore: %s\nafter:  %s\n%s", before, after, errb.String())
	}
	if ents, _ := os.ReadDir(filepath.Join(n.root, "netsetgo")); len(ents) > 1 { // "bridges/" (empty) may stay
		t.Errorf("records left: %v", ents)
	}
}

func TestNetsetgoConcurrent(t *testing.T) {
	n := newNsg(t)
	before := hostState(t)
	const count = 10
	pids := make([]int, count)
	for i := range pids {
		pids[i], _ = netnsProcess(t)
	}
	var wg sync.WaitGroup
	res := make([]result, count)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = n.run("-bridgeName", "tower", "-containerAddress", fmt.Sprintf("10.10.10.%d/24", 10+i), "-pid", fmt.Sprint(pids[i]))
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("call %d: exit %d\nstdout: %s\nstderr: %s", i, r.code, r.stdout, r.stderr)
		}
	}
	var hosts []string
	for _, l := range strings.Split(sh(t, "ip", "-o", "link", "show", "master", "tower"), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			hosts = append(hosts, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	sort.Strings(hosts)
	if len(hosts) != count {
		t.Errorf("links on tower: %v", hosts)
	}
	taken := 0
	for i, pid := range pids {
		if strings.Contains(res[i].stdout, "veth0 is taken: using ") {
			taken++
		}
		out := inNs(t, pid, "ip", "-o", "-4", "addr")
		if !strings.Contains(out, fmt.Sprintf(" 10.10.10.%d/24", 10+i)) {
			t.Errorf("pid %d: %s", pid, out)
		}
		if err := ping(pid, "10.10.10.1"); err != nil {
			t.Error(err)
		}
	}
	if taken != count-1 {
		t.Errorf("%d calls said veth0 was taken, want %d", taken, count-1)
	}
	for _, pid := range pids {
		n.ok("-cleanup", "-pid", fmt.Sprint(pid), "-bridgeName", "tower")
	}
	if after := hostState(t); after != before {
		t.Errorf("cleanup left something:\nbefore: %s\nafter:  %s", before, after)
	}
}
