package test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// A start on a host whose watcher is alive does not dial etcd: it wakes
// the watcher (kill -WINCH), which puts the name; the other host's
// containers then resolve it. The same for a disconnect while others
// stay. A killed watcher is started again by the next start, and the
// names follow as before (doc/overlay.md, "A container's name in etcd is
// the watcher's to publish").
func TestOverlayNamesByWatcher(t *testing.T) {
	hosts, etcd := overlayHosts(t, 2)
	h1, h2 := hosts[0], hosts[1]
	h1.ok("network", "create", "--driver", "overlay", "--subnet", "10.200.0.0/16", "ov1")
	h2.ok("run", "-d", "--name", "client", "--net", "ov1", "busybox", "sleep", "600")
	h1.ok("run", "-d", "--name", "keep", "--net", "ov1", "busybox", "sleep", "600")

	key := func(id string) string { return "/mydocker/v1/endpoints/ov1/" + strings.TrimSpace(id) }
	inEtcd := func(k string) bool {
		for _, have := range etcdKeys(t, etcd.Endpoint()) {
			if have == k {
				return true
			}
		}
		return false
	}
	hostsOfClient := func() string { return h2.run("exec", "client", "cat", "/etc/hosts").stdout }
	names := func(hosts, name string) bool {
		for _, l := range strings.Split(hosts, "\n") {
			f := strings.Fields(l)
			for i := 1; i < len(f); i++ {
				if f[i] == name {
					return true
				}
			}
		}
		return false
	}

	r := h1.run("run", "-d", "--name", "web", "--net", "ov1", "busybox", "sleep", "600")
	if r.code != 0 {
		t.Fatalf("run web: %s", r.stderr)
	}
	if strings.Contains(r.stderr, "etcdctl") || !strings.Contains(r.stderr, fmt.Sprintf("$ kill -WINCH %d", h1.watcherPid("ov1"))) {
		t.Fatalf("a start with the watcher alive should wake it, not talk to etcd; it narrated:\n%s", r.stderr)
	}
	web := key(r.stdout)
	published := func(k, name string) {
		t.Helper()
		eventually(t, name+"'s name in etcd and in client's /etc/hosts on h2", func() error {
			if !inEtcd(k) {
				return fmt.Errorf("etcd has no %s", k)
			}
			if h := hostsOfClient(); !names(h, name) {
				return fmt.Errorf("client's /etc/hosts:\n%s", h)
			}
			return nil
		})
	}
	published(web, "web")

	r = h1.run("network", "disconnect", "ov1", "web")
	if r.code != 0 || strings.Contains(r.stderr, "etcdctl") || !strings.Contains(r.stderr, "$ kill -WINCH") {
		t.Fatalf("network disconnect ov1 web (keep stays): exit %d, should wake the watcher, not talk to etcd:\n%s", r.code, r.stderr)
	}
	eventually(t, "web's name gone from etcd and from client's /etc/hosts", func() error {
		if inEtcd(web) {
			return fmt.Errorf("etcd still has %s", web)
		}
		if h := hostsOfClient(); names(h, "web") {
			return fmt.Errorf("client's /etc/hosts:\n%s", h)
		}
		return nil
	})

	// The watcher killed: the next start starts another, and the name
	// still reaches the other host.
	old := h1.killWatcher("ov1")
	id := h1.ok("run", "-d", "--name", "web2", "--net", "ov1", "busybox", "sleep", "600")
	if pid := h1.watcherPid("ov1"); pid == 0 || pid == old {
		t.Fatalf("no new watcher after the old one (%d) was killed: %d", old, pid)
	}
	published(key(id), "web2")
}

// killWatcher kills the host's watcher of network name (SIGKILL: a crash)
// and returns its pid.
func (h *ovHost) killWatcher(name string) int {
	h.t.Helper()
	pid := h.watcherPid(name)
	if pid == 0 {
		h.t.Fatalf("%s has no watcher of %s", h.name, name)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	return pid
}
