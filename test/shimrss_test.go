package test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// shimStatus reads a field of the shim's /proc status, in kB for sizes;
// -1 while it has none: for an instant while it execs, its thread group
// leader is exiting and shows no memory.
func shimStatus(t *testing.T, pid int, key string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("the shim is gone: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

// monitorPid is the pid of container id's shim, from its state.
func (e *env) monitorPid(id string) int {
	e.t.Helper()
	var cfg struct{ MonitorPid int }
	data, err := os.ReadFile(filepath.Join(e.root, "containers", id, "config.json"))
	if err != nil || json.Unmarshal(data, &cfg) != nil || cfg.MonitorPid <= 0 {
		e.t.Fatalf("the shim's pid in the container's state: %v %s", err, data)
	}
	e.t.Cleanup(func() {
		if e.t.Failed() {
			log, _ := os.ReadFile(filepath.Join(e.root, "containers", id, "shim.log"))
			e.t.Logf("the shim's log:\n%s", log)
		}
	})
	return cfg.MonitorPid
}

// shimWaitsSmall waits until the shim waits in its waiter: one thread,
// VmRSS at most 3 MB (bench/README.md, "The shim's resident memory"), in
// five readings in a row (a shim that execs is one thread for an instant,
// and hands off again at once when output came meanwhile).
func shimWaitsSmall(t *testing.T, pid int, when string) {
	t.Helper()
	var rss, threads int
	small := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rss, threads = shimStatus(t, pid, "VmRSS"), shimStatus(t, pid, "Threads"); threads == 1 && rss >= 0 && rss <= 3<<10 {
			if small++; small == 5 {
				return
			}
			continue
		}
		small = 0
	}
	t.Fatalf("%s: the shim of a quiet container holds %d kB in %d threads: want at most 3072 kB, one thread", when, rss, threads)
}

// The shim of a quiet detached container waits small (container/
// shimhandoff.go): at most 3 MB resident, one thread, and it still does its
// duties from there: a line the container prints later reaches the log, a
// client that attaches while it waits gets the output and the exit code,
// the exit is recorded. The container inherits neither the shim's GODEBUG
// nor what its waiter holds.
//
//	mydocker run -d --name s busybox sh -c '...'
//	grep -E 'VmRSS|Threads' /proc/$(shim pid)/status
func TestDetachedShimWaitsSmall(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("--log-level", "warn", "run", "-d", "--name", "s", "--net", "none", "busybox", "sh", "-c",
		`echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo late; while [ ! -e /tmp/end ]; do sleep 0.1; done; echo bye; exit 3`))
	shim := e.monitorPid(id)
	shimWaitsSmall(t, shim, "after the start")
	env, err := os.ReadFile("/proc/" + strconv.Itoa(shim) + "/environ")
	if err != nil || !strings.Contains(string(env), "memprofilerate=0") {
		t.Errorf("the shim's environment has no GODEBUG memprofilerate=0: %v", err)
	}
	if env, err := os.ReadFile("/proc/" + strconv.Itoa(e.initPid("s")) + "/environ"); err != nil || strings.Contains(string(env), "GODEBUG") || strings.Contains(string(env), "_MYDOCKER") {
		t.Errorf("the container's command has the shim's environment (or none to read: %v): %q", err, env)
	}

	// Output while it waits: logged.
	e.ok("--log-level", "warn", "exec", "s", "touch", "/tmp/go")
	waitFor(t, "the container's late output in its log", func() bool { return e.ok("logs", "s") == "first\nlate\n" })
	shimWaitsSmall(t, shim, "after a line of output")

	// A client that attaches while it waits.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	attach := exec.CommandContext(ctx, binary, "--root", e.root, "--data-root", e.dataRoot, "--log-level", "warn", "attach", "s")
	out, _ := attach.StdoutPipe()
	if err := attach.Start(); err != nil {
		t.Fatal(err)
	}
	// Attached once the shim holds the client's connection beside its
	// listening socket.
	waitFor(t, "the shim to take the attached client", func() bool { return sockets(shim) >= 2 })
	e.ok("--log-level", "warn", "exec", "s", "touch", "/tmp/end")
	rest, _ := io.ReadAll(bufio.NewReader(out))
	err = attach.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || string(rest) != "bye\n" {
		t.Errorf("attach to a waiting shim: %v, stdout %q; want exit 3, bye", err, rest)
	}
	waitFor(t, "the exit recorded", func() bool { return e.inspectOne("s").State.Status == "exited" })
	if in := e.inspectOne("s"); in.State.ExitCode != 3 {
		t.Errorf("after the exit: %+v, want exited (3)", in.State)
	}
	if out := e.ok("logs", "s"); out != "first\nlate\nbye\n" {
		t.Errorf("logs: %q", out)
	}
}

// The shim of a container with a restart policy restarts it from its
// waiter, and waits small again.
func TestDetachedShimRestartsFromItsWait(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("--log-level", "warn", "run", "-d", "--name", "r", "--net", "none", "--restart", "on-failure:1",
		"busybox", "sh", "-c", `while [ ! -e /tmp/go ]; do sleep 0.1; done; rm /tmp/go; echo out; exit 3`))
	shim := e.monitorPid(id)
	shimWaitsSmall(t, shim, "after the start")
	e.ok("--log-level", "warn", "exec", "r", "touch", "/tmp/go")
	waitFor(t, "the restart", func() bool { return e.f("{{.State.Status}} {{.RestartCount}}", "r") == "running 1" })
	shimWaitsSmall(t, shim, "after the restart")
	e.ok("--log-level", "warn", "exec", "r", "touch", "/tmp/go")
	waitFor(t, "the second exit", func() bool { return e.f("{{.State.Status}}", "r") == "exited" })
	if got := e.f("{{.State.ExitCode}} {{.RestartCount}}", "r"); got != "3 1" {
		t.Errorf("after the second exit: exit code, restarts %q; want 3 1", got)
	}
	if out := e.ok("logs", "r"); out != "out\nout\n" {
		t.Errorf("logs: %q", out)
	}
}

// sockets counts the sockets pid holds.
func sockets(pid int) int {
	fds, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}
