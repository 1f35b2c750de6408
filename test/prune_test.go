package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// randomID is a container id no record has (and no other test run on this
// host: the cgroup tree is the host's).
func randomID(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// aged makes path look left long ago (what a killed command left, not one
// at work now).
func aged(t *testing.T, path string) {
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func mkdirs(t *testing.T, dirs ...string) {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestContainerPrune(t *testing.T) {
	e := newEnv(t)
	stopped := strings.TrimSpace(e.must("run", "-d", "--net", "none", "busybox", "true"))
	running := strings.TrimSpace(e.must("run", "-d", "--net", "none", "busybox", "sleep", "1000"))
	waitFor(t, "the stopped container to exit", func() bool { return strings.Contains(e.must("ps", "-a"), "Exited (0)") })
	// Without -f and without a terminal to ask on: refused, nothing removed.
	e.fails("pass -f", "container", "prune")
	out := e.must("container", "prune", "-f")
	if !strings.HasPrefix(out, "Deleted Containers:\n"+stopped+"\n\nTotal reclaimed space: ") {
		t.Errorf("container prune -f:\n%s", out)
	}
	if ids := e.must("ps", "-a", "-q"); strings.TrimSpace(ids) != running[:12] {
		t.Errorf("after container prune, ps -a -q: %q (want only %s)", ids, running[:12])
	}
	if out := e.must("container", "prune", "-f"); out != "Total reclaimed space: 0B\n" {
		t.Errorf("container prune with nothing to prune: %q", out)
	}
}

// answering runs mydocker on a terminal of its own, with answer typed
// into it, and returns what the terminal showed.
func (e *env) answering(t *testing.T, answer string, args ...string) string {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	defer ptmx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--root", e.root, "--data-root", e.dataRoot, "--log-level", "error"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	ptmx.Write([]byte(answer + "\n")) // kept by the terminal until read
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, ptmx); close(done) }()
	err = cmd.Run()
	tty.Close()
	<-done
	if err != nil {
		t.Fatalf("mydocker %v on a terminal: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// On a terminal, prune asks as docker does; no is no.
func TestPruneAsksOnATerminal(t *testing.T) {
	e := newEnv(t)
	stopped := strings.TrimSpace(e.must("run", "-d", "--net", "none", "busybox", "true"))
	waitFor(t, "the container to exit", func() bool { return strings.Contains(e.must("ps", "-a"), "Exited (0)") })
	out := e.answering(t, "n", "container", "prune")
	if !strings.Contains(out, "WARNING! This will remove all stopped containers.\r\nAre you sure you want to continue? [y/N]") ||
		strings.Contains(out, "Deleted") {
		t.Errorf("container prune, answered n:\n%q", out)
	}
	if ids := e.must("ps", "-a", "-q"); !strings.Contains(ids, stopped[:12]) {
		t.Fatalf("container prune, answered n, removed the container")
	}
	if out := e.answering(t, "y", "container", "prune"); !strings.Contains(out, "Deleted Containers:\r\n"+stopped) {
		t.Errorf("container prune, answered y:\n%q", out)
	}
	if ids := e.must("ps", "-a", "-q"); ids != "" {
		t.Errorf("container prune, answered y, left %q", ids)
	}
}

func TestSystemPrune(t *testing.T) {
	e := newEnv(t)
	e.must("network", "create", "--subnet", "192.168.84.0/24", "used")
	e.must("network", "create", "--subnet", "192.168.85.0/24", "unused")
	keep := strings.TrimSpace(e.must("run", "-d", "--name", "keep", "--net", "used", "busybox", "sleep", "1000"))
	stopped := strings.TrimSpace(e.must("run", "-d", "--net", "none", "busybox", "true"))
	waitFor(t, "the stopped container to exit", func() bool { return strings.Contains(e.must("ps", "-a"), "Exited (0)") })

	// Orphans of every kind, as killed commands leave them.
	layer := filepath.Join(e.dataRoot, "containers", randomID(t))
	merged := filepath.Join(layer, "merged")
	mkdirs(t, filepath.Join(layer, "upper"), merged)
	os.WriteFile(filepath.Join(layer, "upper", "data"), make([]byte, 5000), 0o644)
	sh(t, "mount", "-t", "tmpfs", "leftover", merged)
	// (a dead container for ps -a, or an orphan: either way pruned)
	state := filepath.Join(e.root, "containers", randomID(t))
	mkdirs(t, state)
	os.WriteFile(filepath.Join(state, "hosts"), []byte("127.0.0.1\tlocalhost\n"), 0o644)
	temps := []string{filepath.Join(e.root, "network", ".x.tmp-123"), filepath.Join(e.root, "containers", keep, ".config.json.tmp-456")}
	for _, f := range temps {
		os.WriteFile(f, []byte(`{"half":`), 0o644)
		aged(t, f)
	}
	young := filepath.Join(e.root, "network", ".y.tmp-789") // a write at work now
	os.WriteFile(young, []byte(`{`), 0o644)
	// A cgroup beside keep's, in one hierarchy, named like a container.
	keepCg, _ := filepath.Glob("/sys/fs/cgroup/*/mydocker/" + keep)
	if len(keepCg) == 0 {
		keepCg = []string{"/sys/fs/cgroup/mydocker/" + keep}
	}
	cgroup := filepath.Join(filepath.Dir(keepCg[0]), randomID(t))
	youngCg := filepath.Join(filepath.Dir(keepCg[0]), randomID(t)) // a run about to join it
	mkdirs(t, cgroup, youngCg)
	t.Cleanup(func() { syscall.Rmdir(cgroup); syscall.Rmdir(youngCg) })
	aged(t, cgroup)
	// A veth named like an endpoint's, on used's bridge, that no endpoint holds.
	var nws []struct{ Bridge string }
	json.Unmarshal([]byte(e.must("network", "inspect", "used")), &nws)
	veth := "veth" + randomID(t)[:11]
	sh(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", "p"+veth[4:])
	sh(t, "ip", "link", "set", veth, "master", nws[0].Bridge)

	// A container of another --root that shares this --data-root: its
	// layer has no record here, but it is in use.
	other := &env{t: t, root: filepath.Join(t.TempDir(), "run"), dataRoot: e.dataRoot}
	neighbour := strings.TrimSpace(other.must("run", "-d", "--net", "none", "busybox", "sleep", "1000"))
	t.Cleanup(func() { other.run("rm", "-f", neighbour) })

	e.fails("pass -f", "system", "prune")
	dry := e.must("system", "prune", "--dry-run")
	for _, want := range []string{"Would Delete Containers:\n" + stopped, "Would Delete Networks:\nunused", "layer " + layer, "cgroup " + filepath.Base(cgroup)} {
		if !strings.Contains(dry, want) {
			t.Errorf("system prune --dry-run does not say %q:\n%s", want, dry)
		}
	}
	for _, p := range []string{layer, state, cgroup, temps[0], merged + "/."} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("system prune without -f, or --dry-run, removed things: %v", err)
		}
	}
	out := e.must("system", "prune", "-f")
	for _, want := range []string{"Deleted Containers:\n" + stopped + "\n", "Deleted Networks:\nunused\n", "Deleted Orphans:\n",
		"mount " + merged, "layer " + layer, filepath.Base(state), "temp file " + temps[0], "temp file " + temps[1],
		"cgroup " + filepath.Base(cgroup), "veth " + veth, "Total reclaimed space: "} {
		if !strings.Contains(out, want) {
			t.Errorf("system prune -f does not say %q:\n%s", want, out)
		}
	}
	for _, p := range append([]string{layer, state, cgroup}, temps...) {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("system prune left %s", p)
		}
	}
	if links := sh(t, "ip", "-o", "link"); strings.Contains(links, veth) {
		t.Errorf("system prune left the veth %s:\n%s", veth, links)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), merged) {
		t.Errorf("system prune left the mount on %s", merged)
	}
	// What is in use, or may be, stays.
	for _, p := range []string{young, youngCg, keepCg[0], filepath.Join(e.dataRoot, "containers", neighbour, "upper")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("system prune removed %s: %v", p, err)
		}
	}
	if ps := e.must("ps"); !strings.Contains(ps, "keep") || !strings.Contains(ps, "Up ") {
		t.Errorf("the running container after system prune:\n%s", ps)
	}
	if ps := other.must("ps"); !strings.Contains(ps, neighbour[:12]) || !strings.Contains(ps, "Up ") {
		t.Errorf("the other root's container after system prune:\n%s", ps)
	}
	if ls := e.must("network", "ls"); !strings.Contains(ls, "used") || strings.Contains(ls, "unused") {
		t.Errorf("networks after system prune:\n%s", ls)
	}
	if got := e.must("exec", "keep", "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(got, "192.168.84.") {
		t.Errorf("keep lost its address: %q", got)
	}
	// Nothing left to prune: a second run removes nothing.
	if out := e.must("system", "prune", "-f"); out != "Total reclaimed space: 0B\n" {
		t.Errorf("a second system prune: %q", out)
	}
}
