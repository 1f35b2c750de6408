package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/testetcd"
	"github.com/mydocker/mydocker/internal/testns"
)

// An overlay network as a user with three hosts sees it. The hosts are
// network namespaces on an underlay bridge (ovl0, 10.99.0.0/24, the test's
// own namespace at 10.99.0.1) in the test's own namespace, each with its
// own --root and --data-root and MYDOCKER_ADVERTISE_ADDR; etcd runs in a
// fourth, at 10.99.0.2.

// ovHost is one simulated host.
type ovHost struct {
	t        *testing.T
	name     string
	pid      int    // a process in its network namespace
	ip       string // its underlay address
	root     string
	dataRoot string
	kv       string
}

// run runs mydocker on the host.
func (h *ovHost) run(args ...string) result {
	h.t.Helper()
	return h.runEnv([]string{"MYDOCKER_ADVERTISE_ADDR=" + h.ip}, args...)
}

// runEnv runs mydocker on the host with env added to the test's.
func (h *ovHost) runEnv(env []string, args ...string) result {
	h.t.Helper()
	argv := append([]string{"-t", strconv.Itoa(h.pid), "-n", binary, "--root", h.root, "--data-root", h.dataRoot, "--kv", h.kv}, args...)
	return runCmd(h.t, env, nil, "nsenter", argv...)
}

func (h *ovHost) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("%s: mydocker %s: exit %d\nstdout: %s\nstderr: %s", h.name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// sh runs a shell command in the host's network namespace.
func (h *ovHost) sh(script string) (string, error) {
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(h.pid), "-n", "sh", "-c", script).CombinedOutput()
	return string(out), err
}

