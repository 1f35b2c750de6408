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
	"testing"
)

// startWeb runs a detached busybox container that has written /marker, and
// returns its pid as the host sees it.
func startWeb(t *testing.T, e *env, extra ...string) int {
	t.Helper()
	args := append([]string{"--log-level", "error", "run", "-d", "--name", "web", "--hostname", "box", "-e", "GREETING=hi"}, extra...)
	e.ok(append(args, "busybox", "sh", "-c", "echo from-web > /marker; exec sleep 1000")...)
	var pid int
	waitFor(t, "web's /marker", func() bool {
		pid = containerPid(t, e, "web")
		_, err := os.Stat(fmt.Sprintf("/proc/%d/root/marker", pid))
		return err == nil
	})
	return pid
}

func containerPid(t *testing.T, e *env, ref string) int {
	t.Helper()
	var insp []struct{ State struct{ Pid int } }
	if err := json.Unmarshal([]byte(e.ok("inspect", ref)), &insp); err != nil || len(insp) != 1 || insp[0].State.Pid <= 0 {
		t.Fatalf("inspect %s: %v %+v", ref, err, insp)
	}
	return insp[0].State.Pid
}

func TestExecJoinsTheContainer(t *testing.T) {
	e := newEnv(t)
	pid := startWeb(t, e)
	namespaces := []string{"net", "mnt", "uts", "ipc", "pid", "cgroup"}
	out := e.ok("--log-level", "error", "exec", "web", "sh", "-c",
		`echo $$; hostname; cat /marker; for n in `+strings.Join(namespaces, " ")+`; do readlink /proc/self/ns/$n; done; ps -o pid,comm`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3+len(namespaces)+2 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	// pid numbering of the container's namespace: its pid 1 is sleep, we
	// come a few after.
	if n, err := strconv.Atoi(lines[0]); err != nil || n <= 1 || n > 50 {
		t.Errorf("echo $$ = %q: not the container's pid numbering", lines[0])
	}
	if lines[1] != "box" {
		t.Errorf("hostname = %q, want the container's (box)", lines[1])
	}
	if lines[2] != "from-web" {
		t.Errorf("/marker = %q: not the container's root filesystem", lines[2])
	}
	for i, ns := range namespaces {
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		if got := lines[3+i]; got != want {
			t.Errorf("%s namespace: exec is in %s, the container in %s", ns, got, want)
		}
	}
	// ps shows the container's processes only: sleep as pid 1, sh, ps.
	procs := lines[3+len(namespaces)+1:]
	if len(procs) > 3 || !strings.HasPrefix(strings.TrimSpace(procs[0]), "1 ") || !strings.Contains(procs[0], "sleep") {
		t.Errorf("ps in exec:\n%s", strings.Join(procs, "\n"))
	}
	// Same mounts as the container's pid 1, seen from the same root.
	want, err := os.ReadFile(fmt.Sprintf("/proc/%d/mounts", pid))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ok("--log-level", "error", "exec", "web", "cat", "/proc/self/mounts"); got != string(want) {
		t.Errorf("mounts in exec:\n%s\ncontainer's:\n%s", got, want)
	}
}

func TestExecEnvWorkdirAndStdio(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e, "-w", "/etc")
	t.Setenv("FROM_CALLER", "caller")
	t.Setenv("HOST_ONLY", "leak")
	out := e.ok("--log-level", "error", "exec", "web", "sh", "-c", `pwd; echo "$GREETING $HOSTNAME"; env`)
	lines := strings.Split(out, "\n")
	if lines[0] != "/etc" || lines[1] != "hi box" {
		t.Errorf("default exec: working dir and env of the container expected:\n%s", out)
	}
	if strings.Contains(out, "HOST_ONLY") || strings.Contains(out, "_MYDOCKER") || strings.Contains(out, "MYDOCKER_") {
		t.Errorf("the caller's or mydocker's environment leaked into the exec:\n%s", out)
	}
	out = e.ok("--log-level", "error", "exec", "-e", "X=1,2", "-e", "GREETING=bye", "-e", "FROM_CALLER", "-w", "/tmp", "web", "sh", "-c", `echo "$X $GREETING $FROM_CALLER"; pwd`)
	if out != "1,2 bye caller\n/tmp\n" {
		t.Errorf("exec -e -w: %q", out)
	}
	// stdin only with -i.
	if r := e.runIn([]byte("typed\n"), "--log-level", "error", "exec", "-i", "web", "cat"); r.code != 0 || r.stdout != "typed\n" {
		t.Errorf("exec -i cat: exit %d, %q, %s", r.code, r.stdout, r.stderr)
	}
	if r := e.runIn([]byte("typed\n"), "--log-level", "error", "exec", "web", "cat"); r.code != 0 || r.stdout != "" {
		t.Errorf("exec cat without -i read stdin: exit %d, %q", r.code, r.stdout)
	}
	e.fails("working directory /nope", "exec", "-w", "/nope", "web", "true")
}

func TestExecExitCodesAndErrors(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e)
	if r := e.run("exec", "web", "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exit 7: got %d (%s)", r.code, r.stderr)
	}
	if r := e.run("exec", "web", "sh", "-c", "kill -9 $$"); r.code != 137 {
		t.Errorf("killed by SIGKILL: got %d, want 137", r.code)
	}
	if r := e.fails("executable file not found", "exec", "web", "nosuch"); r.code != 127 {
		t.Errorf("not found: exit %d, want 127", r.code)
	}
	if r := e.fails("permission denied", "exec", "web", "/etc"); r.code != 126 {
		t.Errorf("not executable: exit %d, want 126", r.code)
	}
	if r := e.fails("no such container", "exec", "nosuch", "true"); r.code != 125 {
		t.Errorf("unknown container: exit %d, want 125", r.code)
	}
	e.fails("needs at least 2 argument", "exec", "web")
	e.ok("stop", "-t", "0", "web")
	if r := e.fails("container web is not running", "exec", "web", "true"); r.code != 125 {
		t.Errorf("stopped container: exit %d, want 125", r.code)
	}
	// Run by hand, the hidden verb refuses instead of running on the host.
	e.fails("never by hand", "exec-internal")
}

