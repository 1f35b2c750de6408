package container

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The init starts from a sealed copy of the binary: while it runs mydocker's
// code (before it execs the command), its /proc/PID/exe, which a process in
// the container could open, is not the host's file and refuses a write
// with EROFS. Started from /proc/self/exe, as before, it would be the
// host's file, and a write would be refused only with ETXTBSY while it runs.
// (Started from this test binary, the init is cinit's constructor, linked
// here too: it waits for a program that never comes until abort kills it.)
func TestInitStartsSealed(t *testing.T) {
	p := startBareInit(t)
	exe := "/proc/" + strconv.Itoa(p.Pid()) + "/exe"
	var self, got unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(exe, &got); err != nil {
		t.Fatal(err)
	}
	if got.Dev == self.Dev && got.Ino == self.Ino {
		t.Errorf("the init's %s is the host's binary", exe)
	}
	fd, err := unix.Open(exe, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		t.Fatalf("open %s for writing succeeded", exe)
	}
	if err != unix.EROFS {
		t.Errorf("open %s for writing: %v, want EROFS", exe, err)
	}
}

// The init waits for its program in cinit's C constructor, before any Go
// runtime starts: one thread, where a Go runtime would have started
// several (a start no longer pays for it).
func TestInitWaitsBeforeGoStarts(t *testing.T) {
	p := startBareInit(t)
	status := "/proc/" + strconv.Itoa(p.Pid()) + "/status"
	var threads string
	for i := 0; i < 100; i++ { // until it blocks in read(2)
		data, err := os.ReadFile(status)
		if err != nil {
			t.Fatal(err)
		}
		threads, state := field(string(data), "Threads:"), field(string(data), "State:")
		if strings.HasPrefix(state, "S") {
			if threads != "1" {
				t.Fatalf("the waiting init has %s threads, want 1 (no Go runtime)", threads)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the init never waited (threads %s)", threads)
}

func field(status, name string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, name); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// startBareInit starts an init that is never sent its program; the test's
// end aborts it.
func startBareInit(t *testing.T) *initProcess {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the init is started in new namespaces, and the seal is an overlay mount")
	}
	r := &Runtime{Paths: Paths{Root: t.TempDir(), DataRoot: t.TempDir()}}
	p, err := r.startInit(&Config{NetworkMode: NetworkNone}, stdio{}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.abort() })
	return p
}
