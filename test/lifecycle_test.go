package test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The lifecycle verbs (issue 14): create, start [-a], restart, run --rm -d,
// --restart supervised by the shim, --init.

// f is inspect -f TEMPLATE REF, trimmed.
func (e *env) f(tmpl, ref string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ok("inspect", "-f", tmpl, ref))
}

// mydocker create --name c busybox sh -c 'echo hello; ...'; mydocker start c
func TestCreateStartLogs(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("create", "--name", "c", "busybox", "sh", "-c", "echo hello from $(hostname); sleep 1000"))
	if len(id) != 64 {
		t.Fatalf("create printed %q, want a 64-hex id", id)
	}
	if ps := e.ok("ps", "-a"); !strings.Contains(ps, "Created") || !strings.Contains(ps, id[:12]) {
		t.Fatalf("ps -a after create:\n%s", ps)
	}
	if q := e.ok("ps", "-q"); q != "" {
		t.Fatalf("ps -q lists a created container: %q", q)
	}
	if got := e.f("{{.State.Status}} {{.State.Pid}} {{.NetworkSettings.IPAddress}}", "c"); got != "created 0" {
		t.Fatalf("inspect after create: %q, want created, no pid, no address yet", got)
	}
	e.fails("not running", "exec", "c", "true")
	if out := strings.TrimSpace(e.ok("start", "c")); out != "c" {
		t.Fatalf("start printed %q, want the name as given", out)
	}
	waitFor(t, "its output in the log", func() bool { return strings.Contains(e.ok("logs", "c"), "hello from "+id[:12]) })
	if got := e.f("{{.Id}} {{.State.Status}}", "c"); got != id+" running" {
		t.Fatalf("inspect after start: %q", got)
	}
	if ip := e.f("{{.NetworkSettings.IPAddress}}", "c"); !strings.HasPrefix(ip, "172.17.") {
		t.Fatalf("no address on the default network once started: %q", ip)
	}
	e.ok("start", "c") // already running: nothing to do, as docker's
	e.ok("rm", "-f", "c")

	// A created container is removed by rm and by container prune.
	e.ok("create", "--name", "gone", "busybox", "true")
	e.ok("rm", "gone")
	e.ok("create", "--name", "pruned", "busybox", "true")
	if out := e.ok("container", "prune", "-f"); !strings.Contains(out, "Total reclaimed space") && !strings.Contains(out, "Deleted") {
		t.Logf("container prune said: %s", out)
	}
	if ps := e.ok("ps", "-a", "-q"); ps != "" {
		t.Fatalf("container prune left a created container: %q", ps)
	}
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("rm and prune left %v", left)
	}
}

// start of an exited container: same id, its layer's changes kept, and
// its address kept (free again, so asked for again), reachable.
func TestStartAgainKeepsLayerAndAddress(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "s", "busybox", "sh", "-c", "echo run >> /runs; sleep 1000")
	waitFor(t, "the first run", func() bool { return e.run("exec", "s", "cat", "/runs").stdout == "run\n" })
	ip := e.f("{{.NetworkSettings.IPAddress}}", "s")
	pid := e.initPid("s")
	e.ok("stop", "-t", "0", "s")
	if got := e.f("{{.State.Status}}", "s"); got != "exited" {
		t.Fatalf("after stop: %s", got)
	}
	e.ok("start", "s")
	waitFor(t, "the second run", func() bool { return e.run("exec", "s", "cat", "/runs").stdout == "run\nrun\n" })
	if again := e.f("{{.NetworkSettings.IPAddress}}", "s"); again != ip {
		t.Fatalf("address after start: %s, before: %s", again, ip)
	}
	if e.initPid("s") == pid {
		t.Fatalf("the same pid %d after stop and start", pid)
	}
	e.ok("run", "-d", "--name", "peer", "busybox", "sleep", "1000")
	if r := e.run("exec", "peer", "ping", "-c", "1", "-W", "2", ip); r.code != 0 {
		t.Fatalf("ping %s from another container: %s%s", ip, r.stdout, r.stderr)
	}

	// restart: stopped and started again, same id and address.
	pid = e.initPid("s")
	start := time.Now()
	e.ok("restart", "-t", "1", "s")
	if e.initPid("s") == pid || e.f("{{.NetworkSettings.IPAddress}}", "s") != ip {
		t.Fatalf("restart: pid %d (was %d), address %s (was %s)", e.initPid("s"), pid, e.f("{{.NetworkSettings.IPAddress}}", "s"), ip)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("restart -t 1 took %v", d)
	}
	waitFor(t, "the third run", func() bool { return e.run("exec", "s", "cat", "/runs").stdout == "run\nrun\nrun\n" })
}