// The narrated command, pasted into a shell, does what exec did.
func TestExecNarrationReplays(t *testing.T) {
	e := newEnv(t)
	pid := startWeb(t, e)
	r := e.run("--log-format", "json", "exec", "-w", "/tmp", "-e", "X=a b", "web", "sh", "-c", `echo "$X"; pwd; hostname; cat /marker`)
	if r.code != 0 {
		t.Fatalf("exec: %d %s", r.code, r.stderr)
	}
	var line string
	for _, l := range strings.Split(r.stderr, "\n") {
		var entry struct{ Msg string }
		if json.Unmarshal([]byte(l), &entry) == nil && strings.HasPrefix(entry.Msg, "$ ") && strings.Contains(entry.Msg, "nsenter -t") {
			line = strings.TrimPrefix(entry.Msg, "$ ")
		}
	}
	// Bare, or after joining the cgroup in `sh -c 'echo $$ | tee ... && exec nsenter ...'`.
	nsenter := fmt.Sprintf("nsenter -t %d -m -u -i -n -p -C -r -w/proc/%d/root/tmp env -i ", pid, pid)
	if !strings.HasPrefix(line, nsenter) && !(strings.HasPrefix(line, "sh -c 'echo $$ | tee ") && strings.Contains(line, "&& exec "+nsenter)) {
		t.Fatalf("narrated %q, want %q\n%s", line, nsenter, r.stderr)
	}
	out, err := exec.Command("sh", "-c", line).CombinedOutput()
	if err != nil || string(out) != r.stdout {
		t.Fatalf("replayed %q: %v\n%s\nwant:\n%s", line, err, out, r.stdout)
	}
}

func TestExecTTY(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e)
	out := e.tty(t, "exit\n", "echo $((6*7)); tty; echo TERM=$TERM\n", "--log-level", "error", "exec", "-ti", "web", "sh")
	for _, want := range []string{"42", "/dev/pts/", "TERM=xterm"} {
		if !strings.Contains(out, want) {
			t.Errorf("exec -ti output lacks %q:\n%s", want, out)
		}
	}
}

func TestExecConcurrent(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e)
	var wg sync.WaitGroup
	results := make([]result, 8)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = e.run("--log-level", "error", "exec", "web", "sh", "-c", fmt.Sprintf("echo %d", i))
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.stdout != fmt.Sprintf("%d\n", i) {
			t.Errorf("exec %d: exit %d, %q, %s", i, r.code, r.stdout, r.stderr)
		}
	}
}

// An exec joins the container's cgroups: inside, its cgroups are pid 1's.
// A container that shares ours (no cgroup of its own) is moved into a new
// one first, so that joining is needed either way.
func TestExecJoinsTheCgroup(t *testing.T) {
	e := newEnv(t)
	pid := startWeb(t, e)
	theirs, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	ours, _ := os.ReadFile("/proc/self/cgroup")
	if string(theirs) == string(ours) {
		dir := newCgroup(t)
		t.Cleanup(func() {
			e.run("rm", "-f", "web")
			waitFor(t, "the test cgroup to empty", func() bool {
				err := os.Remove(dir)
				return err == nil || os.IsNotExist(err)
			})
		})
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			t.Skipf("cannot move the container into %s: %v", dir, err)
		}
		theirs, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	}
	r := e.run("exec", "web", "sh", "-c", "cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup")
	if r.code != 0 {
		t.Fatalf("exec: %d %s", r.code, r.stderr)
	}
	self, one, _ := strings.Cut(r.stdout, "---\n")
	if self != one {
		t.Errorf("exec's cgroups:\n%s\ncontainer pid 1's:\n%s", self, one)
	}
	// The narration names the cgroups joined.
	for _, l := range strings.Split(strings.TrimSpace(string(theirs)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if (parts[1] == "pids" || parts[1] == "") && parts[2] != "/" && !strings.Contains(r.stderr, parts[2]+"/cgroup.procs") {
			t.Errorf("the narration does not join %s:\n%s", l, r.stderr)
		}
	}
}

// newCgroup makes a cgroup below ours: in the v2 hierarchy, or v1's pids.
func newCgroup(t *testing.T) string {
	t.Helper()
	self, _ := os.ReadFile("/proc/self/cgroup")
	mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
	var base string
	for _, l := range strings.Split(string(mountinfo), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || f[3] != "/" {
			continue
		}
		for _, cl := range strings.Split(string(self), "\n") {
			parts := strings.SplitN(cl, ":", 3)
			if len(parts) != 3 {
				continue
			}
			v2 := parts[1] == "" && g[0] == "cgroup2"
			v1 := parts[1] == "pids" && g[0] == "cgroup" && strings.Contains(","+g[2]+",", ",pids,")
			if v1 || v2 {
				base = filepath.Join(f[4], parts[2])
			}
		}
		if base != "" {
			break
		}
	}
	if base == "" {
		t.Skip("no cgroup v2 or v1 pids hierarchy mounted")
	}
	dir := filepath.Join(base, fmt.Sprintf("mydocker-exec-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	return dir
}
