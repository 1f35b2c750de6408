package test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// tempFiles lists what a writer leaves while it works (.tmp-*) anywhere in
// the image store: none once every command is done.
func tempFiles(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	filepath.Walk(filepath.Join(e.dataRoot, "image"), func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".tmp-") {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// A full disk: pull says so in one line, exits 125 and leaves no image and
// no temp file; once there is room, the same pull completes and the image
// runs.
func TestPullOnAFullDisk(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	ref := reg + "/app:v1"
	// The data root on a small tmpfs of this test's mount namespace: the
	// base layer (the host's busybox) does not fit.
	if err := os.MkdirAll(e.dataRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", e.dataRoot, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(e.dataRoot, unix.MNT_DETACH) })

	r := e.run("--log-level", "error", "pull", ref)
	refused(t, "pull on a full disk", r, "no space left on device")
	if out := e.ok("images", "-q"); out != "" {
		t.Errorf("a failed pull left images: %q", out)
	}
	if tmps := tempFiles(t, e); len(tmps) > 0 {
		t.Errorf("a failed pull left temp files: %v", tmps)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dataRoot, "image", "images")); len(ents) > 0 {
		t.Errorf("a failed pull left records: %v", ents)
	}

	if err := unix.Mount("tmpfs", e.dataRoot, "tmpfs", unix.MS_REMOUNT, "size=64m"); err != nil {
		t.Fatal(err)
	}
	e.ok("pull", ref)
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", ref); out != "bar from /app\n" {
		t.Errorf("run after the pull completed: %q", out)
	}
}

// Concurrent pulls of one image by separate mydocker processes: each
// succeeds, the image is stored once, each layer unpacked once, and no
// temp file is left.
func TestConcurrentPullProcesses(t *testing.T) {
	e := newEnv(t)
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/app:v1", imagetest.App(t, "1"))
	ref := reg + "/app:v1"
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = e.run("pull", ref)
		}(i)
	}
	wg.Wait()
	unpacks := 0
	for i, r := range results {
		if r.code != 0 || !strings.HasSuffix(r.stdout, ref+"\n") {
			t.Errorf("pull %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
		unpacks += strings.Count(r.stderr, "// unpack layer")
	}
	if unpacks != 3 {
		t.Errorf("%d unpacks in all, want 3 (one per layer)", unpacks)
	}
	if out := e.ok("images", "-q"); strings.Count(out, "\n") != 1 {
		t.Errorf("images -q: %q, want one image", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dataRoot, "image", "layers")); len(ents) != 3 {
		t.Errorf("layers/ holds %d entries, want 3", len(ents))
	}
	if tmps := tempFiles(t, e); len(tmps) > 0 {
		t.Errorf("temp files left: %v", tmps)
	}
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", ref); out != "bar from /app\n" {
		t.Errorf("run of the pulled image: %q", out)
	}
}
