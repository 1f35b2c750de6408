package test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarFiles maps the entries of a tarball, without a leading "./", to their contents.
func tarFiles(t *testing.T, data []byte) map[string]string {
	t.Helper()
	names := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("read the exported tar: %v", err)
		}
		body, _ := io.ReadAll(tr)
		names[strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")] = string(body)
	}
}

// mydocker export: the container's filesystem as it sees it (its changes,
// its deletions), running or stopped, without what is mounted on it; image
// import reads it back.
func TestExportContainer(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "ex", "--net", "none", "-v", "vol:/data", "--tmpfs", "/scratch", "busybox", "sh", "-c",
		"echo made > /made && rm /etc/group && echo v > /data/f && echo t > /scratch/t && touch /ready && exec sleep 1000")
	waitFor(t, "the container's changes", func() bool { return e.run("exec", "ex", "test", "-f", "/ready").code == 0 })

	check := func(when string, data []byte) {
		names := tarFiles(t, data)
		if names["made"] != "made\n" || names["bin/sh"] == "" && names["bin/busybox"] == "" {
			t.Errorf("%s: the export lacks the container's new file or the image's: %d entries", when, len(names))
		}
		for _, gone := range []string{"etc/group", "data/f", "scratch/t", "proc/self"} {
			if _, ok := names[gone]; ok {
				t.Errorf("%s: the export holds %s (deleted, or under a mount)", when, gone)
			}
		}
	}
	running := e.ok("export", "ex")
	check("running", []byte(running))

	e.ok("stop", "-t", "0", "ex")
	out := filepath.Join(t.TempDir(), "ex.tar")
	e.ok("export", "-o", out, "ex")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	check("stopped", data)

	e.ok("image", "import", out, "exported")
	if got := e.ok("run", "--rm", "--net", "none", "exported", "sh", "-c", "cat /made; test -e /etc/group || echo no group"); got != "made\nno group\n" {
		t.Errorf("a container of the imported export: %q", got)
	}
	e.fails("no such container: nosuch", "export", "nosuch")
	if e.run("export", "-o", "/nonexistent/dir/x.tar", "ex").code == 0 {
		t.Error("export into a missing directory succeeded")
	}
	// Nothing stays mounted: the view lived in export's own mount namespace.
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), "/export ") {
		t.Errorf("export's mount is left:\n%s", mi)
	}
	e.ok("rm", "-v", "ex")
	e.ok("rmi", "exported")
}
