package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cgroupFile reads a file of the container's cgroup, in whichever hierarchy
// holds it ("" if none does).
func cgroupFile(id, name string) string {
	for _, d := range cgroupDirs(id) {
		if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// mydocker update: a running container's limits change in its cgroup at
// once and in its record; a restart policy given later is the one its shim
// follows; bad input changes nothing.
func TestUpdate(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "u", "--net", "none", "-m", "64m", "--pids-limit", "20", "busybox",
		"sh", "-c", "while [ ! -f /go ]; do sleep 0.1; done; exit 1"))
	memFile := "memory.max"
	if cgroupFile(id, memFile) == "" {
		memFile = "memory.limit_in_bytes"
	}
	if got := e.ok("update", "-m", "100m", "--pids-limit", "12", "--cpu-shares", "512", "u"); got != "u\n" {
		t.Errorf("update printed %q, want the container's name", got)
	}
	if mem, pids := cgroupFile(id, memFile), cgroupFile(id, "pids.max"); mem != "104857600" || pids != "12" {
		t.Errorf("cgroup after update: %s=%s pids.max=%s, want 104857600 and 12", memFile, mem, pids)
	}
	in := e.inspectOne("u")
	if in.HostConfig.Memory != 100<<20 || in.HostConfig.MemorySwap != 128<<20 || in.HostConfig.PidsLimit != 12 || in.HostConfig.CpuShares != 512 {
		t.Errorf("inspect after update: %+v", in.HostConfig)
	}
	// The new pids limit bites: twelve tasks at most, so twenty sleeps
	// cannot all start. (It is not smaller because exec's helper, a Go
	// program, has several threads in the cgroup until it execs: as runc's
	// init, it fails to start when the limit leaves it no room.)
	if r := e.run("exec", "u", "sh", "-c", "for i in $(seq 20); do sleep 1 & done; wait"); !strings.Contains(r.stderr, "fork") {
		t.Errorf("twenty forks under --pids-limit 12: exit %d, stderr %q", r.code, r.stderr)
	}
	waitFor(t, "the sleeps to end", func() bool { n := cgroupFile(id, "pids.current"); return n == "1" || n == "2" })

	// Docker's refusals, each in one line, nothing changed.
	e.fails("update the memoryswap at the same time", "update", "-m", "256m", "u")
	e.fails("one or more flags", "update", "u")
	e.fails("invalid --cpu-shares", "update", "--cpu-shares", "1", "u")
	e.fails("no such container: nosuch", "update", "-m", "64m", "nosuch")
	if got := cgroupFile(id, memFile); got != "104857600" {
		t.Errorf("a refused update changed %s to %s", memFile, got)
	}

	// A restart policy set on a running container is the one followed.
	e.ok("update", "--restart", "on-failure:1", "u")
	if got := e.f("{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "u"); got != "on-failure:1" {
		t.Errorf("restart policy after update: %q", got)
	}
	e.ok("exec", "u", "touch", "/go")
	waitFor(t, "the policy to restart it once and give up", func() bool {
		return e.f("{{.State.Status}} {{.RestartCount}}", "u") == "exited 1"
	})
	e.ok("rm", "-f", "u")

	// A stopped container keeps the new limits for its next start.
	e.ok("create", "--name", "s", "--net", "none", "busybox", "sleep", "30")
	e.ok("update", "--pids-limit", "12", "s")
	sid := strings.TrimSpace(e.ok("inspect", "-f", "{{.Id}}", "s"))
	e.ok("start", "s")
	if got := cgroupFile(sid, "pids.max"); got != "12" {
		t.Errorf("pids.max of a container updated before its start: %q, want 12", got)
	}
	rm := e.ok("run", "-d", "--rm", "--net", "none", "busybox", "sleep", "30")[:12]
	e.fails("AutoRemove", "update", "--restart", "always", rm)
	e.ok("rm", "-f", "s", rm)
}
