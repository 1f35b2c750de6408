package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// End-to-end networking tests of the built binary (harness_test.go builds
// it and puts the test binary in namespaces of its own).

// netEnv is a test env with a web root to serve, for httpd in containers.
func newNetEnv(t *testing.T) (*env, string) {
	e := newEnv(t)
	www := t.TempDir()
	os.WriteFile(filepath.Join(www, "index.html"), []byte("hello from mydocker\n"), 0o644)
	os.Chmod(www, 0o755)
	return e, www
}

// must runs mydocker and fails the test on error; it returns stdout.
func (e *env) must(args ...string) string {
	e.t.Helper()
	return e.ok(append([]string{"--log-level", "warn"}, args...)...)
}

// try runs mydocker and returns stdout, or an error holding stderr.
func (e *env) try(args ...string) (string, error) {
	e.t.Helper()
	r := e.run(append([]string{"--log-level", "warn"}, args...)...)
	if r.code != 0 {
		return r.stdout, fmt.Errorf("mydocker %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout, nil
}

func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// hostState is what must come back after everything is removed.
func hostState(t *testing.T) string {
	var lines []string
	for _, l := range strings.Split(sh(t, "ip", "-o", "link"), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			lines = append(lines, strings.SplitN(f[1], "@", 2)[0])
		}
	}
	sort.Strings(lines)
	rules := sh(t, "iptables-save")
	var kept []string
	for _, l := range strings.Split(rules, "\n") {
		if strings.HasPrefix(l, "-") || (strings.HasPrefix(l, ":") && !strings.Contains(l, "ACCEPT")) {
			kept = append(kept, l)
		}
	}
	return strings.Join(lines, " ") + "\n" + strings.Join(kept, "\n")
}

// outside makes a namespace standing for the world, reached from the test
// namespace (the "host", 10.99.0.1) through a veth (10.99.0.2); it has no
// route to container subnets.
func outside(t *testing.T) int {
	c := exec.Command("unshare", "--net", "sleep", "600")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pid := c.Process.Pid
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL); c.Wait(); exec.Command("ip", "link", "del", "out0").Run() })
	waitOwnNetns(t, pid)
	p := fmt.Sprint(pid)
	sh(t, "ip", "link", "add", "out0", "type", "veth", "peer", "name", "eth0", "netns", p)
	sh(t, "ip", "addr", "add", "10.99.0.1/24", "dev", "out0")
	sh(t, "ip", "link", "set", "out0", "up")
	sh(t, "nsenter", "-t", p, "-n", "ip", "addr", "add", "10.99.0.2/24", "dev", "eth0")
	sh(t, "nsenter", "-t", p, "-n", "ip", "link", "set", "eth0", "up")
	sh(t, "nsenter", "-t", p, "-n", "ip", "link", "set", "lo", "up")
	return pid
}