// mydocker start -a: the output is ours, the exit code the command's.
func TestStartAttachExitCode(t *testing.T) {
	e := newEnv(t)
	e.ok("create", "--name", "a", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
	r := e.run("--log-level", "warn", "start", "-a", "a")
	if r.code != 3 || r.stdout != "out\n" || !strings.Contains(r.stderr, "err\n") {
		t.Fatalf("start -a: exit %d, stdout %q, stderr %q; want 3, out, err", r.code, r.stdout, r.stderr)
	}
	if got := e.f("{{.State.Status}} {{.State.ExitCode}}", "a"); got != "exited 3" {
		t.Fatalf("after start -a: %s", got)
	}
	e.run("start", "-a", "a") // again: an exited container starts again
	if got := e.f("{{.State.ExitCode}}", "a"); got != "3" {
		t.Fatalf("after a second start -a: exit %s", got)
	}
	e.fails("cannot start and attach multiple containers", "start", "-a", "a", "b")

	// -i: our stdin is the command's.
	e.ok("create", "-i", "--name", "cat", "busybox", "sh", "-c", "read line; echo got $line")
	if r := e.runIn([]byte("hello\n"), "--log-level", "warn", "start", "-a", "-i", "cat"); r.code != 0 || r.stdout != "got hello\n" {
		t.Fatalf("start -a -i: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// --dry-run: narrated, nothing created.
	if r := e.run("create", "--dry-run", "--name", "dry", "busybox", "true"); r.code != 0 || !strings.Contains(r.stderr, "was not created") {
		t.Fatalf("create --dry-run: exit %d, stderr %s", r.code, tail(r.stderr, 3))
	}
	e.fails("no such container", "inspect", "dry")
}

// --restart on-failure:2 restarts a failing command exactly twice.
func TestRestartOnFailureTwice(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "f", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo ran; exit 3")
	done := func() bool {
		return e.f("{{.State.Status}} {{.State.Restarting}} {{.RestartCount}}", "f") == "exited false 2"
	}
	waitFor(t, "two restarts, then exited", done)
	time.Sleep(1500 * time.Millisecond) // a third restart would be due after 400 ms
	if got := e.f("{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "f"); got != "exited 3 2 on-failure 2" {
		t.Fatalf("inspect: %q, want exited 3 2 on-failure 2", got)
	}
	if runs := strings.Count(e.ok("logs", "f"), "ran\n"); runs != 3 {
		t.Fatalf("the command ran %d times, want 3 (once, then restarted twice)", runs)
	}
	if ps := e.ok("ps", "-a"); !strings.Contains(ps, "Exited (3)") {
		t.Fatalf("ps -a:\n%s", ps)
	}
	// A success is not restarted by on-failure.
	e.ok("run", "-d", "--name", "ok", "--restart", "on-failure", "busybox", "true")
	waitFor(t, "ok exited", func() bool { return e.f("{{.State.Status}}", "ok") == "exited" })
	time.Sleep(500 * time.Millisecond)
	if n := e.f("{{.RestartCount}}", "ok"); n != "0" {
		t.Fatalf("on-failure restarted a command that exited 0: RestartCount %s", n)
	}
	// In the foreground: run returns the first exit's code, as docker's,
	// and the shim restarts the container detached.
	r := e.run("--log-level", "warn", "run", "--name", "fg", "--restart", "on-failure:1", "busybox", "sh", "-c", "echo ran; exit 2")
	if r.code != 2 || r.stdout != "ran\n" {
		t.Fatalf("run --restart in the foreground: exit %d, stdout %q", r.code, r.stdout)
	}
	waitFor(t, "its restart by a shim", func() bool {
		return e.f("{{.State.Status}} {{.State.Restarting}} {{.RestartCount}}", "fg") == "exited false 1" && e.ok("logs", "fg") == "ran\nran\n"
	})
	e.fails("invalid restart policy", "run", "--restart", "sometimes", "busybox", "true")
	e.fails("maximum retry count can only be used with 'on-failure'", "run", "--restart", "always:3", "busybox", "true")
	e.fails("conflicting options: --restart and --rm", "run", "--rm", "--restart", "always", "busybox", "true")
}

// --restart always: the command killed from outside comes back; after
// stop it stays stopped.
func TestRestartAlwaysAfterKillNotStop(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "al", "--restart", "always", "busybox", "sleep", "1000")
	pid := e.initPid("al")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restart", func() bool {
		return e.f("{{.State.Status}} {{.RestartCount}}", "al") == "running 1" && e.initPid("al") != pid
	})
	e.ok("stop", "-t", "1", "al")
	time.Sleep(time.Second)
	if got := e.f("{{.State.Status}} {{.RestartCount}}", "al"); got != "exited 1" {
		t.Fatalf("after stop: %q, want exited 1 (a stop is not restarted)", got)
	}
	// start by hand: supervised again, its count reset as docker's.
	e.ok("start", "al")
	if got := e.f("{{.State.Status}} {{.RestartCount}}", "al"); got != "running 0" {
		t.Fatalf("after start: %q", got)
	}
	e.ok("kill", "al")
	time.Sleep(time.Second)
	if got := e.f("{{.State.Status}}", "al"); got != "exited" {
		t.Fatalf("after kill: %q, want exited (kill ends the supervision)", got)
	}
}

