package test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mydocker/mydocker/internal/procfs"
)

// Container records as an operator whose commands get killed, or whose
// files get damaged, meets them (issue 12): a broken record is one clear
// error and a Dead line in ps -a, never a failure of every other verb, and
// rm -f removes it; a record whose mydocker died is finished or undone by
// the next command; rm -f after a teardown cut short succeeds.

// record is a container's config.json, as a map: the test edits fields
// the way a crash or a hand would leave them.
type record map[string]any

func (e *env) configPath(id string) string {
	return filepath.Join(e.root, "containers", id, "config.json")
}

func (e *env) readRecord(id string) record {
	e.t.Helper()
	var r record
	data, err := os.ReadFile(e.configPath(id))
	if err != nil || json.Unmarshal(data, &r) != nil {
		e.t.Fatalf("read the record of %s: %v", id, err)
	}
	return r
}

func (e *env) writeRecord(id string, r record) {
	e.t.Helper()
	data, _ := json.Marshal(r)
	if err := os.WriteFile(e.configPath(id), data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// runDetached starts `sleep 1000` detached on the default network with a
// published port and returns its id.
func (e *env) runDetached(name string, extra ...string) string {
	e.t.Helper()
	args := append([]string{"--log-level", "warn", "run", "-d", "--name", name}, extra...)
	return strings.TrimSpace(e.ok(append(args, "busybox", "sleep", "1000")...))
}

// pids are a container's init and its monitor (the shim).
func (e *env) pids(id string) (init, shim int) {
	e.t.Helper()
	r := e.readRecord(id)
	pid, _ := r["Pid"].(float64)
	mon, _ := r["MonitorPid"].(float64)
	if pid <= 0 || mon <= 0 {
		e.t.Fatalf("no pids in the record of %s: %v", id[:12], r)
	}
	return int(pid), int(mon)
}

// hostBefore is the host's links and rules once the default network
// exists (made on first use): what must come back after a test.
func (e *env) hostBefore() string {
	e.t.Helper()
	e.ok("--log-level", "warn", "run", "--rm", "busybox", "true")
	return hostState(e.t)
}

// orphan starts a detached container with a published port, then kills
// its shim and its command, as a crash would: nobody records its exit. It
// returns its id and the dead shim's pid.
func (e *env) orphan(name, port string) (id string, shim int) {
	e.t.Helper()
	id = e.runDetached(name, "-p", port+":80")
	init, shim := e.pids(id)
	killWait(e.t, shim)
	killWait(e.t, init)
	return id, shim
}

// sameHost fails if the host's links and rules are not as before.
func sameHost(t *testing.T, before string) {
	t.Helper()
	if after := hostState(t); after != before {
		t.Errorf("links and rules differ:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// killWait kills a process this test's mydocker started and waits until
// it is gone (a zombie of nobody's counts as gone).
func killWait(t *testing.T, pid int) {
	t.Helper()
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "pid "+strconv.Itoa(pid)+" to die", func() bool { _, err := procfs.StartTime(pid); return err != nil })
}

// gone fails unless nothing of container id is left: state and layer
// directories, cgroup, endpoint in a network file.
func (e *env) gone(id string) {
	e.t.Helper()
	for _, dir := range []string{filepath.Join(e.root, "containers", id), filepath.Join(e.dataRoot, "containers", id)} {
		if _, err := os.Stat(dir); err == nil {
			e.t.Errorf("%s left behind", dir)
		}
	}
	noCgroupLeft(e.t, id)
	nets, _ := filepath.Glob(filepath.Join(e.root, "network", "network", "*"))
	for _, n := range nets {
		if data, _ := os.ReadFile(n); strings.Contains(string(data), id) {
			e.t.Errorf("network file %s still names %s:\n%s", n, id[:12], data)
		}
	}
}

// oneLine fails unless a failed command said exactly one line, holding
// every part of want.
func oneLine(t *testing.T, what string, r result, want ...string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("%s: succeeded", what)
		return
	}
	if n := strings.Count(strings.TrimRight(r.stderr, "\n"), "\n"); n != 0 {
		t.Errorf("%s: %d lines of error, want one:\n%s", what, n+1, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: %q does not say %q", what, r.stderr, w)
		}
	}
}

// A corrupt config.json, for every verb: ps -a lists it as Dead with the
// reason, inspect says what is wrong with which file, another container
// runs, and rm -f removes it and all it held (its process, cgroup, veth,
// rules, address, layer); the other container is untouched throughout.
func TestCorruptRecord(t *testing.T) {
	otherID := strings.Repeat("e", 64)
	cases := []struct {
		name    string
		corrupt func(r record) []byte
		reason  string
	}{
		{"null", func(record) []byte { return []byte("null") }, "null"},
		{"empty object", func(record) []byte { return []byte("{}") }, "no ID"},
		{"a JSON string", func(record) []byte { return []byte(`"garbage"`) }, "not a container record"},
		{"not JSON", func(record) []byte { return []byte("garbage") }, "not valid JSON"},
		{"truncated", func(r record) []byte { b, _ := json.Marshal(r); return b[:len(b)/2] }, "not valid JSON"},
		{"another id", func(r record) []byte { r["ID"] = otherID; b, _ := json.Marshal(r); return b }, "is not its directory's name"},
		{"unknown status", func(r record) []byte { r["Status"] = "zombie"; b, _ := json.Marshal(r); return b }, `unknown Status "zombie"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.runDetached("other")
			before := hostState(t)
			id := e.runDetached("victim", "-p", "18080:80")
			init, _ := e.pids(id)
			if err := os.WriteFile(e.configPath(id), tc.corrupt(e.readRecord(id)), 0o644); err != nil {
				t.Fatal(err)
			}
			path := e.configPath(id)

			ps := e.ok("ps", "-a")
			var line string
			for _, l := range strings.Split(ps, "\n") {
				if strings.HasPrefix(l, id[:12]) {
					line = l
				}
			}
			if !strings.Contains(line, "Dead (config.json: ") || !strings.Contains(line, tc.reason) {
				t.Errorf("ps -a does not list it as Dead (%s):\n%s", tc.reason, ps)
			}
			if !strings.Contains(ps, "other") || !strings.Contains(e.ok("ps"), "other") {
				t.Errorf("ps lost the other container:\n%s", ps)
			}
			oneLine(t, "inspect", e.run("--log-level", "error", "inspect", id[:12]), path, tc.reason)
			oneLine(t, "stop", e.run("--log-level", "error", "stop", id), path, tc.reason)
			e.ok("inspect", "other")
			third := e.runDetached("third", "--net", "none")
			e.ok("--log-level", "warn", "rm", "-f", third)

			e.ok("--log-level", "warn", "rm", "-f", id[:12])
			if _, err := procfs.StartTime(init); err == nil {
				t.Errorf("its process %d still runs", init)
			}
			e.gone(id)
			if got := e.inspectOne("other"); got.State.Status != "running" {
				t.Errorf("the other container: %+v", got.State)
			}
			sameHost(t, before)
			if strings.Contains(e.ok("ps", "-a"), id[:12]) {
				t.Errorf("still listed after rm -f")
			}
		})
	}
}

// A state directory without config.json (its record deleted by hand) is
// listed as Dead and removable; one with nothing in it (a run killed
// between its mkdir and its write) is swept by the next command.
func TestStateDirWithoutRecord(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("norecord", "--net", "none")
	init, _ := e.pids(id)
	os.Remove(e.configPath(id))
	if ps := e.ok("ps", "-a"); !strings.Contains(ps, "Dead (config.json: missing)") {
		t.Errorf("ps -a:\n%s", ps)
	}
	oneLine(t, "inspect", e.run("--log-level", "error", "inspect", id), e.configPath(id), "missing")
	oneLine(t, "rm without -f", e.run("--log-level", "error", "rm", id), "processes in its cgroup", "rm -f")
	e.ok("--log-level", "warn", "rm", "-f", id)
	if _, err := procfs.StartTime(init); err == nil {
		t.Errorf("its process %d still runs", init)
	}
	e.gone(id)

	empty := filepath.Join(e.root, "containers", strings.Repeat("f", 64))
	os.MkdirAll(empty, 0o700)
	os.WriteFile(filepath.Join(empty, ".config.json.tmp-42"), []byte("{"), 0o600)
	if ps := e.ok("ps", "-a", "-q"); ps != "" {
		t.Errorf("ps -a -q lists %q", ps)
	}
	if _, err := os.Stat(empty); err == nil {
		t.Errorf("the empty state directory is still there")
	}
}

// A run killed after its container's init, cgroup and endpoint were made,
// before the command started (its record still "created", its creator and
// monitor dead), is undone by the next ps, and its name is free again.
func TestAbandonedCreationUndone(t *testing.T) {
	for _, next := range []string{"ps", "run"} {
		t.Run(next, func(t *testing.T) {
			e := newEnv(t)
			before := e.hostBefore()
			id, shim := e.orphan("half", "18081")
			r := e.readRecord(id)
			r["Status"], r["Started"] = "created", nil
			r["Creator"], r["CreatorStart"] = shim, 1 // its `run`: dead
			e.writeRecord(id, r)
			switch next {
			case "ps":
				if ps := e.ok("ps", "-a", "-q"); ps != "" {
					t.Errorf("ps -a -q lists %q", ps)
				}
			case "run":
				again := e.runDetached("half", "-p", "18081:80")
				e.ok("--log-level", "warn", "rm", "-f", again)
			}
			e.gone(id)
			sameHost(t, before)
		})
	}
}

// A detached container whose shim was killed, then whose command died:
// nobody recorded the exit. The next command records it, exited (255, as
// docker), and releases its cgroup and endpoint; rm removes it.
func TestUnrecordedExitFinished(t *testing.T) {
	e := newEnv(t)
	before := e.hostBefore()
	id, _ := e.orphan("orphan", "18082")
	if ps := e.ok("ps", "-a"); !strings.Contains(ps, "Exited (255)") {
		t.Errorf("ps -a:\n%s", ps)
	}
	noCgroupLeft(t, id)
	sameHost(t, before)
	if got := e.inspectOne("orphan"); got.State.ExitCode != 255 || got.State.Status != "exited" {
		t.Errorf("inspect: %+v", got.State)
	}
	e.ok("--log-level", "warn", "rm", "orphan")
	e.gone(id)
}

// rm -f after a teardown cut short (the shim killed, the container dead,
// part of what it held already released by hand) succeeds, quietly, and
// leaves nothing.
func TestRmAfterInterruptedTeardown(t *testing.T) {
	e := newEnv(t)
	before := e.hostBefore()
	id, shim := e.orphan("cut", "18083")
	// What a teardown killed half way leaves: the exit recorded, the
	// cgroup and the layer gone, the endpoint (veth, rules, address) not.
	r := e.readRecord(id)
	r["Status"], r["ExitCode"], r["Releasing"] = "exited", 137, true
	r["MonitorPid"], r["MonitorStart"] = shim, 1
	e.writeRecord(id, r)
	for _, d := range cgroupDirs(id) {
		if err := syscall.Rmdir(d); err != nil {
			t.Fatalf("rmdir %s: %v", d, err)
		}
	}
	os.RemoveAll(filepath.Join(e.dataRoot, "containers", id))
	res := e.run("--log-level", "error", "rm", "-f", id)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("rm -f: exit %d\n%s", res.code, res.stderr)
	}
	e.gone(id)
	sameHost(t, before)
}

// A failed run -d says why once, with the command's exit code.
func TestFailedRunSaysItOnce(t *testing.T) {
	e := newEnv(t)
	r := e.run("--log-level", "error", "run", "-d", "--net", "none", "busybox", "nosuchcommand")
	oneLine(t, "run -d", r, `exec: "nosuchcommand": executable file not found`)
	if r.code != 127 {
		t.Errorf("exit %d, want 127", r.code)
	}
}

// A foreground run killed (SIGKILL) while its command runs: the command
// goes on, Up, with nobody to record its exit. Once it dies too, the next
// ps records it exited (255) and releases its cgroup, veth, rules and
// address.
func TestForegroundRunKilled(t *testing.T) {
	e := newEnv(t)
	before := e.hostBefore()
	cmd := exec.Command(binary, "--root", e.root, "--data-root", e.dataRoot, "--log-level", "error",
		"run", "--name", "fg", "-p", "18084:80", "busybox", "sh", "-c", "echo up; exec sleep 1000")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "up\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the container said %q", line)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !strings.Contains(e.ok("ps"), "fg") {
		t.Fatalf("its command still runs, but ps does not show it Up:\n%s", e.ok("ps", "-a"))
	}
	id := e.inspectOne("fg").Id
	init, _ := e.pids(id)
	killWait(t, init)
	if ps := e.ok("ps", "-a"); !strings.Contains(ps, "Exited (255)") {
		t.Errorf("ps -a:\n%s", ps)
	}
	noCgroupLeft(t, id)
	sameHost(t, before)
	e.ok("--log-level", "warn", "rm", "fg")
	e.gone(id)
}
