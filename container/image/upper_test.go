package image

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/archive/archivetest"
)

// tree describes a directory tree: path -> "dir", "link:TARGET", or the
// content of a regular file.
type tree map[string]string

func makeTree(t *testing.T, root string, tr tree) {
	t.Helper()
	paths := make([]string, 0, len(tr))
	for p := range tr {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		v := tr[p]
		var err error
		switch {
		case v == "dir":
			err = os.MkdirAll(full, 0o755)
		case strings.HasPrefix(v, "link:"):
			err = os.Symlink(strings.TrimPrefix(v, "link:"), full)
		default:
			err = os.WriteFile(full, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func readTree(t *testing.T, root string) tree {
	t.Helper()
	out := tree{}
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		switch {
		case info.IsDir():
			out[rel] = "dir"
		case info.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(path)
			out[rel] = "link:" + l
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyUpper(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	makeTree(t, lower, tree{
		"bin/sh":         "shell",
		"bin/vi":         "editor",
		"etc/passwd":     "root",
		"etc/hosts":      "image hosts",
		"home/u/.rc":     "rc",
		"opt/a":          "a",
		"opt/keep/b":     "b",
		"lib":            "link:usr/lib",
		"usr/lib/libc":   "libc",
		"wasfile":        "file",
		"wasdir/x":       "x",
		"data/old":       "image data",
		"var/lib/dpkg/s": "status",
	})
	makeTree(t, upper, tree{
		"etc/passwd":     "root\nweb",  // modified
		"etc/hosts":      "",           // a mount point the runtime made: skipped
		"new/deep/file":  "new",        // new, in new directories
		"opt/c":          "c",          // opaque dir: a and keep/b are gone
		"lib":            "dir",        // a directory replaces a symlink
		"lib/mine":       "mine",       //
		"wasfile/inside": "now a dir",  // a directory replaces a file
		"wasdir":         "now a file", // a file replaces a directory
		"data/vol":       "volume",     // below a volume: skipped
		"var/lib/dpkg":   "dir",        // a plain directory merges
		"link2":          "link:/etc/passwd",
	})
	archivetest.Whiteout(t, filepath.Join(upper, "bin/vi"))
	archivetest.Whiteout(t, filepath.Join(upper, "home"))
	archivetest.Opaque(t, filepath.Join(upper, "opt"))
	// Hard links stay hard links.
	if err := os.Link(filepath.Join(upper, "new/deep/file"), filepath.Join(upper, "new/hard")); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := archive.CopyTree(lower, dst); err != nil {
		t.Fatal(err)
	}
	// What a container's commit skips: the runtime's /etc files and a
	// volume on /data.
	skip := archive.Skip{"etc/hostname", "etc/hosts", "etc/resolv.conf", "data"}
	if err := applyUpper(upper, dst, skip); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dst)
	want := tree{
		"bin": "dir", "bin/sh": "shell",
		"etc": "dir", "etc/passwd": "root\nweb", "etc/hosts": "image hosts",
		"new": "dir", "new/deep": "dir", "new/deep/file": "new", "new/hard": "new",
		"opt": "dir", "opt/c": "c",
		"lib": "dir", "lib/mine": "mine",
		"usr": "dir", "usr/lib": "dir", "usr/lib/libc": "libc",
		"wasfile": "dir", "wasfile/inside": "now a dir",
		"wasdir": "now a file",
		"data":   "dir", "data/old": "image data",
		"var": "dir", "var/lib": "dir", "var/lib/dpkg": "dir", "var/lib/dpkg/s": "status",
		"link2": "link:/etc/passwd",
	}
	for p, v := range want {
		if got[p] != v {
			t.Errorf("%s = %q, want %q", p, got[p], v)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s (%q)", p, got[p])
		}
	}
	a, _ := os.Stat(filepath.Join(dst, "new/deep/file"))
	b, _ := os.Stat(filepath.Join(dst, "new/hard"))
	if !os.SameFile(a, b) {
		t.Errorf("new/hard is no longer a hard link of new/deep/file")
	}
}

func TestApplyUpperKeepsModesOwnersTimes(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	makeTree(t, upper, tree{"tool": "x", "secret": "s", "sticky": "dir"})
	unix.Chmod(filepath.Join(upper, "tool"), 0o4755)
	unix.Chmod(filepath.Join(upper, "secret"), 0o600)
	unix.Chmod(filepath.Join(upper, "sticky"), 0o1777)
	if os.Geteuid() == 0 {
		os.Lchown(filepath.Join(upper, "secret"), 1234, 5678)
	}
	dst := t.TempDir()
	if err := archive.CopyTree(lower, dst); err != nil {
		t.Fatal(err)
	}
	if err := applyUpper(upper, dst, nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint32{"tool": 0o4755, "secret": 0o600, "sticky": 0o1777} {
		var src, got unix.Stat_t
		unix.Lstat(filepath.Join(upper, name), &src)
		if err := unix.Lstat(filepath.Join(dst, name), &got); err != nil {
			t.Fatal(err)
		}
		if got.Mode&0o7777 != want {
			t.Errorf("%s: mode %o, want %o", name, got.Mode&0o7777, want)
		}
		if got.Uid != src.Uid || got.Gid != src.Gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", name, got.Uid, got.Gid, src.Uid, src.Gid)
		}
		if got.Mtim != src.Mtim {
			t.Errorf("%s: mtime %v, want %v", name, got.Mtim, src.Mtim)
		}
	}
}

func TestApplyUpperRefusesRedirect(t *testing.T) {
	upper := t.TempDir()
	makeTree(t, upper, tree{"moved": "dir"})
	name := "user.overlay.redirect"
	if os.Geteuid() == 0 {
		name = "trusted.overlay.redirect"
	}
	if err := unix.Setxattr(filepath.Join(upper, "moved"), name, []byte("/orig"), 0); err != nil {
		t.Skipf("cannot set %s: %v", name, err)
	}
	err := applyUpper(upper, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("a redirect dir must be refused, got %v", err)
	}
}

func TestIsWhiteoutOnlyZeroZero(t *testing.T) {
	dir := t.TempDir()
	archivetest.Whiteout(t, filepath.Join(dir, "wh"))
	fi, err := os.Lstat(filepath.Join(dir, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	if !archive.IsWhiteout(fi) {
		t.Errorf("0/0 char device is not seen as a whiteout")
	}
	if os.Geteuid() == 0 {
		if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Lstat(filepath.Join(dir, "null"))
		if archive.IsWhiteout(fi) {
			t.Errorf("/dev/null (1/3) taken for a whiteout")
		}
	}
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	fi, _ = os.Lstat(filepath.Join(dir, "f"))
	if archive.IsWhiteout(fi) {
		t.Errorf("an empty file taken for a whiteout")
	}
}

func TestValidateName(t *testing.T) {
	for n, ok := range map[string]bool{"busybox": true, "my.box-2_x": true, "Busybox": false, "../x": false, "a/b": false, "": false, "a..b": false} {
		if err := ValidateName(n); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", n, err, ok)
		}
	}
}
