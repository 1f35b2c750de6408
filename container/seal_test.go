package container

import (
	"io"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// When startInit starts this test binary as a container's init (the last
// argument is "init", the environment empty, as startInit sets it), it
// stands in for one blocked before its go signal: it reads its spec pipe
// until mydocker closes it, and exits. This runs before the testing
// package looks at the arguments.
func init() {
	if n := len(os.Args); n > 1 && os.Args[n-1] == "init" && len(os.Environ()) == 0 {
		io.Copy(io.Discard, os.NewFile(fdSpec, "spec"))
		os.Exit(0)
	}
}

// The init starts from a sealed copy of the binary: while it runs mydocker's
// code (before it execs the command), its /proc/PID/exe, which a process in
// the container could open, is not the host's file and refuses a write
// with EROFS. Started from /proc/self/exe, as before, it would be the
// host's file, and a write would be refused only with ETXTBSY while it runs.
func TestInitStartsSealed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the init is started in new namespaces, and the seal is an overlay mount")
	}
	r := &Runtime{Paths: Paths{Root: t.TempDir(), DataRoot: t.TempDir()}}
	p, err := r.startInit(&Config{NetworkMode: NetworkNone}, stdio{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.abort()
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