// run --rm -d: removed once the command exits.
func TestRunRmDetached(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "--rm", "-d", "busybox", "sleep", "0.3"))
	waitFor(t, "its removal", func() bool { return e.run("inspect", id).code != 0 })
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("run --rm -d left %v", left)
	}
}

// zombies lists the zombies of the pid namespace of the process pid.
func zombies(t *testing.T, pid int) []int {
	t.Helper()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, en := range ents {
		p, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		if other, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); other != ns {
			continue
		}
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			out = append(out, p)
		}
	}
	return out
}

// --init: the reaper is pid 1; an orphan that exits is reaped (without
// it, pid 1 `sleep` leaves it a zombie); stop's SIGTERM reaches the
// command (without it, pid 1 ignores it until the SIGKILL).
func TestInitReapsAndForwards(t *testing.T) {
	e := newEnv(t)
	orphan := "(sleep 0.2 &); exec sleep 1000" // the subshell's sleep is orphaned to pid 1
	e.ok("run", "-d", "--name", "bare", "busybox", "sh", "-c", orphan)
	e.ok("run", "-d", "--name", "ini", "--init", "busybox", "sh", "-c", orphan)
	if out := e.ok("exec", "ini", "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "mydocker-init\x00--\x00sh\x00") {
		t.Fatalf("pid 1 with --init: %q", out)
	}
	if got := e.f("{{.HostConfig.Init}}", "ini"); got != "true" {
		t.Fatalf("inspect .HostConfig.Init: %q", got)
	}
	waitFor(t, "the orphan's exit without --init (a zombie)", func() bool { return len(zombies(t, e.initPid("bare"))) == 1 })
	time.Sleep(300 * time.Millisecond)
	if z := zombies(t, e.initPid("ini")); len(z) != 0 {
		t.Fatalf("--init left zombies %v", z)
	}
	start := time.Now()
	e.ok("stop", "-t", "20", "ini")
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("stop of an --init container took %v: SIGTERM was not forwarded", d)
	}
	if code := e.f("{{.State.ExitCode}}", "ini"); code != "143" {
		t.Fatalf("exit code after SIGTERM: %s, want 143 (the reaper passes the command's)", code)
	}
	if out := e.run("run", "--rm", "--init", "busybox", "sh", "-c", "exit 7"); out.code != 7 {
		t.Fatalf("run --init exit code %d, want 7", out.code)
	}
}

// A start killed at any of its steps is repaired: the next command finds
// the container as create left it (or exited, if its command ran), with
// nothing held, and the next start runs it; rm then leaves nothing. The
// start in the foreground (start -a: the start process does it all), and
// detached (its shim does).
func TestStartKilledAtEveryStep(t *testing.T) {
	x := newCrashEnv(t)
	x.mustMd(createNk...)
	create := []string{"create", "--name", "c", "--net", "nk", "-p", "18080:80", "busybox", "sh", "-c", "echo ok"}
	x.mustMd(create...) // once: the directories made on first use stay
	x.mustMd("rm", "c")
	x.settle()
	pristine := x.snapshot()
	for _, key := range []string{"start", "shim"} {
		startArgs := []string{"start", "-a", "c"}
		if key == "shim" {
			startArgs = []string{"start", "c"}
		}
		for n := 1; n <= maxKill; n++ {
			x.mustMd(create...)
			x.settle()
			created := x.snapshot()
			x.clearKill()
			r := x.md(fmt.Sprintf("%s:%d", key, n), startArgs...)
			if key == "shim" {
				if err := shimGone(x); err != nil {
					t.Fatal(err)
				}
			}
			x.md("", "ps", "-a") // settles what the kill left
			x.settle()
			killed := x.killLine()
			state := strings.TrimSpace(x.mustMd("inspect", "-f", "{{.State.Status}}", "c"))
			switch {
			case killed == "" && r.code != 0:
				t.Fatalf("N=%d: %v failed without being killed: exit %d\n%s", n, startArgs, r.code, tail(r.stderr, 5))
			case state == "created":
				if got := x.snapshot(); got != created {
					t.Errorf("N=%d (%s): created again, but not as create left it (- created, + got):\n%s", n, killed, indent(lineDiff(created, got)))
				}
			case state != "exited":
				t.Errorf("N=%d (%s): %s after the kill, want created or exited", n, killed, state)
			}
			if r := x.md("", "start", "-a", "c"); r.code != 0 || r.stdout != "ok\n" {
				t.Fatalf("N=%d (%s): the next start -a: exit %d, stdout %q\n%s", n, killed, r.code, r.stdout, tail(r.stderr, 5))
			}
			x.mustMd("rm", "c")
			x.settle()
			if got := x.snapshot(); got != pristine {
				t.Fatalf("N=%d (%s): rm did not leave the state before create (- before, + got):\n%s", n, killed, indent(lineDiff(pristine, got)))
			}
			if killed == "" {
				t.Logf("%s: %d kill points", key, n-1)
				break
			}
		}
	}
}