// record is the host's record of network name (nil: none).
func (h *ovHost) record(name string) map[string]any {
	b, err := os.ReadFile(filepath.Join(h.root, "network", "network", name))
	if err != nil {
		return nil
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// watcherPid is the pid of the host's watcher of network name (0: none).
func (h *ovHost) watcherPid(name string) int {
	rec := h.record(name)
	if rec == nil || rec["Overlay"] == nil {
		return 0
	}
	pid, _ := rec["Overlay"].(map[string]any)["WatcherPid"].(float64)
	return int(pid)
}

// ip is the address of a container on the overlay network.
func (h *ovHost) ctrIP(ctr string) string {
	h.t.Helper()
	return strings.TrimSpace(h.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", ctr))
}

func shScript(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("sh", "-ec", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// etcdKeys lists the keys etcd holds under /mydocker/.
func etcdKeys(t *testing.T, endpoint string) []string {
	t.Helper()
	cmd := exec.Command("etcdctl", "--endpoints="+endpoint, "get", "--prefix", "--keys-only", "/mydocker/")
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("etcdctl get: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// overlayHosts makes the underlay, etcd and n hosts.
func overlayHosts(t *testing.T, n int) ([]*ovHost, *testetcd.Server) {
	testns.RequireRoot(t)
	dir := t.TempDir()
	shScript(t, "ip link add ovl0 type bridge && ip addr add 10.99.0.1/24 dev ovl0 && ip link set ovl0 up")
	t.Cleanup(func() { exec.Command("ip", "link", "del", "ovl0").Run() })
	// etcd's host: a fourth namespace on the underlay.
	etcdPid := testns.Sleeper(t)
	shScript(t, fmt.Sprintf(`ip link add ovl0-etcd type veth peer name eth0 netns %[1]d
ip link set ovl0-etcd master ovl0 up
nsenter -t %[1]d -n sh -ec 'ip addr add 10.99.0.2/24 dev eth0; ip link set eth0 up; ip link set lo up'`, etcdPid))
	etcd := testetcd.StartIn(t, dir, "10.99.0.2", fmt.Sprintf("/proc/%d/ns/net", etcdPid))
	var hosts []*ovHost
	for i := 1; i <= n; i++ {
		h := &ovHost{t: t, name: fmt.Sprintf("h%d", i), pid: testns.Sleeper(t), ip: fmt.Sprintf("10.99.0.1%d", i),
			root: filepath.Join(dir, fmt.Sprintf("h%d", i), "run"), dataRoot: filepath.Join(dir, fmt.Sprintf("h%d", i), "lib"), kv: etcd.Endpoint()}
		shScript(t, fmt.Sprintf(`ip link add ovl0-%[1]s type veth peer name eth0 netns %[2]d
ip link set ovl0-%[1]s master ovl0 up
nsenter -t %[2]d -n sh -ec 'ip addr add %[3]s/24 dev eth0; ip link set eth0 up; ip link set lo up'`, h.name, h.pid, h.ip))
		hosts = append(hosts, h)
	}
	// Whatever a failed test left: its containers, then their networks.
	t.Cleanup(func() {
		if t.Failed() {
			for _, h := range hosts {
				log, _ := os.ReadFile(filepath.Join(h.root, "network", "watch", "ov1.log"))
				if len(log) > 6000 {
					log = log[len(log)-6000:]
				}
				kern, _ := h.sh("ip route; ip neigh show dev vx-ov1; bridge fdb show dev vx-ov1; iptables-save")
				t.Logf("%s: the watcher's log ends:\n%s\n%s: the kernel:\n%s", h.name, log, h.name, kern)
			}
		}
		for _, h := range hosts {
			for _, id := range strings.Fields(h.run("ps", "-a", "-q").stdout) {
				h.run("rm", "-f", id)
			}
			h.run("network", "prune", "-f")
		}
		if etcd.Pid() != 0 {
			hosts[0].run("network", "rm", "ov1", "ov3")
		}
		for _, h := range hosts {
			for _, pid := range watchersOf(h.root) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return hosts, etcd
}

// eventually retries f for 30 s at most (a ceiling for a loaded machine).
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// exit is a result as an error.
func (r result) err() error {
	if r.code != 0 {
		return fmt.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	return nil
}

func TestOverlayNetwork(t *testing.T) {
	hosts, etcd := overlayHosts(t, 3)
	h1, h2, h3 := hosts[0], hosts[1], hosts[2]

	// Created on one host, seen on every host of the etcd.
	h1.ok("network", "create", "--driver", "overlay", "--subnet", "10.200.0.0/16", "--kv-ttl", "6s", "ov1")
	for _, h := range hosts {
		if out := h.ok("network", "ls"); !strings.Contains(out, "ov1") || !strings.Contains(out, "overlay") {
			t.Fatalf("%s: network ls does not show ov1 overlay:\n%s", h.name, out)
		}
	}
	if out := h3.ok("network", "inspect", "-f", "{{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}}", "ov1"); strings.TrimSpace(out) != "overlay 10.200.0.0/16" {
		t.Fatalf("h3: network inspect ov1: %q", out)
	}
	// --dry-run narrates the etcd steps as etcdctl commands, and changes nothing.
	before := etcdKeys(t, h1.kv)
	r := h2.run("network", "create", "--dry-run", "--driver", "overlay", "--subnet", "10.201.0.0/16", "ov2")
	if r.code != 0 || !strings.Contains(r.stderr, "etcdctl --endpoints="+h1.kv+" txn") {
		t.Errorf("network create --dry-run: exit %d\n%s", r.code, r.stderr)
	}
	// Without MYDOCKER_ADVERTISE_ADDR: the source address of h3's route to etcd.
	r = h3.runEnv(nil, "run", "--dry-run", "--net", "ov1", "busybox", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "lease grant 6") || !strings.Contains(r.stderr, "type vxlan id 1 dstport 4789 local 10.99.0.13 dev eth0 nolearning") {
		t.Errorf("run --dry-run --net ov1: exit %d\n%s", r.code, r.stderr)
	}
	if after := etcdKeys(t, h1.kv); strings.Join(after, " ") != strings.Join(before, " ") || h3.record("ov1") != nil {
		t.Errorf("dry runs changed etcd (%v, then %v) or h3's records", before, after)
	}
	if r := h2.run("network", "create", "--driver", "overlay", "--subnet", "10.201.0.0/16", "ov1"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("h2: a second ov1: exit %d, %q", r.code, r.stderr)
	}

	// A web server on h1, reached from h2 by name and by address.
	h1.ok("run", "-d", "--name", "web", "--net", "ov1", "busybox", "sh", "-c", "echo hello from h1 > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
	webIP := h1.ctrIP("web")
	if out := h1.ok("network", "inspect", "-f", "{{.Scope}} {{range .IPAM.Config}}{{.Subnet}} {{.IPRange}} {{.Gateway}}{{end}}", "ov1"); strings.TrimSpace(out) != "global 10.200.0.0/16 10.200.0.0/24 10.200.0.1" {
		t.Errorf("h1: network inspect ov1 with web on it: %q, want its whole subnet, its block and gateway", out)
	}
	if !strings.HasPrefix(webIP, "10.200.") {
		t.Fatalf("web's address %q is not on ov1", webIP)
	}
	h2.ok("run", "-d", "--name", "db", "--net", "ov1", "busybox", "sleep", "600")
	dbIP := h2.ctrIP("db")
	if dbIP[:len("10.200.x")] == webIP[:len("10.200.x")] && strings.Split(dbIP, ".")[2] == strings.Split(webIP, ".")[2] {
		t.Fatalf("h1 and h2 share a host subnet: web %s, db %s", webIP, dbIP)
	}
	eventually(t, "db on h2 pings web on h1 by address", func() error { return h2.run("exec", "db", "ping", "-c", "1", "-W", "1", webIP).err() })
	eventually(t, "web on h1 pings db on h2 by name", func() error { return h1.run("exec", "web", "ping", "-c", "1", "-W", "1", "db").err() })
	// The vxlan header fits in the underlay's frames: the containers' MTU
	// is 1500 - 50, and a full-size packet crosses.
	if out := h1.ok("exec", "web", "ip", "link", "show", "eth0"); !strings.Contains(out, "mtu 1450") {
		t.Errorf("web's eth0 on an overlay over a 1500 underlay: %s", out)
	}
	if err := h1.run("exec", "web", "ping", "-c", "1", "-W", "2", "-s", "1422", "db").err(); err != nil {
		t.Errorf("a 1450-byte packet from web to db: %v", err)
	}
	eventually(t, "db on h2 fetches http://web/", func() error {
		r := h2.run("exec", "db", "timeout", "3", "wget", "-q", "-O", "-", "http://web/")
		if r.err() == nil && !strings.Contains(r.stdout, "hello from h1") {
			return fmt.Errorf("got %q", r.stdout)
		}
		return r.err()
	})
	if out := h3.ok("run", "--rm", "--net", "ov1", "busybox", "timeout", "3", "wget", "-q", "-O", "-", "http://web/"); !strings.Contains(out, "hello from h1") {
		t.Fatalf("h3: a new container fetching http://web/: %q", out)
	}

	// network connect: a container of h3's default bridge network joins
	// ov1 (its eth1), reaches web on h1 by name, and leaves it.
	h3.ok("run", "-d", "--name", "side", "busybox", "sleep", "600")
	h3.ok("network", "connect", "ov1", "side")
	eventually(t, "side, connected to ov1 on h3, pings web on h1 by name", func() error {
		return h3.run("exec", "side", "ping", "-c", "1", "-W", "1", "web").err()
	})
	h3.ok("network", "disconnect", "ov1", "side")
	if rec := h3.record("ov1"); rec != nil {
		t.Errorf("h3 keeps its part of ov1 after its only container left it: %v", rec)
	}
	h3.ok("rm", "-f", "side")

	// rm is refused while a host has containers on it.
	if r := h3.run("network", "rm", "ov1"); r.code == 0 || !strings.Contains(r.stderr, "active endpoints") {
		t.Fatalf("h3: network rm ov1 with containers on h1 and h2: exit %d, %q", r.code, r.stderr)
	}

	t.Run("20 containers on three hosts at once", func(t *testing.T) {
		// On a network of their own, that no host has joined yet: the three
		// hosts race for their blocks.
		h2.ok("network", "create", "--driver", "overlay", "--subnet", "10.210.0.0/16", "ov3")
		twentyAtOnce(t, hosts, "ov3")
		h1.ok("network", "rm", "ov3")
	})
	t.Run("published port on a remote host", func(t *testing.T) {
		h2.ok("run", "-d", "--name", "pub", "--net", "ov1", "-p", "8080:80", "busybox", "sh", "-c", "echo published on h2 > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
		eventually(t, "h1 fetches h2's published port", func() error {
			out, err := h1.sh("timeout 3 busybox wget -q -O - http://" + h2.ip + ":8080/")
			if err == nil && !strings.Contains(out, "published on h2") {
				return fmt.Errorf("got %q", out)
			}
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		h2.ok("rm", "-f", "pub")
	})
	t.Run("isolated from a bridge network", func(t *testing.T) {
		h1.ok("network", "create", "--subnet", "172.30.0.0/24", "br1")
		defer h1.run("network", "rm", "br1")
		if r := h1.run("run", "--rm", "--net", "br1", "busybox", "ping", "-c", "1", "-W", "1", webIP); r.code == 0 {
			t.Errorf("a container on bridge network br1 pings web (%s) on ov1, same host", webIP)
		}
		if r := h1.run("run", "--rm", "--net", "br1", "busybox", "ping", "-c", "1", "-W", "1", dbIP); r.code == 0 {
			t.Errorf("a container on bridge network br1 pings db (%s) on ov1, on h2", dbIP)
		}
	})
	t.Run("etcd stopped and started", func(t *testing.T) {
		eventually(t, "etcd running: db on h2 pings web on h1", func() error {
			return h2.run("exec", "db", "ping", "-c", "1", "-W", "2", webIP).err()
		})
		etcd.Stop()
		// Three tries: one lost packet on a loaded machine is not the point.
		if err := h2.run("exec", "db", "ping", "-c", "3", "-W", "2", webIP).err(); err != nil {
			t.Errorf("etcd stopped: db on h2 no longer pings web on h1: %v", err)
		}
		start := time.Now()
		r := h1.run("network", "create", "--driver", "overlay", "--subnet", "10.201.0.0/16", "ov2")
		took := time.Since(start)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 125 || len(lines) != 1 || !strings.Contains(r.stderr, "unreachable") || took > 3*time.Second {
			t.Errorf("network create with etcd stopped: exit %d after %v, stderr %q: want 125, one line, within 3 s", r.code, took, r.stderr)
		}
		start = time.Now()
		r = h3.run("run", "--rm", "--net", "ov1", "busybox", "true")
		took = time.Since(start)
		if r.code != 125 || !strings.Contains(r.stderr, "unreachable") || took > 3*time.Second {
			t.Errorf("a new host's first container with etcd stopped: exit %d after %v, stderr %q: want 125 within 3 s", r.code, took, r.stderr)
		}
		etcd.Restart()
		eventually(t, "after etcd's restart, a new container on h3 fetches http://web/", func() error {
			return h3.run("run", "--rm", "--net", "ov1", "busybox", "timeout", "3", "wget", "-q", "-O", "-", "http://web/").err()
		})
	})
	t.Run("a partition longer than the TTL", func(t *testing.T) {
		// h2 cannot reach etcd (its own rule, in its own namespace): its
		// lease expires, h1 drops it; once h2 reaches etcd again its
		// watcher leases the same block again and h1 takes it back.
		block := "iptables -I OUTPUT -d 10.99.0.2 -p tcp --dport 2379 -j DROP"
		if out, err := h2.sh(block); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		sub := dbIP[:strings.LastIndex(dbIP, ".")] + ".0/24"
		eventually(t, "h1 drops h2's route once its lease expired", func() error {
			if out, _ := h1.sh("ip route show dev vx-ov1"); strings.Contains(out, sub) {
				return fmt.Errorf("h1 still routes %s: %s", sub, out)
			}
			return nil
		})
		if out, err := h2.sh(strings.Replace(block, "-I", "-D", 1)); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		eventually(t, "h2 back: web on h1 pings db by name", func() error {
			return h1.run("exec", "web", "ping", "-c", "1", "-W", "1", "db").err()
		})
	})
	t.Run("a host's watcher killed, its lease expiring", func(t *testing.T) { hostDies(t, hosts, etcd) })

	// Everything goes: the containers, then the network from any host.
	for _, h := range hosts {
		for _, id := range strings.Fields(h.ok("ps", "-a", "-q")) {
			h.ok("rm", "-f", id)
		}
	}
	h3.ok("network", "rm", "ov1")
	if keys := etcdKeys(t, etcd.Endpoint()); len(keys) != 0 {
		t.Errorf("etcd still holds %v", keys)
	}
	for _, h := range hosts {
		if rec := h.record("ov1"); rec != nil {
			t.Errorf("%s still has a record of ov1: %v", h.name, rec)
		}
		if logs, _ := filepath.Glob(filepath.Join(h.root, "network", "watch", "*")); len(logs) > 0 {
			t.Errorf("%s keeps watcher logs: %v", h.name, logs)
		}
		out, _ := h.sh("ip -o link show; iptables-save | grep -i mydocker")
		if strings.Contains(out, "vx-") || strings.Contains(out, "ov1") {
			t.Errorf("%s keeps links or rules of ov1:\n%s", h.name, out)
		}
	}
	if out := h2.ok("network", "ls"); strings.Contains(out, "ov1") {
		t.Errorf("h2: network ls after rm:\n%s", out)
	}
	for _, h := range hosts {
		if pids := watchersOf(h.root); len(pids) > 0 {
			t.Errorf("%s: watchers left: %v", h.name, pids)
		}
	}
}

// twentyAtOnce starts 20 containers spread over the hosts at once: their
// addresses are distinct, and each host's are in a host subnet of its own.
func twentyAtOnce(t *testing.T, hosts []*ovHost, network string) {
	var wg sync.WaitGroup
	names := make([]string, 20)
	errs := make([]error, 20)
	for i := range names {
		names[i] = fmt.Sprintf("c%02d", i)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			h := hosts[i%len(hosts)]
			errs[i] = h.run("run", "-d", "--name", names[i], "--net", network, "busybox", "sleep", "600").err()
		}(i)
	}
	wg.Wait()
	seen := map[string]string{}
	subnetOf := map[string]string{} // host subnet (a.b.c) -> host
	for i, n := range names {
		if errs[i] != nil {
			t.Fatalf("run %s on %s: %v", n, hosts[i%len(hosts)].name, errs[i])
		}
		h := hosts[i%len(hosts)]
		ip := h.ctrIP(n)
		if other, dup := seen[ip]; dup {
			t.Errorf("%s and %s both have %s", n, other, ip)
		}
		seen[ip] = n
		sub := ip[:strings.LastIndex(ip, ".")]
		if o, ok := subnetOf[sub]; ok && o != h.name {
			t.Errorf("%s's address %s is in the host subnet of %s", n, ip, o)
		}
		subnetOf[sub] = h.name
	}
	// Across hosts, by name: the last of h3's to the first of h1's.
	eventually(t, "c17 on h3 pings c00 on h1 by name", func() error {
		return hosts[2].run("exec", "c17", "ping", "-c", "1", "-W", "1", "c00").err()
	})
	for i, n := range names {
		hosts[i%len(hosts)].ok("rm", "-f", n)
	}
}

// hostDies kills h3's watcher: once its lease has expired, the other hosts
// drop its route, neighbour and fdb entries and etcd its subnet; its next
// command starts a watcher again, which leases the subnet again.
func hostDies(t *testing.T, hosts []*ovHost, etcd *testetcd.Server) {
	h1, h3 := hosts[0], hosts[2]
	h3.ok("run", "-d", "--name", "late", "--net", "ov1", "busybox", "sleep", "600")
	ip := h3.ctrIP("late")
	sub := ip[:strings.LastIndex(ip, ".")] + ".0"
	eventually(t, "h1 routes h3's subnet", func() error {
		out, _ := h1.sh("ip route show dev vx-ov1")
		if !strings.Contains(out, sub) {
			return fmt.Errorf("h1's routes on vx-ov1: %q", out)
		}
		return nil
	})
	h3.killWatcher("ov1")
	eventually(t, "h1 drops h3's route, neighbour and fdb entries once its lease expired", func() error {
		out, _ := h1.sh("ip route show dev vx-ov1; ip neigh show dev vx-ov1; bridge fdb show dev vx-ov1")
		if strings.Contains(out, sub) || strings.Contains(out, h3.ip) {
			return fmt.Errorf("h1 still has h3's entries:\n%s", out)
		}
		return nil
	})
	for _, k := range etcdKeys(t, etcd.Endpoint()) {
		if strings.Contains(k, sub) {
			t.Errorf("etcd still has h3's subnet: %s", k)
		}
	}
	// The next command on h3 starts a watcher, which leases the subnet again.
	h3.ok("run", "-d", "--name", "later", "--net", "ov1", "busybox", "sleep", "600")
	eventually(t, "late on h3 pings web on h1 again", func() error {
		return h3.run("exec", "late", "ping", "-c", "1", "-W", "1", "web").err()
	})
}

// A `run` on an overlay network, and an `rm -f` of a container on one,
// killed before each of their kernel and etcd steps in turn (the
// crashtest switch): the user's next commands (rm -f the container,
// network ls) leave the host with no part of the network, no watcher, and
// etcd with none of the host's keys once its lease has ended (a lease
// granted before the host's record was written is nobody's: it ends after
// its TTL).
func TestOverlayKilled(t *testing.T) {
	hosts, etcd := overlayHosts(t, 1)
	h := hosts[0]
	h.ok("network", "create", "--driver", "overlay", "--subnet", "10.200.0.0/16", "--kv-ttl", "2s", "ov1")
	h.ok("run", "--rm", "--net", "none", "busybox", "true") // the image, imported once
	for _, c := range []struct {
		key  string
		prep []string // before each kill
		op   []string // killed
	}{
		{"run", nil, []string{"run", "--name", "c", "--net", "ov1", "busybox", "true"}},
		{"rm", []string{"run", "-d", "--name", "c", "--net", "ov1", "busybox", "sleep", "600"}, []string{"rm", "-f", "c"}},
		// The shim of `run -d` connects the container, and its teardown
		// (after the rm -f that follows) disconnects it.
		{"shim", nil, []string{"run", "-d", "--name", "c", "--net", "ov1", "busybox", "sleep", "600"}},
	} {
		t.Run(c.key, func(t *testing.T) {
			for n := 1; ; n++ {
				if c.prep != nil {
					h.ok(c.prep...)
				}
				killLog := filepath.Join(t.TempDir(), "killed")
				r := h.runEnv([]string{"MYDOCKER_ADVERTISE_ADDR=" + h.ip, "MYDOCKER_TEST_KILL=" + c.key + ":" + strconv.Itoa(n), "MYDOCKER_TEST_KILL_LOG=" + killLog}, c.op...)
				killed := func() bool { b, _ := os.ReadFile(killLog); return len(b) > 0 }
				if !killed() && r.code != 0 && c.key != "shim" {
					t.Fatalf("%s, not killed at %d: exit %d: %s", c.key, n, r.code, r.stderr)
				}
				if rr := h.run("rm", "-f", "c"); rr.code != 0 && !strings.Contains(rr.stderr, "no such container") {
					t.Fatalf("killed at %d: rm -f c: %s", n, rr.stderr)
				}
				h.ok("network", "ls")
				left(t, h, etcd, fmt.Sprintf("%s killed at %d", c.key, n))
				if !killed() {
					t.Logf("%s went through to its end at %d", c.key, n)
					return
				}
			}
		})
	}
}

// left waits until the host has left ov1: no record, links, rules or
// watcher, and none of its keys in etcd. A join killed once it was done,
// before the container was recorded on it, is finished by its watcher,
// which finds no container and leaves.
func left(t *testing.T, h *ovHost, etcd *testetcd.Server, what string) {
	t.Helper()
	eventually(t, what+": the host leaves ov1", func() error {
		if rec := h.record("ov1"); rec != nil {
			return fmt.Errorf("the host keeps a record of ov1: %v", rec)
		}
		if out, _ := h.sh("ip -o link; iptables-save"); strings.Contains(out, "vx-ov1") || strings.Contains(out, "mydocker:ov1") || strings.Contains(out, " ov1:") {
			return fmt.Errorf("the host keeps ov1's links or rules:\n%s", out)
		}
		if pids := watchersOf(h.root); len(pids) > 0 {
			return fmt.Errorf("watchers left: %v", pids)
		}
		return nil
	})
	eventually(t, what+": etcd drops the host's keys", func() error {
		for _, k := range etcdKeys(t, etcd.Endpoint()) {
			if strings.Contains(k, "/subnets/") || strings.Contains(k, "/endpoints/") {
				return fmt.Errorf("etcd holds %s", k)
			}
		}
		return nil
	})
}

// watchersOf lists the watcher processes of the state root root (read
// from /proc: a watcher is `mydocker --root ROOT network watch NAME`).
func watchersOf(root string) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if strings.Contains(string(cmdline), "\x00network\x00watch\x00") && len(args) > 2 && args[2] == root {
			pids = append(pids, pid)
		}
	}
	return pids
}
