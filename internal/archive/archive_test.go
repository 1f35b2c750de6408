package archive

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "bin"), 0o755)
	os.WriteFile(filepath.Join(src, "bin", "tool"), []byte("#!/bin/sh\n"), 0o755)
	os.Link(filepath.Join(src, "bin", "tool"), filepath.Join(src, "bin", "hard"))
	os.Symlink("tool", filepath.Join(src, "bin", "soft"))
	os.Mkdir(filepath.Join(src, "tmp"), 0o755)
	os.Chmod(filepath.Join(src, "tmp"), 0o1777|os.ModeSticky)
	var buf bytes.Buffer
	if err := Tar(src, &buf); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := Untar(&buf, dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dst, "bin", "tool"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("tool: %v %v", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "bin", "soft")); l != "tool" {
		t.Fatalf("symlink = %q", l)
	}
	a, _ := os.Stat(filepath.Join(dst, "bin", "tool"))
	b, _ := os.Stat(filepath.Join(dst, "bin", "hard"))
	if !os.SameFile(a, b) {
		t.Fatal("hard link not kept")
	}
	if fi, _ := os.Stat(filepath.Join(dst, "tmp")); fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Fatalf("tmp mode = %v", fi.Mode())
	}
}

func tarOf(t *testing.T, entries ...tar.Header) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		h := h
		if h.Typeflag == tar.TypeReg {
			h.Size = 1
		}
		tw.WriteHeader(&h)
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte("x"))
		}
	}
	tw.Close()
	return &buf
}

func TestUntarRefusesEscapes(t *testing.T) {
	outside := t.TempDir()
	cases := map[string]*bytes.Buffer{
		"dotdot":       tarOf(t, tar.Header{Name: "../../x", Typeflag: tar.TypeReg, Mode: 0o644}),
		"via symlink":  tarOf(t, tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: outside}, tar.Header{Name: "l/x", Typeflag: tar.TypeReg, Mode: 0o644}),
		"hard link up": tarOf(t, tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}),
	}
	for name, buf := range cases {
		dst := t.TempDir()
		err := Untar(buf, dst)
		if name == "dotdot" || name == "hard link up" {
			// ".." is cleaned to stay inside: the entry lands in dst, or the link target is missing.
			if _, serr := os.Stat(filepath.Join(filepath.Dir(dst), "x")); serr == nil {
				t.Errorf("%s: wrote outside the target", name)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("%s: err = %v", name, err)
		}
		if _, serr := os.Stat(filepath.Join(outside, "x")); serr == nil {
			t.Errorf("%s: wrote outside the target", name)
		}
	}
}

func TestExtractListsWhiteouts(t *testing.T) {
	dst := t.TempDir()
	res, err := Extract(tarOf(t,
		tar.Header{Name: "a/.wh.gone", Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "b/" + OpaqueMarker, Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "b/kept", Typeflag: tar.TypeReg, Mode: 0o644},
	), dst, Options{Whiteouts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Whiteouts) != 1 || res.Whiteouts[0] != "a/gone" || len(res.Opaques) != 1 || res.Opaques[0] != "b" || res.Size != 1 {
		t.Fatalf("result %+v", res)
	}
	if ms, _ := filepath.Glob(filepath.Join(dst, "*", ".wh.*")); len(ms) > 0 {
		t.Errorf("whiteout entries written: %v", ms)
	}
	if fi, err := os.Stat(filepath.Join(dst, "a")); err != nil || !fi.IsDir() {
		t.Errorf("a whiteout's directory is not made: %v", err)
	}
	// Without the option, they are plain files (a rootfs tarball's own).
	dst = t.TempDir()
	if err := Untar(tarOf(t, tar.Header{Name: "a/.wh.gone", Typeflag: tar.TypeReg, Mode: 0o644}), dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "a/.wh.gone")); err != nil {
		t.Error(err)
	}
}