// wget from the namespace of pid (0: the test's), retrying while a server
// starts. (busybox 1.35's wget -T segfaults: timeout(1) bounds it.)
func wget(pid int, url string) (string, error) {
	args := []string{"timeout", "3", "busybox", "wget", "-q", "-O", "-", url}
	if pid != 0 {
		args = append([]string{"nsenter", "-t", fmt.Sprint(pid), "-n"}, args...)
	}
	var out []byte
	var err error
	for i := 0; i < 20; i++ {
		if out, err = exec.Command(args[0], args[1:]...).CombinedOutput(); err == nil {
			return string(out), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return string(out), err
}

type inspected struct {
	ID              string `json:"Id"`
	State           struct{ Pid int }
	NetworkSettings struct {
		Networks map[string]struct {
			IPAddress, Gateway, MacAddress, Veth string
		}
	}
}

func (e *env) inspect(ref string) inspected {
	e.t.Helper()
	var out []inspected
	if err := json.Unmarshal([]byte(e.must("inspect", ref)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("inspect %s: %v", ref, err)
	}
	return out[0]
}

func TestNetworkingEndToEnd(t *testing.T) {
	e, www := newNetEnv(t)
	world := outside(t)
	before := hostState(t)

	e.must("network", "create", "--driver", "bridge", "--subnet", "192.168.0.0/24", "testnet")
	ls := e.must("network", "list")
	if !strings.Contains(ls, "NAME        IpRange          Driver") || !strings.Contains(ls, "testnet     192.168.0.1/24   bridge") {
		t.Errorf("network list:\n%s", ls)
	}
	e.must("run", "-d", "--name", "a", "--net", "testnet", "-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	a := e.inspect("a")
	aIP := a.NetworkSettings.Networks["testnet"].IPAddress
	if aIP != "192.168.0.2" {
		t.Errorf("a's address %q", aIP)
	}
	// By name (through /etc/hosts) and by address, from another container.
	for _, url := range []string{"http://a/", "http://" + aIP + "/"} {
		out, err := e.try("run", "--rm", "--net", "testnet", "busybox", "wget", "-q", "-O", "-", url)
		if err != nil || !strings.Contains(out, "hello from mydocker") {
			t.Errorf("wget %s from a container: %v %q", url, err, out)
		}
	}
	if out, err := e.try("run", "--rm", "--net", "testnet", "busybox", "ping", "-c", "1", "-W", "2", "a"); err != nil {
		t.Errorf("ping a by name: %v %s", err, out)
	}
	// Through NAT to "the internet" (which has no route back to 192.168.0.0/24).
	if out, err := e.try("run", "--rm", "--net", "testnet", "busybox", "ping", "-c", "1", "-W", "2", "10.99.0.2"); err != nil {
		t.Errorf("ping the outside through NAT: %v %s", err, out)
	}
	// Published port: from the host (127.0.0.1 and its address), from the outside, hairpin.
	e.must("run", "-d", "--name", "web", "--net", "testnet", "-p", "8080:80", "-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	if ps := e.must("ps"); !strings.Contains(ps, "0.0.0.0:8080->80/tcp") {
		t.Errorf("ps does not show the published port:\n%s", ps)
	}
	for _, tc := range []struct {
		pid int
		url string
	}{{0, "http://127.0.0.1:8080/"}, {0, "http://10.99.0.1:8080/"}, {world, "http://10.99.0.1:8080/"}} {
		if out, err := wget(tc.pid, tc.url); err != nil || !strings.Contains(out, "hello from mydocker") {
			t.Errorf("published port %s from pid %d: %v %q", tc.url, tc.pid, err, out)
		}
	}
	webPid := e.inspect("web").State.Pid
	if out, err := wget(webPid, "http://10.99.0.1:8080/"); err != nil || !strings.Contains(out, "hello from mydocker") {
		t.Errorf("hairpin: %v %q", err, out)
	}
	// Port already published: refused, and no container is left behind.
	if _, err := e.try("run", "-d", "--name", "web2", "--net", "testnet", "-p", "8080:80", "busybox", "true"); err == nil || !strings.Contains(err.Error(), "already allocated") {
		t.Errorf("second publish of 8080: %v", err)
	}
	if _, err := e.try("inspect", "web2"); err == nil {
		t.Error("a refused run left a container")
	}
	// Remove is refused while containers are attached.
	if _, err := e.try("network", "remove", "testnet"); err == nil {
		t.Error("network remove with containers attached succeeded")
	}
	var nws []struct {
		Containers map[string]struct{ IP, MAC string }
	}
	json.Unmarshal([]byte(e.must("network", "inspect", "testnet")), &nws)
	if len(nws) != 1 || len(nws[0].Containers) != 2 {
		t.Errorf("network inspect: %+v", nws)
	}

	aVeth := a.NetworkSettings.Networks["testnet"].Veth
	e.must("stop", "-t", "1", "a", "web")
	e.must("rm", "a", "web")
	if out := sh(t, "ip", "-o", "link"); strings.Contains(out, aVeth) {
		t.Errorf("veth %s left after rm:\n%s", aVeth, out)
	}
	if out := sh(t, "iptables-save"); strings.Contains(out, "MYDOCKER-P-") || strings.Contains(out, "-j DNAT") {
		t.Errorf("port rules left after rm:\n%s", out)
	}
	// The address is free again.
	out := e.must("run", "--rm", "--net", "testnet", "--ip", "192.168.0.2", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, "192.168.0.2/24") {
		t.Errorf("--ip 192.168.0.2 after release: %s", out)
	}
	e.must("network", "remove", "testnet")
	if after := hostState(t); after != before {
		t.Errorf("host state changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestTwoNetworksIsolated(t *testing.T) {
	e := newEnv(t)
	before := hostState(t)
	e.must("network", "create", "--subnet", "192.168.10.0/24", "neta")
	e.must("network", "create", "--subnet", "192.168.11.0/24", "netb")
	e.must("run", "-d", "--name", "b", "--net", "netb", "busybox", "sleep", "600")
	if _, err := e.try("run", "--rm", "--net", "neta", "busybox", "ping", "-c", "1", "-W", "1", "192.168.11.2"); err == nil {
		t.Error("neta reached a container of netb")
	}
	if _, err := e.try("run", "--rm", "--net", "netb", "busybox", "ping", "-c", "1", "-W", "1", "192.168.11.2"); err != nil {
		t.Errorf("same network: %v", err)
	}
	e.must("rm", "-f", "b")
	e.must("network", "rm", "neta", "netb")
	if after := hostState(t); after != before {
		t.Errorf("host state changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestDefaultBridgeAndConcurrentRuns(t *testing.T) {
	e := newEnv(t)
	before := hostState(t)
	e.must("network", "create", "--subnet", "192.168.20.0/24", "testnet")
	const n = 30
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := e.try("run", "-d", "--net", "testnet", "busybox", "sleep", "600")
			if err != nil {
				t.Error(err)
			}
			ids[i] = strings.TrimSpace(out)
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" {
			continue
		}
		ip := e.inspect(id).NetworkSettings.Networks["testnet"].IPAddress
		if ip == "" || seen[ip] {
			t.Errorf("container %s: address %q (duplicate or missing)", id, ip)
		}
		seen[ip] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct addresses for %d containers", len(seen), n)
	}
	e.must(append([]string{"rm", "-f"}, ids...)...)
	// Without --net: the default network, created on first use.
	out := e.must("run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, "172.17.0.2/16") {
		t.Errorf("default network address: %s", out)
	}
	if ls := e.must("network", "ls"); !strings.Contains(ls, "bridge") || !strings.Contains(ls, "mydocker0") {
		t.Errorf("network ls: %s", ls)
	}
	e.must("network", "rm", "testnet", "bridge")
	if after := hostState(t); after != before {
		t.Errorf("host state changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestBadNetworkInput(t *testing.T) {
	e := newEnv(t)
	e.must("network", "create", "--subnet", "192.168.30.0/24", "testnet")
	before := hostState(t)
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"network", "create", "--subnet", "192.168.30.0/25", "other"}, "overlaps"},
		{[]string{"network", "create", "--subnet", "192.168.31.0/24", "testnet"}, "already exists"},
		{[]string{"network", "create", "--subnet", "192.168.31.0/33", "other"}, "invalid subnet"},
		{[]string{"network", "create", "--subnet", "192.168.31.0/24", "--gateway", "10.0.0.1", "other"}, "invalid gateway"},
		{[]string{"network", "create", "--subnet", "192.168.31.0/24", "a-very-long-name"}, "at most 15"},
		{[]string{"network", "create", "--subnet", "192.168.31.0/24", "../x"}, "invalid network name"},
		{[]string{"network", "create", "--driver", "overlay", "--subnet", "192.168.31.0/24", "other"}, "give its URL with --kv"},
		{[]string{"network", "create", "--driver", "macvlan", "--subnet", "192.168.31.0/24", "other"}, "known: bridge, overlay"},
		{[]string{"run", "--rm", "--net", "nonet", "busybox", "true"}, "no such network"},
		{[]string{"run", "--rm", "--net", "testnet", "-p", "70000:80", "busybox", "true"}, "out of range"},
		{[]string{"run", "--rm", "--net", "testnet", "-p", "8080:", "busybox", "true"}, "invalid port mapping"},
		{[]string{"run", "--rm", "--net", "testnet", "--ip", "10.1.1.1", "busybox", "true"}, "not in subnet"},
		{[]string{"run", "--rm", "--net", "testnet", "--ip", "192.168.30.1", "busybox", "true"}, "gateway"},
	} {
		_, err := e.try(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.err)
		}
	}
	if out := e.must("ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("refused runs left containers: %s", out)
	}
	if after := hostState(t); after != before {
		t.Errorf("bad input changed the host:\nbefore %s\nafter  %s", before, after)
	}
	e.must("network", "rm", "testnet")
}

func TestNetworkConnectDisconnect(t *testing.T) {
	e := newEnv(t)
	before := hostState(t)
	e.must("network", "create", "--subnet", "192.168.40.0/24", "front")
	e.must("network", "create", "--subnet", "192.168.41.0/24", "back")
	e.must("run", "-d", "--name", "app", "--net", "front", "busybox", "sleep", "600")
	e.must("run", "-d", "--name", "db", "--net", "back", "busybox", "sleep", "600")
	pid := e.inspect("app").State.Pid
	if _, err := e.try("network", "connect", "--ip", "192.168.41.50", "back", "app"); err != nil {
		t.Fatal(err)
	}
	addrs := sh(t, "nsenter", "-t", fmt.Sprint(pid), "-n", "ip", "-o", "-4", "addr")
	if !strings.Contains(addrs, "eth0") || !strings.Contains(addrs, "eth1") || !strings.Contains(addrs, "192.168.41.50/24") {
		t.Errorf("app after connect:\n%s", addrs)
	}
	if nets := e.inspect("app").NetworkSettings.Networks; nets["back"].IPAddress != "192.168.41.50" || nets["front"].IPAddress == "" {
		t.Errorf("inspect after connect: %+v", nets)
	}
	// app now reaches db, and db's /etc/hosts (rewritten in place) knows app.
	dbPid := e.inspect("db").State.Pid
	if hosts := sh(t, "nsenter", "-t", fmt.Sprint(dbPid), "-m", "cat", "/etc/hosts"); !strings.Contains(hosts, "192.168.41.50\t") {
		t.Errorf("db's /etc/hosts after app joined:\n%s", hosts)
	}
	if out, err := e.try("run", "--rm", "--net", "back", "busybox", "ping", "-c", "1", "-W", "2", "app"); err != nil {
		t.Errorf("ping app on back: %v %s", err, out)
	}
	// A third container joins front: app's hosts keeps db (on back) too.
	e.must("run", "-d", "--name", "late", "--net", "front", "busybox", "sleep", "600")
	if hosts := sh(t, "nsenter", "-t", fmt.Sprint(pid), "-m", "cat", "/etc/hosts"); !strings.Contains(hosts, " db\n") || !strings.Contains(hosts, " late\n") {
		t.Errorf("app's /etc/hosts on two networks:\n%s", hosts)
	}
	e.must("rm", "-f", "late")
	e.must("network", "disconnect", "back", "app")
	e.must("network", "disconnect", "back", "app") // idempotent
	if addrs := sh(t, "nsenter", "-t", fmt.Sprint(pid), "-n", "ip", "-o", "-4", "addr"); strings.Contains(addrs, "192.168.41.50") {
		t.Errorf("app after disconnect:\n%s", addrs)
	}
	if _, ok := e.inspect("app").NetworkSettings.Networks["back"]; ok {
		t.Error("inspect still shows back")
	}
	e.must("rm", "-f", "app", "db")
	// prune removes both networks, now unused.
	out := e.must("network", "prune")
	if !strings.Contains(out, "front") || !strings.Contains(out, "back") {
		t.Errorf("prune: %q", out)
	}
	if after := hostState(t); after != before {
		t.Errorf("host state changed:\nbefore %s\nafter  %s", before, after)
	}
}
