package inroot

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree makes a container-like root in a temporary directory, beside a
// "host" file that links in the root name by its host path.
func tree(t *testing.T) (dir, hostFile string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "root")
	hostFile = filepath.Join(base, "host-secret")
	os.WriteFile(hostFile, []byte("host\n"), 0o644)
	for _, d := range []string{"etc", "tmp", "data/sub"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("container\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "data/sub/f"), []byte("f\n"), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(dir, "tmp/abs"))              // absolute: the root's /etc/passwd
	os.Symlink("../../../../../etc/passwd", filepath.Join(dir, "tmp/up")) // .. stops at the root
	os.Symlink(hostFile, filepath.Join(dir, "tmp/host"))                  // the host's path: not in the root
	os.Symlink("/etc", filepath.Join(dir, "etcdir"))
	return dir, hostFile
}

func TestLinksResolveInsideTheRoot(t *testing.T) {
	dir, hostFile := tree(t)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"/tmp/abs", "tmp/up", "/etcdir/passwd", "/../../etc/passwd"} {
		f, err := r.Open(name, true)
		if err != nil {
			t.Errorf("open %s: %v", name, err)
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "container\n" {
			t.Errorf("%s read %q, not the root's /etc/passwd", name, b)
		}
	}
	if _, err := r.Open("/tmp/host", true); err == nil {
		t.Errorf("a link to %s reached the host's file", hostFile)
	}
	if _, err := r.Open("/tmp/abs", false); err == nil {
		t.Error("open without follow went through a link")
	}
	if p, err := r.RealPath("/etcdir/../tmp/abs"); err != nil || p != "/etc/passwd" {
		t.Errorf("RealPath = %q, %v", p, err)
	}
	// Writes through links land in the root.
	if err := r.Symlink("/etc", "/tmp/dirlink"); err != nil {
		t.Fatal(err)
	}
	f, err := r.Create("/tmp/dirlink/new", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(dir, "etc/new")); err != nil {
		t.Errorf("a file made through a link to /etc is not the root's /etc/new: %v", err)
	}
	// Create replaces a link, never writes through it.
	f, err = r.Create("/tmp/host", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("replaced\n")
	f.Close()
	if b, _ := os.ReadFile(hostFile); string(b) != "host\n" {
		t.Errorf("the host's file was written: %q", b)
	}
}

func TestTarAndUntarStayInTheRoot(t *testing.T) {
	dir, hostFile := tree(t)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	if err := r.Tar(&b, "/data", "copy"); err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(b.Bytes()))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if got := strings.Join(names, " "); got != "copy/ copy/sub/ copy/sub/f" {
		t.Errorf("Tar entries: %s", got)
	}
	if err := r.Untar(bytes.NewReader(b.Bytes()), "/tmp", &Owner{UID: os.Getuid(), GID: os.Getgid()}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "tmp/copy/sub/f")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("untarred file: %v, %v", fi, err)
	}
	// An archive that climbs out, or plants a link and writes through it.
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	tw.WriteHeader(&tar.Header{Name: "../../../../escaped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	tw.Write([]byte("x\n"))
	tw.WriteHeader(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: filepath.Dir(hostFile)})
	tw.WriteHeader(&tar.Header{Name: "link/host-secret", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	tw.Write([]byte("y\n"))
	tw.Close()
	r.Untar(&evil, "/data", &Owner{UID: os.Getuid(), GID: os.Getgid()}) // may fail: it must not escape
	if b, _ := os.ReadFile(hostFile); string(b) != "host\n" {
		t.Errorf("an archive wrote the host's file through a link: %q", b)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escaped")); err == nil {
		t.Error("an archive wrote outside the root with ../")
	}
	if _, err := os.Stat(filepath.Join(dir, "data/escaped")); err != nil {
		t.Errorf("../escaped is not kept under the destination: %v", err)
	}
}
