package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The shim of a detached container gives back, once the container runs,
// what its start used (container/shimmem.go): its resident set falls well
// below its peak while it waits (before, the two were equal), and it still
// does its duties afterwards: the container's late output reaches the log,
// and stop records the exit. The container does not inherit the shim's
// GODEBUG.
//
//	mydocker run -d --name s busybox sh -c 'sleep 3; echo late; sleep 1000'
//	grep -E 'VmRSS|VmHWM' /proc/$(shim pid)/status
func TestDetachedShimGivesBackItsStart(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "s", "busybox", "sh", "-c", "sleep 3; echo late; sleep 1000"))
	var cfg struct{ MonitorPid int }
	data, err := os.ReadFile(filepath.Join(e.root, "containers", id, "config.json"))
	if err != nil || json.Unmarshal(data, &cfg) != nil || cfg.MonitorPid <= 0 {
		t.Fatalf("the shim's pid in the container's state: %v %s", err, data)
	}
	status := func(key string) int {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(cfg.MonitorPid) + "/status")
		if err != nil {
			t.Fatalf("the shim's status: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, key+":"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				return kb
			}
		}
		t.Fatalf("no %s in the shim's status", key)
		return 0
	}
	// Before the container writes: its first line faults the log
	// writer's code back in (bench/README.md).
	var rss, peak int
	for start := time.Now(); time.Since(start) < 2*time.Second; time.Sleep(50 * time.Millisecond) {
		if rss, peak = status("VmRSS"), status("VmHWM"); rss*4 <= peak*3 {
			break
		}
	}
	if rss*4 > peak*3 {
		t.Errorf("the waiting shim holds %d kB of its peak %d kB: want at most three quarters", rss, peak)
	}
	waitFor(t, "the container's late output in its log", func() bool { return strings.Contains(e.ok("logs", "s"), "late") })
	env, err := os.ReadFile("/proc/" + strconv.Itoa(cfg.MonitorPid) + "/environ")
	if err != nil || !strings.Contains(string(env), "memprofilerate=0") {
		t.Errorf("the shim's environment has no GODEBUG memprofilerate=0: %v", err)
	}
	pid := e.initPid("s")
	if env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ"); err != nil || strings.Contains(string(env), "GODEBUG") {
		t.Errorf("the container's command has the shim's GODEBUG (or none to read: %v): %q", err, env)
	}
	e.ok("stop", "-t", "1", "s")
	if in := e.inspectOne("s"); in.State.Status != "exited" || in.State.ExitCode != 137 {
		t.Errorf("after stop: %+v, want exited (137): the shim recorded no exit", in.State)
	}
}