// A command that keeps failing under --restart always waits longer each
// time (ps: "Restarting (1) ..."); a stop during the wait ends it.
func TestStopWhileRestarting(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "fl", "--restart", "always", "busybox", "sh", "-c", "exit 1")
	waitFor(t, "ps to say Restarting", func() bool {
		return strings.Contains(e.ok("ps", "-a", "--filter", "status=restarting"), "Restarting (1)")
	})
	if got := e.f("{{.State.Status}} {{.State.Restarting}} {{.State.Running}}", "fl"); got != "restarting true true" {
		t.Fatalf("inspect while it waits to restart: %q", got)
	}
	start := time.Now()
	e.ok("stop", "fl")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stop of a restarting container took %v", d)
	}
	count := e.f("{{.RestartCount}}", "fl")
	time.Sleep(2 * time.Second)
	if got := e.f("{{.State.Status}} {{.State.Restarting}} {{.RestartCount}}", "fl"); got != "exited false "+count {
		t.Fatalf("after stop: %q, want exited false %s (no restart after a stop)", got, count)
	}
	if ps := e.ok("ps", "-a", "--filter", "name=fl"); !strings.Contains(ps, "Exited (1)") {
		t.Fatalf("ps -a after stop:\n%s", ps)
	}
	e.ok("rm", "fl")
}

// After a reboot: a created container stays created; one with --restart
// always is recorded Exited (255) and not started again (no daemon: a
// boot unit runs mydocker start); start brings both up.
func TestLifecycleAfterReboot(t *testing.T) {
	e := newEnv(t)
	e.ok("create", "--name", "cr", "--net", "none", "busybox", "sleep", "1000")
	al := strings.TrimSpace(e.ok("run", "-d", "--name", "al", "--net", "none", "--restart", "always", "busybox", "sleep", "1000"))
	e.powerOff(al)
	e.newBoot()
	ps := e.ok("ps", "-a")
	if !strings.Contains(ps, "Created") || !strings.Contains(ps, "Exited (255)") || strings.Contains(ps, "Up ") {
		t.Fatalf("ps -a after the reboot:\n%s", ps)
	}
	time.Sleep(500 * time.Millisecond)
	if got := e.f("{{.State.Status}}", "al"); got != "exited" {
		t.Fatalf("al after the reboot: %s, want exited (nobody restarts it)", got)
	}
	e.ok("start", "cr", "al")
	for _, name := range []string{"cr", "al"} {
		if got := e.f("{{.State.Status}}", name); got != "running" {
			t.Fatalf("%s after start: %s", name, got)
		}
	}
}

// A create killed at any of its steps leaves nothing once the next
// command has looked (its creation undone, layer and record removed); one
// that ran to its end leaves a Created container that rm removes.
func TestCreateKilledAtEveryStep(t *testing.T) {
	x := newCrashEnv(t)
	x.mustMd(createNk...)
	create := []string{"create", "--name", "c", "--net", "nk", "-p", "18080:80", "busybox", "true"}
	x.mustMd(create...) // once: the directories made on first use stay
	x.mustMd("rm", "c")
	x.settle()
	pristine := x.snapshot()
	for n := 1; n <= maxKill; n++ {
		x.clearKill()
		r := x.md(fmt.Sprintf("create:%d", n), create...)
		x.md("", "ps", "-a")
		x.settle()
		killed := x.killLine()
		if killed == "" {
			if r.code != 0 {
				t.Fatalf("N=%d: create failed without being killed: exit %d\n%s", n, r.code, tail(r.stderr, 5))
			}
			if got := strings.TrimSpace(x.mustMd("inspect", "-f", "{{.State.Status}}", "c")); got != "created" {
				t.Fatalf("create ran to its end: %s, want created", got)
			}
			x.mustMd("rm", "c")
			x.settle()
		}
		if got := x.snapshot(); got != pristine {
			t.Fatalf("N=%d (%s): the next ps did not leave the state before create (- before, + got):\n%s", n, killed, indent(lineDiff(pristine, got)))
		}
		if killed == "" {
			t.Logf("create: %d kill points", n-1)
			break
		}
	}
}
