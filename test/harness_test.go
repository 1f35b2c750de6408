// Package test drives the built mydocker binary as a user would, with real
// containers, inside a network and mount namespace of its own (see
// internal/testns) and with temporary --root and --data-root.
package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/testns"
)

// binary is the mydocker built for this test run; probe is test/probe,
// built static, for -v PROBE:/probe:ro.
var binary, probe string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if os.Geteuid() == 0 && testns.Inside() {
		dir, err := os.MkdirTemp("", "mydocker-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755) // the not-root test runs it as nobody
		binary = filepath.Join(dir, "mydocker")
		// The Makefile's build, the one users get, plus the crash-injection
		// switch that only a crashtest build has (see test/crash_test.go).
		build := exec.Command("make", "-C", "..", "build", "OUT="+binary, "TAGS=crashtest")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build mydocker:", err)
			return 1
		}
		// test/probe, static, bound into containers with -v PROBE:/probe:ro.
		probe = filepath.Join(dir, "probe")
		build = exec.Command("go", "build", "-o", probe, "./probe")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build test/probe:", err)
			return 1
		}
	}
	code := testns.Run(m)
	if testns.Inside() {
		// mydocker leaves its shared, empty mydocker/ parent cgroups in place
		// (as docker does); the tests made them, the tests remove them. A
		// real mydocker's containers on this host would keep them busy.
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mydocker")
		for _, d := range append(dirs, "/sys/fs/cgroup/mydocker") {
			syscall.Rmdir(d)
		}
	}
	return code
}

// env is one test's private mydocker installation.
type env struct {
	t        *testing.T
	root     string
	dataRoot string
	environ  []string // added to mydocker's environment (DOCKER_CONFIG=...)
}

// newEnv gives a root test its own --root and --data-root, and removes
// every container and network it left when the test ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	testns.RequireRoot(t)
	dir := t.TempDir()
	e := &env{t: t, root: filepath.Join(dir, "run"), dataRoot: filepath.Join(dir, "lib")}
	t.Cleanup(func() {
		ids := e.ok("ps", "-a", "-q")
		for _, id := range strings.Fields(ids) {
			e.run("rm", "-f", id)
		}
		// Networks (the default "bridge" that run creates on first use, and
		// the test's own) live in the namespace all tests share: remove them.
		e.run("network", "prune")
	})
	return e
}

// result is what a mydocker command did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs mydocker with the env's roots; it never hangs longer than a minute.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn(nil, args...)
}

func (e *env) runIn(stdin []byte, args ...string) result {
	e.t.Helper()
	return runCmd(e.t, e.environ, stdin, binary, append([]string{"--root", e.root, "--data-root", e.dataRoot}, args...)...)
}

// runCmd runs a program with extra environment and stdin, capturing its
// output and exit code; it never hangs longer than a minute.
func runCmd(t *testing.T, env []string, stdin []byte, prog string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", filepath.Base(prog), args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v: timed out; stderr:\n%s", filepath.Base(prog), args, errb.String())
	}
	return result{out.String(), errb.String(), code}
}

// ok runs mydocker and fails the test unless it exits 0; it returns stdout.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("mydocker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs mydocker, expects a non-zero exit and a one-line error
// containing want, and returns the result.
func (e *env) fails(want string, args ...string) result {
	e.t.Helper()
	r := e.run(append([]string{"--log-level", "error"}, args...)...)
	if r.code == 0 {
		e.t.Fatalf("mydocker %s: succeeded, want an error containing %q\nstdout: %s", strings.Join(args, " "), want, r.stdout)
	}
	if !strings.Contains(r.stderr, want) {
		e.t.Fatalf("mydocker %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, want)
	}
	return r
}

// waitFor polls cond for up to 30 seconds (a ceiling for slow, loaded machines, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// leftovers lists what the env still holds on disk for containers.
func (e *env) leftovers() []string {
	var out []string
	for _, dir := range []string{filepath.Join(e.root, "containers"), filepath.Join(e.dataRoot, "containers")} {
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if !strings.HasPrefix(en.Name(), ".") {
				out = append(out, filepath.Join(dir, en.Name()))
			}
		}
	}
	return out
}

// waitOwnNetns waits until pid, an `unshare --net ... sleep` just started,
// is the sleep in a network namespace of its own.
func waitOwnNetns(t *testing.T, pid int) {
	t.Helper()
	self, _ := os.Readlink("/proc/self/ns/net")
	for i := 0; i < 400; i++ {
		ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if ns != "" && ns != self && strings.HasSuffix(exe, "sleep") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d never got its own network namespace", pid)
}
