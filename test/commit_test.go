package test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCommitRunningAndStopped(t *testing.T) {
	e := newEnv(t)
	vol := t.TempDir()
	e.ok("--log-level", "error", "run", "-d", "--name", "web", "-v", vol+":/data", "busybox", "sh", "-c",
		"echo inside > /made-inside; echo secret > /data/in-volume; rm /bin/vi; rm -r /home; echo changed >> /etc/passwd; touch /ready; exec sleep 1000")
	pid := containerPid(t, e, "web")
	waitFor(t, "the container's changes", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d/root/ready", pid))
		return err == nil
	})
	e.ok("--log-level", "error", "exec", "web", "sh", "-c", "mkdir -p /root/sub && echo via-exec > /root/sub/x && chmod 0600 /root/sub/x")

	// Running.
	if out := e.ok("--log-level", "error", "commit", "web", "snap"); out != "snap\n" {
		t.Fatalf("commit printed %q", out)
	}
	check := func(image string) {
		t.Helper()
		out := e.ok("--log-level", "error", "run", "--rm", image, "sh", "-c",
			`cat /made-inside /root/sub/x; stat -c %a /root/sub/x; tail -1 /etc/passwd; `+
				`test -e /bin/vi || echo vi-deleted; test -e /home || echo home-deleted; test -e /data/in-volume || echo no-volume; test -x /bin/sh && echo sh-kept`)
		want := "inside\nvia-exec\n600\nchanged\nvi-deleted\nhome-deleted\nno-volume\nsh-kept\n"
		if out != want {
			t.Errorf("run %s:\n%s\nwant:\n%s", image, out, want)
		}
		// The runtime's mount points are not the container's changes: the
		// image keeps what it had (busybox has no /etc/hosts, no /data).
		for _, p := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", "data"} {
			if _, err := os.Lstat(filepath.Join(e.dataRoot, "images", image, p)); err == nil {
				t.Errorf("image %s has /%s, a mount point of the container", image, p)
			}
		}
	}
	check("snap")
	if b, _ := os.ReadFile(filepath.Join(vol, "in-volume")); string(b) != "secret\n" {
		t.Errorf("the volume on the host: %q", b)
	}

	// An existing name is refused, unless --replace; --replace is refused
	// while a container is made on the image.
	e.fails("already exists", "commit", "web", "snap")
	e.ok("--log-level", "error", "commit", "--replace", "web", "snap")
	e.ok("--log-level", "error", "run", "-d", "--name", "user", "snap", "sleep", "1000")
	e.fails("is used by container user", "commit", "--replace", "web", "snap")
	e.ok("rm", "-f", "user")

	// Stopped.
	e.ok("stop", "-t", "0", "web")
	e.ok("--log-level", "error", "commit", "web", "snap2")
	check("snap2")

	e.fails("no such container", "commit", "nosuch", "x")
	e.fails("invalid image name", "commit", "web", "Bad/Name")
	if entries, _ := filepath.Glob(filepath.Join(e.dataRoot, "images", ".tmp-*")); len(entries) > 0 {
		t.Errorf("temporary image directories left: %v", entries)
	}
}

func TestImageExportImportSameTree(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "error", "run", "--name", "w", "busybox", "sh", "-c",
		"mkdir -p /srv/d && echo data > /srv/d/f && chmod 4755 /srv/d/f && ln /srv/d/f /srv/hard && ln -s d/f /srv/sym && mkfifo /srv/fifo && rm /bin/ls")
	e.ok("--log-level", "error", "commit", "w", "orig")

	// To stdout, and with -o.
	r := e.run("--log-level", "error", "image", "export", "orig")
	if r.code != 0 || len(r.stdout) < 1024 {
		t.Fatalf("image export to stdout: exit %d, %d bytes, %s", r.code, len(r.stdout), r.stderr)
	}
	dir := t.TempDir()
	stdoutTar := filepath.Join(dir, "stdout.tar")
	os.WriteFile(stdoutTar, []byte(r.stdout), 0o644)
	fileTar := filepath.Join(dir, "o.tar")
	e.ok("image", "export", "-o", fileTar, "orig")

	e.ok("image", "import", stdoutTar, "copy1")
	e.ok("image", "import", fileTar, "copy2")
	want := listTree(t, filepath.Join(e.dataRoot, "images", "orig"))
	for _, im := range []string{"copy1", "copy2"} {
		got := listTree(t, filepath.Join(e.dataRoot, "images", im))
		if got != want {
			t.Errorf("image %s differs from orig:\n%s", im, diffLines(want, got))
		}
	}
	if !strings.Contains(want, "./srv/d/f urwxr-xr-x") || strings.Contains(want, "./bin/ls ") || !strings.Contains(want, "./srv/fifo p") || !strings.Contains(want, "=srv/d/f") {
		t.Errorf("the committed tree lacks the container's changes:\n%s", want)
	}
	if out := e.ok("--log-level", "error", "run", "--rm", "copy1", "cat", "/srv/sym"); out != "data\n" {
		t.Errorf("run copy1: %q", out)
	}
	e.fails("no such image", "image", "export", "nosuch")
}

// listTree renders a tree as one line per entry: path, mode, size, owner,
// link target or content hash, and hard-link groups.
func listTree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	inodes := map[uint64]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		st := info.Sys().(*syscall.Stat_t)
		extra := ""
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			extra, _ = os.Readlink(path)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			extra = fmt.Sprintf("%x", sha256.Sum256(data))[:16]
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					extra += " =" + first
				} else {
					inodes[st.Ino] = rel
				}
			}
		}
		size := info.Size()
		if info.IsDir() {
			size = 0 // a directory's size depends on the file system's history
		}
		fmt.Fprintf(&b, "./%s %s %d %d:%d %s\n", rel, info.Mode(), size, st.Uid, st.Gid, extra)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func diffLines(a, b string) string {
	in := map[string]bool{}
	for _, l := range strings.Split(b, "\n") {
		in[l] = true
	}
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !in[l] {
			out = append(out, "- "+l)
		}
	}
	in = map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		in[l] = true
	}
	for _, l := range strings.Split(b, "\n") {
		if !in[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
