package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A reboot, simulated in the test's namespaces: every process of the
// containers killed at once (shim first, so nobody records an exit), their
// cgroups gone, and, for the network, the bridge, the iptables rules and
// ip_forward as a fresh boot has them; the state under --root kept (or
// gone, as a tmpfs /var/run is), a new boot id.

// recorded is what a container's config.json says of its processes.
func (e *env) recorded(id string) (pid, shim int) {
	e.t.Helper()
	var c struct{ Pid, MonitorPid int }
	b, err := os.ReadFile(filepath.Join(e.root, "containers", id, "config.json"))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		e.t.Fatalf("config.json of %s: %v", id, err)
	}
	return c.Pid, c.MonitorPid
}

// powerOff kills the containers' processes and shims with SIGKILL and
// removes their cgroups, as the end of a boot does.
func (e *env) powerOff(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		pid, shim := e.recorded(id)
		for _, p := range []int{shim, pid} {
			if p <= 0 {
				e.t.Fatalf("container %s records no pid (%d) or shim (%d)", id, pid, shim)
			}
			syscall.Kill(p, syscall.SIGKILL)
		}
		waitFor(e.t, fmt.Sprintf("pids %d and %d to die", pid, shim), func() bool { return dead(pid) && dead(shim) })
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mydocker/" + id)
		dirs = append(dirs, "/sys/fs/cgroup/mydocker/"+id)
		for _, d := range dirs {
			waitFor(e.t, "rmdir "+d, func() bool {
				err := syscall.Rmdir(d)
				return err == nil || errors.Is(err, syscall.ENOENT)
			})
		}
	}
}

// dead: gone, or a zombie (its parent has not reaped it yet).
func dead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	return strings.HasPrefix(strings.TrimSpace(s[strings.LastIndex(s, ")")+1:]), "Z")
}

