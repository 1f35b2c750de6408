//go:build cgroupv2vm

// Package cgroupv2 proves mydocker on a real cgroup v2 host: a stock Debian
// kernel booted with the unified hierarchy only (cgroup_no_v1=all), in a VM
// that `make test-cgroupv2` starts (test/cgroupv2/vm/run.sh). The build tag
// cgroupv2vm keeps it out of `go test ./...`: it runs as the VM's only
// program, as root, on a machine of its own, and it checks what a user of
// a v2 host would: limits that bite, figures where a user reads them, and
// no cgroup left.
package cgroupv2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dataRoot is the --data-root all tests share: the busybox image is built
// once (an emulated VM makes every file operation slow), and each test
// still has a --root, so its containers, of its own.
var dataRoot string

// binary and probe are where run.sh puts them in the VM's root.
var (
	binary = envOr("MYDOCKER", "/usr/local/bin/mydocker")
	probe  = envOr("PROBE", "/probe")
)

// cgroupRoot is the unified hierarchy, mydocker's parent in it.
const cgroupRoot = "/sys/fs/cgroup"

var parent = filepath.Join(cgroupRoot, "mydocker")

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// TestMain refuses to run anywhere but on a cgroup2-only host, as root: a
// test that passes on a v1 host proves nothing about v2. Afterwards no
// container's cgroup may be left under mydocker/: every test's containers
// are gone by then (run --rm, rm -f of running ones, OOM-killed ones).
func TestMain(m *testing.M) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC || os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "test/cgroupv2 runs as root on a cgroup v2 host only: use `make test-cgroupv2`, which boots one")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "mydocker-v2-images-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dataRoot = dir
	code := m.Run()
	if left, _ := filepath.Glob(filepath.Join(parent, "*", "cgroup.procs")); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: containers' cgroups left behind: %v\n", left)
		code = 1
	} else {
		fmt.Println("no container's cgroup is left under", parent)
	}
	os.Exit(code)
}

// env is one test's mydocker installation: its own --root.
type env struct {
	t          *testing.T
	root, data string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	e := &env{t: t, root: filepath.Join(dir, "run"), data: dataRoot}
	t.Cleanup(func() {
		if ids := strings.Fields(e.ok("ps", "-a", "-q")); len(ids) > 0 {
			e.run(append([]string{"rm", "-f"}, ids...)...)
		}
	})
	return e
}

// result is what one mydocker command did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs mydocker with the env's roots, for at most two minutes.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--root", e.root, "--data-root", e.data}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	if took := time.Since(start); took > 5*time.Second {
		// Emulated (TCG) on a loaded machine, a command can take this
		// long: the log says where a slow run went.
		e.t.Logf("mydocker %s took %.1f s", strings.Join(args, " "), took.Seconds())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("mydocker %v: %v", args, err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("mydocker %v: timed out; stderr:\n%s", args, errb.String())
	}
	return result{out.String(), errb.String(), code}
}

// ok runs mydocker, fails the test unless it exits 0, and returns stdout.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("mydocker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// quiet is ok at --log-level error: the data output, trimmed.
func (e *env) quiet(args ...string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ok(append([]string{"--log-level", "error"}, args...)...))
}

// inspection is the part of inspect's JSON the tests read.
type inspection struct {
	Id    string
	State struct {
		Status    string
		OOMKilled bool
		ExitCode  int
		Pid       int
	}
	HostConfig struct {
		Memory, MemorySwap, NanoCpus, PidsLimit int64
		CpusetCpus                              string
	}
}

func (e *env) inspect(ref string) inspection {
	e.t.Helper()
	var insp []inspection
	if err := json.Unmarshal([]byte(e.ok("inspect", ref)), &insp); err != nil || len(insp) != 1 {
		e.t.Fatalf("inspect %s: %v", ref, err)
	}
	return insp[0]
}

// cgroupFile reads one file of container id's cgroup, trimmed.
func cgroupFile(t *testing.T, id, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parent, id, name))
	if err != nil {
		t.Fatalf("cgroup of %s: %v", id[:12], err)
	}
	return strings.TrimSpace(string(b))
}

// keyed is the value of key in a flat-keyed cgroup file (cpu.stat,
// memory.events, pids.events), -1 when absent.
func keyed(t *testing.T, id, file, key string) int64 {
	t.Helper()
	for _, l := range strings.Split(cgroupFile(t, id, file), "\n") {
		var v int64
		if f := strings.Fields(l); len(f) == 2 && f[0] == key {
			fmt.Sscan(f[1], &v)
			return v
		}
	}
	return -1
}

// noCgroupLeft fails if container id's cgroup is still there.
func noCgroupLeft(t *testing.T, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(parent, id)); err == nil {
		t.Errorf("the cgroup of %s is left behind", id[:12])
	}
}

// waitFor polls cond for up to 30 seconds, a ceiling, not a timing claim.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
