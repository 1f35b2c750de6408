package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/archive/archivetest"
)

// entries lists a tar's entries as "NAME TYPE[ -> LINK][ xattrs]", sorted.
func entries(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e := h.Name + " " + string(h.Typeflag)
		if h.Linkname != "" {
			e += " -> " + h.Linkname
		}
		var xs []string
		for k, v := range h.PAXRecords {
			if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				xs = append(xs, x+"="+v)
			}
		}
		sort.Strings(xs)
		if len(xs) > 0 {
			e += " " + strings.Join(xs, ",")
		}
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			e += " empty"
		}
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// An upper directory becomes an OCI layer: whiteouts as .wh.NAME, an
// opaque directory with .wh..wh..opq in it, the skipped mount points left
// out, overlay's xattrs dropped and the others kept, hard links kept. And
// Extract reads the same whiteouts and opaque directories back.
func TestTarUpper(t *testing.T) {
	upper := t.TempDir()
	for _, d := range []string{"bin", "etc", "data/sub", "opt/new", "var/lib"} {
		os.MkdirAll(filepath.Join(upper, d), 0o755)
	}
	for name, body := range map[string]string{
		"etc/passwd":      "root\nweb\n", // changed
		"etc/hosts":       "",            // a mount point of the runtime: skipped
		"data/sub/in-vol": "volume",      // below a volume: skipped
		"opt/new/file":    "new",         // in an opaque directory
		"var/lib/state":   "s",
	} {
		if err := os.WriteFile(filepath.Join(upper, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Link(filepath.Join(upper, "var/lib/state"), filepath.Join(upper, "var/lib/hard"))
	os.Symlink("/etc/passwd", filepath.Join(upper, "bin/pw"))
	archivetest.Whiteout(t, filepath.Join(upper, "bin/vi"))
	archivetest.Whiteout(t, filepath.Join(upper, "gone"))
	archivetest.Opaque(t, filepath.Join(upper, "opt"))
	xerr := unix.Setxattr(filepath.Join(upper, "etc/passwd"), "user.kept", []byte("v"), 0)
	if xerr != nil {
		t.Logf("no user xattrs here (%v): not checked", xerr)
	}
	kept := xerr == nil
	sock := filepath.Join(upper, "var/lib/app.sock")
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0); err == nil {
		unix.Bind(fd, &unix.SockaddrUnix{Name: sock})
		defer unix.Close(fd)
	}

	var buf bytes.Buffer
	res, err := TarUpper(upper, &buf, Skip{"etc/hosts", "data"})
	if err != nil {
		t.Fatal(err)
	}
	passwd := "./etc/passwd 0"
	if kept {
		passwd += " user.kept=v"
	}
	want := []string{
		"./ 5", "./.wh.gone 0 empty", "./bin/ 5", "./bin/.wh.vi 0 empty", "./bin/pw 2 -> /etc/passwd",
		"./etc/ 5", passwd,
		"./opt/ 5", "./opt/.wh..wh..opq 0 empty", "./opt/new/ 5", "./opt/new/file 0",
		"./var/ 5", "./var/lib/ 5", "./var/lib/hard 0", "./var/lib/state 1 -> ./var/lib/hard",
	}
	got := entries(t, bytes.NewReader(buf.Bytes()))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the layer's entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(res.Whiteouts, ",") != "bin/vi,gone" || strings.Join(res.Opaques, ",") != "opt" || res.Size != 13 {
		t.Errorf("result %+v", res)
	}
	if scan, err := ScanUpper(upper, Skip{"etc/hosts", "data"}); err != nil || fmt.Sprint(scan) != fmt.Sprint(res) {
		t.Errorf("ScanUpper: %+v %v, want %+v", scan, err, res)
	}

	// Unpacked as a layer, the same marks come back (for whiteoutOps).
	back, err := Extract(bytes.NewReader(buf.Bytes()), t.TempDir(), Options{Whiteouts: true})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(back.Whiteouts)
	if strings.Join(back.Whiteouts, ",") != "bin/vi,gone" || strings.Join(back.Opaques, ",") != "opt" {
		t.Errorf("extracted back: %+v", back)
	}
}

// An empty upper is an empty layer: its root only.
func TestTarUpperEmpty(t *testing.T) {
	var buf bytes.Buffer
	res, err := TarUpper(t.TempDir(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(t, &buf); len(got) != 1 || got[0] != "./ 5" || len(res.Whiteouts)+len(res.Opaques) != 0 {
		t.Errorf("entries %v, result %+v", got, res)
	}
	if _, err := TarUpper(filepath.Join(t.TempDir(), "nosuch"), io.Discard, nil); err == nil {
		t.Error("a missing upper directory: no error")
	}
}

func TestTarUpperRefusesRedirect(t *testing.T) {
	upper := t.TempDir()
	os.Mkdir(filepath.Join(upper, "moved"), 0o755)
	name := "user.overlay.redirect"
	if os.Geteuid() == 0 {
		name = "trusted.overlay.redirect"
	}
	if err := unix.Setxattr(filepath.Join(upper, "moved"), name, []byte("/orig"), 0); err != nil {
		t.Skipf("cannot set %s: %v", name, err)
	}
	if _, err := TarUpper(upper, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("a redirect dir must be refused, got %v", err)
	}
}

func TestSkip(t *testing.T) {
	s := Skip{"etc/hosts", "data"}
	for rel, want := range map[string]bool{"etc/hosts": true, "data": true, "data/x/y": true, "etc": false, "etc/hostsx": false, "database": false} {
		if s.Has(rel) != want {
			t.Errorf("Has(%q) = %v", rel, !want)
		}
	}
}
