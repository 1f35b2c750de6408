package container

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
)

func thisBoot(t testing.TB) string {
	b, err := os.ReadFile(procBootID)
	if err != nil {
		t.Skipf("no boot id on this host: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// record writes a container's config.json for real (a plan reads the
// files it has not written itself).
func record(t *testing.T, r *Runtime, c *Config) {
	t.Helper()
	if err := statefile.WriteJSON(r.Paths.configPath(c.ID), c); err != nil {
		t.Fatal(err)
	}
}

func recordedAs(t *testing.T, r *Runtime, id string) *Config {
	t.Helper()
	c, err := r.store().load(id)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bootRoot is a plan runtime whose root holds four containers, their
// records as a boot left them, and the boot id saved (none for "").
func bootRoot(t *testing.T, saved string) (*Runtime, *kernel.Plan) {
	r, p := planRuntime(t)
	if saved != "" {
		if err := os.MkdirAll(r.Paths.Root, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.Paths.bootIDPath(), []byte(saved), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-time.Hour)
	// The old boot's pids of the running and the starting container are
	// alive in this one: another process (this test's) that reused them,
	// even with the same start time.
	pid := os.Getpid()
	for _, c := range []*Config{
		{ID: strings.Repeat("1", 64), Name: "running", Status: StatusRunning, Pid: pid, PidStart: pidStart(pid)},
		{ID: strings.Repeat("2", 64), Name: "creating", Status: StatusCreated, Pid: pid, PidStart: pidStart(pid)},
		{ID: strings.Repeat("3", 64), Name: "rm", Status: StatusExited, AutoRemove: true},
		{ID: strings.Repeat("4", 64), Name: "exited", Status: StatusExited, ExitCode: 3, Finished: long},
	} {
		c.Cmd, c.NetworkMode, c.Created = []string{"sh"}, NetworkNone, long
		record(t, r, c)
	}
	return r, p
}

// After a reboot the old boot's containers are exited as docker shows
// them, --rm ones removed, and the new boot id written; on a plan, in the
// plan only.
func TestReconcileAfterReboot(t *testing.T) {
	boot := thisBoot(t)
	r, p := bootRoot(t, `{"BootID": "00000000-0000-4000-8000-000000000000"}`)
	if err := r.Reconcile(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"1", "2"} {
		c := recordedAs(t, r, strings.Repeat(name, 64))
		if c == nil || c.Status != StatusExited || c.ExitCode != RebootExitCode || c.Finished.IsZero() {
			t.Errorf("container %s after the reboot: %+v", name, c)
		}
	}
	if c := recordedAs(t, r, strings.Repeat("3", 64)); c != nil {
		t.Errorf("the --rm container is still recorded: %+v", c)
	}
	if c := recordedAs(t, r, strings.Repeat("4", 64)); c == nil || c.ExitCode != 3 {
		t.Errorf("an exited container changed: %+v", c)
	}
	if got, err := r.savedBootID(); err != nil || got != boot {
		t.Errorf("boot id after the reconcile: %q, %v", got, err)
	}
	// The plan changed no file.
	b, _ := os.ReadFile(r.Paths.bootIDPath())
	if strings.Contains(string(b), boot) || len(p.Made()) > 0 {
		t.Errorf("a planned reconcile changed the host: boot_id %s, made %v", b, p.Made())
	}
}

// Commands started at once after a reboot: one reconciles, the others
// wait for it and find it done.
func TestReconcileOnceAcrossCommands(t *testing.T) {
	boot := thisBoot(t)
	planned, _ := bootRoot(t, `{"BootID": "00000000-0000-4000-8000-000000000000"}`)
	var out bytes.Buffer
	log := logrus.New()
	log.SetOutput(&out)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &Runtime{Paths: planned.Paths, K: kernel.NewReal(log)}
			errs <- r.Reconcile()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := strings.Count(out.String(), "has rebooted"); n != 1 {
		t.Errorf("%d commands reconciled the reboot, want 1:\n%s", n, out.String())
	}
	r := &Runtime{Paths: planned.Paths, K: kernel.NewReal(log)}
	if c := recordedAs(t, r, strings.Repeat("1", 64)); c == nil || c.ExitCode != RebootExitCode {
		t.Errorf("running container after the reboot: %+v", c)
	}
	if got, err := r.savedBootID(); err != nil || got != boot {
		t.Errorf("boot id: %q, %v", got, err)
	}
}

// Without a boot id (a new root, or one from before boot ids were kept),
// or with a broken one, nothing is known of the past: the id is written
// and no container is touched.
func TestReconcileWithoutBootID(t *testing.T) {
	boot := thisBoot(t)
	for _, saved := range []string{"", "null", "{", `{"BootID": ""}`} {
		r, _ := bootRoot(t, saved)
		if err := r.Reconcile(); err != nil {
			t.Fatalf("boot_id %q: %v", saved, err)
		}
		if c := recordedAs(t, r, strings.Repeat("1", 64)); c == nil || c.Status != StatusRunning {
			t.Errorf("boot_id %q: a running container changed: %+v", saved, c)
		}
		if got, err := r.savedBootID(); err != nil || got != boot {
			t.Errorf("boot_id %q: then %q, %v", saved, got, err)
		}
	}
}

// When nothing rebooted the check reads the boot ids and nothing else:
// a containers directory no command could list does not matter to it.
func TestReconcileFastPathReadsNoState(t *testing.T) {
	boot := thisBoot(t)
	dir := t.TempDir()
	r := &Runtime{Paths: Paths{Root: dir, DataRoot: dir}, K: kernel.NewReal(nil)}
	if err := os.WriteFile(r.Paths.containersDir(), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Reconcile(); err != nil { // the first: writes the id
		t.Fatal(err)
	}
	if got, err := r.savedBootID(); err != nil || got != boot {
		t.Fatalf("boot id written: %q, %v", got, err)
	}
	if err := r.Reconcile(); err != nil {
		t.Fatalf("the fast path looked at the containers: %v", err)
	}
}

// BenchmarkReconcileNoReboot is the cost every command pays (a few
// microseconds: two reads of small files).
func BenchmarkReconcileNoReboot(b *testing.B) {
	thisBoot(b)
	dir := b.TempDir()
	r := &Runtime{Paths: Paths{Root: dir, DataRoot: dir}, K: kernel.NewReal(nil)}
	if err := r.Reconcile(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.Reconcile(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIsTempName(t *testing.T) {
	for name, want := range map[string]bool{
		".config.json.tmp-123456": true, ".x.tmp-1": true, ".subnet.json.tmp-42": true,
		"config.json": false, ".config.json.tmp-": false, ".tmp-12": false, "x.tmp-12": false,
		".config.json.tmp-12a": false, ".lock": false, "tmp-1": false,
		".config.json.tmp-4242-123456": true, ".nk.tmp-1-2": true, ".nk.tmp--2": false, ".nk.tmp-1-": false, ".nk.tmp-1-2-3": false,
	} {
		if got := isTempName(name); got != want {
			t.Errorf("isTempName(%q) = %v", name, got)
		}
	}
}
