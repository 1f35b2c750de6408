// Package archivetest makes, for tests, the marks overlayfs leaves in an
// upper directory.
package archivetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Whiteout makes overlay's mark of a deleted path, a 0/0 char device (and
// its directory). It needs no CAP_MKNOD since Linux 5.8; older kernels skip
// the test without root.
func Whiteout(t testing.TB, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := unix.Mknod(path, unix.S_IFCHR, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skip("cannot make a whiteout (0/0 char device) here without root")
		}
		t.Fatal(err)
	}
}

// Opaque marks an upper directory opaque, under trusted. as root (what the
// kernel writes) and under user. otherwise (what userxattr mounts write);
// where the file system takes neither, the test is skipped.
func Opaque(t testing.TB, dir string) {
	t.Helper()
	name := "user.overlay.opaque"
	if os.Geteuid() == 0 {
		name = "trusted.overlay.opaque"
	}
	if err := unix.Setxattr(dir, name, []byte("y"), 0); err != nil {
		t.Skipf("cannot set %s on %s: %v", name, dir, err)
	}
}
