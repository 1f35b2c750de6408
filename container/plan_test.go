package container

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/kernel"
)

// planRuntime is a runtime on a plan over this host (read, never
// changed), with its state and data in temporary directories. No root is
// needed: a plan only reads (the cgroup mounts, whether paths exist).
func planRuntime(t *testing.T) (*Runtime, *kernel.Plan) {
	t.Helper()
	if _, err := cgroups.DetectHost(); err != nil {
		t.Skipf("no cgroup hierarchy to plan on: %v", err)
	}
	dir := t.TempDir()
	p := kernel.NewPlan(kernel.NewReal(nil), nil)
	return &Runtime{Paths: Paths{Root: filepath.Join(dir, "run"), DataRoot: filepath.Join(dir, "lib")}, K: p}, p
}

// lines is the plan's commands with the temporary paths and the id
// replaced, for comparison.
func lines(r *Runtime, p *kernel.Plan) []string {
	var out []string
	for _, c := range p.Commands() {
		c = strings.ReplaceAll(c, r.Paths.Root, "/run")
		c = strings.ReplaceAll(c, r.Paths.DataRoot, "/lib")
		out = append(out, c)
	}
	return out
}

// A run, planned: the same path as a real one (no dry-run branch), in its
// order; nothing written.
func TestRunPlanned(t *testing.T) {
	r, p := planRuntime(t)
	_, code, err := r.Run(RunOptions{Image: "busybox", Cmd: []string{"true"}, Network: NetworkNone, Detach: true}, nil, nil, nil)
	if err != nil || code != 0 {
		t.Fatalf("Run: %d, %v", code, err)
	}
	got := lines(r, p)
	index := func(prefix string) int {
		for i, l := range got {
			if strings.HasPrefix(l, prefix) {
				return i
			}
		}
		t.Fatalf("no %q in the plan:\n%s", prefix, strings.Join(got, "\n"))
		return -1
	}
	order := []string{
		"# mydocker fills /lib/images/busybox",     // the image, built on first use
		"mkdir -p -m 700 /run/containers/",         // the state directory
		"# mydocker starts `mydocker shim",         // the shim
		"mkdir -p /lib/containers/",                // the layer
		"unshare --uts --pid --mount --ipc --net ", // the init
		"mkdir -p /sys/fs/cgroup/cpu/mydocker/",    // its cgroup, made while it mounts
		"echo a > /sys/fs/cgroup/devices/",         // its device rules
		"echo 4194304 > /sys/fs/cgroup/cpu/",       // which it joins at once
		"nsenter -t 4194304 -m mount --make-rprivate /",
		"nsenter -t 4194304 -u hostname ",
		"nsenter -t 4194304 -a --wd=/ true",
	}
	last := -1
	for _, o := range order {
		i := index(o)
		if i < last {
			t.Errorf("%q comes before %q", o, got[last])
		}
		last = i
	}
	// Every step says why (a step of the same kind right after one may
	// go on with its why: the cgroup of each hierarchy), in one voice:
	// lowercase, no full stop.
	for i, op := range p.Ops {
		if _, record := op.(kernel.WriteState); record {
			continue // mydocker's own record, at DEBUG: not a kernel change
		}
		why := op.Why()
		if why == "" {
			if i == 0 || reflect.TypeOf(p.Ops[i-1]) != reflect.TypeOf(op) {
				t.Errorf("%s: no why", op.Command().Text(nil))
			}
			continue
		}
		if strings.ToLower(why[:1]) != why[:1] || strings.HasSuffix(why, ".") {
			t.Errorf("%s: why %q", op.Command().Text(nil), why)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(r.Paths.Root, "containers")); len(ents) > 1 { // (the store's lock)
		t.Errorf("a plan wrote %v", ents)
	}
	if _, err := os.Stat(r.Paths.DataRoot); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a plan made the data root")
	}
}

// A run whose step fails is rolled back: what it made is removed again,
// at every step that can fail, and the failure is the step's.
func TestRunRollback(t *testing.T) {
	r, p := planRuntime(t)
	_, _, err := r.Run(RunOptions{Image: "busybox", Cmd: []string{"true"}, Network: NetworkNone}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every step up to the exec of the command (later ones are the
	// teardown's, best effort).
	steps := 0
	for i, op := range p.Ops {
		if _, ok := op.(execOp); ok {
			steps = i + 1
		}
	}
	if steps < 40 {
		t.Fatalf("only %d steps to the exec", steps)
	}
	for n := 0; n < steps; n++ {
		r, p := planRuntime(t)
		i := 0
		var failed kernel.Op
		p.Fail = func(op kernel.Op) error {
			if i++; i == n+1 {
				failed = op
				return errors.New("injected")
			}
			return nil
		}
		_, _, err := r.Run(RunOptions{Image: "busybox", Cmd: []string{"true"}, Network: NetworkNone, AutoRemove: true}, nil, nil, nil)
		if failed == nil {
			t.Fatalf("step %d never came", n)
		}
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Errorf("failing %s: Run returned %v", failed.Command().Text(nil), err)
		}
		for _, o := range p.Made() {
			if filepath.Base(o.Name) == cgroups.Parent || filepath.Base(filepath.Dir(o.Name)) == cgroups.Parent && o.Kind == "cgroupval" {
				continue // the shared parent (and its cpuset) stays, as after any container
			}
			t.Errorf("failing %s: left %s", failed.Command().Text(nil), o)
		}
	}
}