// newBoot gives the root another boot's id, as if the last command ran
// before a reboot.
func (e *env) newBoot() {
	e.t.Helper()
	rec := `{"BootID": "00000000-0000-4000-8000-000000000000"}`
	if err := os.WriteFile(filepath.Join(e.root, "boot_id"), []byte(rec), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func bootID(t *testing.T) string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestRebootWithStateKept(t *testing.T) {
	e, www := newNetEnv(t)
	e.must("network", "create", "--subnet", "192.168.83.0/24", "thenet")
	web := strings.TrimSpace(e.must("run", "-d", "--name", "web", "--net", "thenet", "-p", "8083:80",
		"-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www"))
	webIP := e.inspect("web").NetworkSettings.Networks["thenet"].IPAddress
	gone := strings.TrimSpace(e.must("run", "-d", "--rm", "--name", "gone", "--net", "thenet", "busybox", "sleep", "1000"))
	goneIP := e.inspect("gone").NetworkSettings.Networks["thenet"].IPAddress
	// And a process wired by netsetgo.
	sleeper := exec.Command("unshare", "--net", "sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Wait()
	defer sleeper.Process.Kill()
	waitFor(t, "unshare to exec sleep", func() bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", sleeper.Process.Pid))
		return strings.HasSuffix(exe, "sleep")
	})
	e.must("netsetgo", "-pid", fmt.Sprint(sleeper.Process.Pid), "-bridgeName", "rbbr",
		"-bridgeAddress", "10.10.83.1/24", "-containerAddress", "10.10.83.2/24")
	wiring := filepath.Join(e.root, "netsetgo", fmt.Sprintf("%d.json", sleeper.Process.Pid))
	if _, err := os.Stat(wiring); err != nil {
		t.Fatalf("netsetgo's record: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(e.root, "boot_id")); err != nil || !strings.Contains(string(b), bootID(t)) {
		t.Fatalf("the root does not keep this boot's id: %v %q", err, b)
	}

	// The reboot.
	var nws []struct{ Bridge string }
	json.Unmarshal([]byte(e.must("network", "inspect", "thenet")), &nws)
	e.powerOff(web, gone)
	sleeper.Process.Kill()
	sleeper.Wait()
	for _, br := range []string{nws[0].Bridge, "rbbr"} {
		sh(t, "ip", "link", "del", br)
	}
	// A fresh boot's empty tables: this is the test binary's own network
	// namespace (testns), and its tests run one at a time.
	for _, table := range []string{"nat", "filter"} {
		sh(t, "iptables", "-t", table, "-F")
		sh(t, "iptables", "-t", table, "-X")
	}
	os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0\n"), 0o644)
	e.newBoot()

	// The first command after it: web exited as docker shows it, gone
	// removed with all it had, their addresses free.
	r := e.run("ps", "-a")
	if r.code != 0 || !strings.Contains(r.stderr, "rebooted") {
		t.Fatalf("ps -a after the reboot: exit %d, no word of the reboot\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Exited (255)") || !strings.Contains(r.stdout, "web") || strings.Contains(r.stdout, "gone") {
		t.Errorf("ps -a after the reboot:\n%s", r.stdout)
	}
	for _, p := range e.leftovers() {
		if strings.Contains(p, gone) {
			t.Errorf("the --rm container left %s", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(e.root, "boot_id")); !strings.Contains(string(b), bootID(t)) {
		t.Errorf("boot_id after the reconcile: %s", b)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.root, "netsetgo", "bridges")); len(ents) > 0 {
		t.Errorf("netsetgo's bridge records outlived the reboot: %v", ents)
	}
	if _, err := os.Stat(wiring); err == nil {
		t.Errorf("netsetgo's wiring of a process of the old boot is still recorded")
	}
	if r := e.run("ps", "-a"); strings.Contains(r.stderr, "rebooted") {
		t.Errorf("the second command reconciled again:\n%s", r.stderr)
	}
	if out := e.must("ps"); strings.Contains(out, "web") {
		t.Errorf("ps lists an exited container:\n%s", out)
	}
	var after []struct{ Containers map[string]any }
	json.Unmarshal([]byte(e.must("network", "inspect", "thenet")), &after)
	if len(after) != 1 || len(after[0].Containers) != 0 {
		t.Errorf("thenet still holds endpoints after the reboot: %+v", after)
	}

	// The network works again at its first use, with the freed addresses
	// and port.
	e.must("run", "-d", "--name", "web2", "--net", "thenet", "--ip", webIP, "-p", "8083:80",
		"-v", www+":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www")
	for _, url := range []string{"http://127.0.0.1:8083/", "http://" + webIP + "/"} {
		if out, err := wget(0, url); err != nil || !strings.Contains(out, "hello from mydocker") {
			t.Errorf("web2 at %s: %v %q", url, err, out)
		}
	}
	out := e.must("run", "--rm", "--net", "thenet", "--ip", goneIP, "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, goneIP+"/24") {
		t.Errorf("the --rm container's address %s is not free again: %q", goneIP, out)
	}
	// web is an exited container as any: rm removes it.
	e.must("rm", "web")
}

func TestRebootWithStateGone(t *testing.T) {
	e := newEnv(t)
	running := strings.TrimSpace(e.must("run", "-d", "--net", "none", "busybox", "sleep", "1000"))
	e.must("run", "--net", "none", "busybox", "true")
	e.powerOff(running)
	// A tmpfs /var/run comes back empty; /var/lib keeps the layers.
	if err := os.RemoveAll(e.root); err != nil {
		t.Fatal(err)
	}
	if out := e.must("ps", "-a", "-q"); out != "" {
		t.Errorf("ps -a with an empty root: %q", out)
	}
	layers := e.leftovers()
	if len(layers) != 2 {
		t.Fatalf("want the two layers kept under --data-root, have %v", layers)
	}
	out := e.must("system", "prune", "-f")
	for _, l := range layers {
		if !strings.Contains(out, "layer "+l) {
			t.Errorf("system prune does not say it removed %s:\n%s", l, out)
		}
	}
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("system prune left %v", left)
	}
}
