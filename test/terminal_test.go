package test

// The terminal part of containment (issue 11): without -t a container never
// gets the caller's session or terminal, only pipes that mydocker copies;
// and what runs inside before the user's command starts from a sealed copy
// of mydocker. The caller's terminal here is a pty the test makes and gives
// mydocker as its controlling terminal, as a login shell's would be.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// onTerminal is what a run of mydocker did on a terminal of its own.
type onTerminal struct {
	out   string // what the terminal showed
	code  int
	typed string // what was left in the terminal's input: typed into it by anyone but the test
	sid   int    // the caller's session: mydocker's, as its session leader
}

// onTTY runs mydocker with a fresh pty as its stdin, stdout, stderr and
// controlling terminal, in a session of its own. The pty is raw: whatever
// anyone pushes into its input (TIOCSTI) stays there, readable at once,
// and nothing is echoed. Nobody reads the input while mydocker runs
// (no -i here), so what is left is what was typed into it.
func (e *env) onTTY(t *testing.T, args ...string) onTerminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	defer ptmx.Close()
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		t.Fatalf("raw mode: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--root", e.root, "--data-root", e.dataRoot, "--log-level", "error"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, ptmx); close(done) }()
	if err := cmd.Start(); err != nil {
		tty.Close()
		t.Fatalf("start mydocker on a pty: %v", err)
	}
	res := onTerminal{sid: cmd.Process.Pid}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		tty.Close()
		t.Fatalf("mydocker %v: %v", args, err)
	}
	if ctx.Err() != nil {
		tty.Close()
		t.Fatalf("mydocker %v: timed out", args)
	}
	n, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCINQ)
	if err != nil {
		tty.Close()
		t.Fatalf("TIOCINQ: %v", err)
	}
	if n > 0 {
		buf := make([]byte, n)
		m, _ := tty.Read(buf)
		res.typed = string(buf[:m])
	}
	// The last holder of the slave gone, the master gives what is left,
	// then EIO.
	tty.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("mydocker %v: the terminal never closed", args)
	}
	res.out = strings.ReplaceAll(out.String(), "\r\n", "\n")
	return res
}

// tiocstiScript runs the probe against fds 0, 1, 2 and /dev/tty, one
// outcome per line (the probe's own stdout is the container's fd 1).
const tiocstiScript = `for f in 0 1 2 /dev/tty; do printf "%s " $f; /probe tiocsti $f; done`

// Without the container's own session and pipes, fds 1 and 2 would be the
// caller's terminal and /dev/tty its controlling terminal: TIOCSTI would
// type '#' into it (EPERM only without CAP_SYS_ADMIN on a terminal other
// than one's own controlling terminal). With pipes, it is ENOTTY on every
// fd, and with no controlling terminal /dev/tty does not open (ENXIO).
const tiocstiWant = "0 ENOTTY\n1 ENOTTY\n2 ENOTTY\n/dev/tty ENXIO\n"

func TestRunWithoutTTYCannotReachTheCallersTerminal(t *testing.T) {
	e := newEnv(t)
	probe := probe + ":/probe:ro"

	r := e.onTTY(t, "run", "--rm", "--net", "none", "-v", probe, "busybox", "sh", "-c", tiocstiScript)
	if r.code != 0 || r.out != tiocstiWant {
		t.Errorf("TIOCSTI from run without -t: exit %d, terminal showed\n%s\nwant\n%s", r.code, r.out, tiocstiWant)
	}
	if r.typed != "" {
		t.Errorf("the container typed %q into the caller's terminal", r.typed)
	}

	// Its own session, led by its first process (pid 1 inside): in the
	// caller's, getsid would say 0 (the leader is outside its pid namespace).
	r = e.onTTY(t, "run", "--rm", "--net", "none", "-v", probe, "busybox", "/probe", "session")
	if want := "pid=1 sid=1 pgrp=1 fg0=ENOTTY fg1=ENOTTY fg2=ENOTTY\nok\n"; r.code != 0 || r.out != want {
		t.Errorf("session of run without -t: exit %d, %q, want %q", r.code, r.out, want)
	}

	// Output still reaches the caller, both streams in the order written
	// (one pipe, as stdout and stderr are one terminal); exit codes as before.
	r = e.onTTY(t, "run", "--rm", "--net", "none", "busybox", "sh", "-c", "echo out; echo err >&2; echo out; exit 3")
	if r.code != 3 || r.out != "out\nerr\nout\n" {
		t.Errorf("run: exit %d, %q; want 3, \"out\\nerr\\nout\\n\"", r.code, r.out)
	}
}

// The host's view of the same: the container's process is in a session
// other than the caller's, with no controlling terminal (tty_nr 0).
func TestRunWithoutTTYSessionFromTheHost(t *testing.T) {
	e := newEnv(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go io.Copy(io.Discard, ptmx)
	cmd := exec.Command(binary, "--root", e.root, "--data-root", e.dataRoot, "--log-level", "error",
		"run", "--rm", "--name", "fg", "--net", "none", "busybox", "sleep", "1000")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { e.run("rm", "-f", "fg"); cmd.Wait() }()
	var pid int
	waitFor(t, "the container to run", func() bool {
		var insp []struct{ State struct{ Pid int } }
		r := e.run("inspect", "fg")
		if json.Unmarshal([]byte(r.stdout), &insp) != nil || len(insp) != 1 {
			return false
		}
		pid = insp[0].State.Pid
		return pid > 0
	})
	st := procStat(t, pid)
	// Fields after the command: state ppid pgrp session tty_nr tpgid ...
	sid, ttyNr := st[3], st[4]
	if sid == strconv.Itoa(cmd.Process.Pid) || sid != strconv.Itoa(pid) {
		t.Errorf("container process %d: session %s, want its own (%d), not the caller's (%d)", pid, sid, pid, cmd.Process.Pid)
	}
	if ttyNr != "0" {
		t.Errorf("container process %d has a controlling terminal (tty_nr %s)", pid, ttyNr)
	}
}

// procStat is /proc/PID/stat's fields after the command's name.
func procStat(t *testing.T, pid int) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func TestExecWithoutTTYCannotReachTheCallersTerminal(t *testing.T) {
	e := newEnv(t)
	probe := probe + ":/probe:ro"
	e.ok("run", "-d", "--name", "c", "--net", "none", "-v", probe, "busybox", "sleep", "1000")

	r := e.onTTY(t, "exec", "c", "sh", "-c", tiocstiScript)
	if r.code != 0 || r.out != tiocstiWant {
		t.Errorf("TIOCSTI from exec without -t: exit %d, terminal showed\n%s\nwant\n%s", r.code, r.out, tiocstiWant)
	}
	if r.typed != "" {
		t.Errorf("the exec'd command typed %q into the caller's terminal", r.typed)
	}

	r = e.onTTY(t, "exec", "c", "/probe", "session")
	var pid, sid, pgrp int
	var rest string
	if _, err := fmt.Sscanf(r.out, "pid=%d sid=%d pgrp=%d %s", &pid, &sid, &pgrp, &rest); err != nil || r.code != 0 {
		t.Fatalf("session of exec: exit %d, %q (%v)", r.code, r.out, err)
	}
	if sid != pid || !strings.Contains(r.out, "fg0=ENOTTY fg1=ENOTTY fg2=ENOTTY") {
		t.Errorf("exec without -t: %q, want a session of its own (sid = pid) and no terminal", r.out)
	}

	r = e.onTTY(t, "exec", "c", "sh", "-c", "echo out; echo err >&2; echo out; exit 4")
	if r.code != 4 || r.out != "out\nerr\nout\n" {
		t.Errorf("exec: exit %d, %q; want 4, \"out\\nerr\\nout\\n\"", r.code, r.out)
	}
}

// Stdin through a pipe mydocker copies: -i passes it on and closes it at
// EOF; without -i the command reads /dev/null. A reader of the output that
// goes away stops the container as it would have stopped it directly; a
// process an exec leaves behind holding its output does not hold exec.
func TestStdioThroughPipes(t *testing.T) {
	e := newEnv(t)
	if r := e.runIn([]byte("hello\n"), "run", "--rm", "-i", "--net", "none", "busybox", "cat"); r.code != 0 || r.stdout != "hello\n" {
		t.Errorf("echo hello | run -i cat: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := e.runIn([]byte("hello\n"), "run", "--rm", "--net", "none", "busybox", "cat"); r.code != 0 || r.stdout != "" {
		t.Errorf("run cat without -i: exit %d, %q", r.code, r.stdout)
	}
	e.ok("run", "-d", "--name", "c", "--net", "none", "busybox", "sleep", "1000")
	if r := e.runIn([]byte("hi\n"), "exec", "-i", "c", "cat"); r.code != 0 || r.stdout != "hi\n" {
		t.Errorf("echo hi | exec -i cat: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// `yes | head -1`: mydocker must not die of SIGPIPE and leave the
	// container behind; the container meets the closed pipe.
	sh := fmt.Sprintf("%s --root %s --data-root %s --log-level error run --rm --net none busybox yes | head -1", binary, e.root, e.dataRoot)
	if r := runCmd(t, nil, nil, "sh", "-c", sh); r.code != 0 || r.stdout != "y\n" {
		t.Errorf("run yes | head -1: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	start := time.Now()
	if r := e.run("exec", "c", "sh", "-c", "sleep 30 & echo left"); r.code != 0 || r.stdout != "left\n" {
		t.Errorf("exec leaving a process behind: exit %d, %q", r.code, r.stdout)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("exec waited %v for a process it left behind", d)
	}

	// A detached container's output: stdout and stderr each to its own, as docker's logs.
	e.ok("run", "-d", "--name", "l", "--net", "none", "busybox", "sh", "-c", "echo 1; echo 2 >&2; echo 3")
	waitFor(t, "logs", func() bool { r := e.run("logs", "l"); return r.stdout == "1\n3\n" && r.stderr == "2\n" })
}

// What runs inside before the user's command starts from a sealed copy of
// mydocker. exec's helper stays, for as long as the command runs, as the
// parent that forwards signals: its /proc/PID/exe is what a process that
// could see it would open. Unsealed it is the host's binary, which refuses
// a write only with ETXTBSY while it runs; sealed, it is not the host's
// file, and a write is refused by its read-only filesystem.
func TestRuntimeBinarySealed(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "c", "--net", "none", "busybox", "sleep", "1000")
	cmd := exec.Command(binary, "--root", e.root, "--data-root", e.dataRoot, "--log-level", "error", "exec", "c", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var helper int
	waitFor(t, "exec's helper", func() bool {
		helper = execHelper(cmd.Process.Pid)
		return helper > 0
	})
	exe := fmt.Sprintf("/proc/%d/exe", helper)
	var host, got unix.Stat_t
	if err := unix.Stat(binary, &host); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(exe, &got); err != nil {
		t.Fatal(err)
	}
	if got.Dev == host.Dev && got.Ino == host.Ino {
		t.Errorf("%s is the host's %s", exe, binary)
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

// execHelper is the child of `mydocker exec` (pid) that runs exec-internal,
// once it has exec'd (0: none yet). Any thread may have forked it.
func execHelper(pid int) int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, c := range strings.Fields(string(data)) {
			cmdline, _ := os.ReadFile("/proc/" + c + "/cmdline")
			if bytes.Contains(cmdline, []byte("exec-internal")) {
				n, _ := strconv.Atoi(c)
				return n
			}
		}
	}
	return 0
}

// What mydocker inherits beyond its stdio (a shell's `3</dev/tty`, a pipe a
// wrapper left open) reaches neither the container nor the shim that
// outlives the command.
func TestCallersOtherFilesStayOut(t *testing.T) {
	e := newEnv(t)
	secret, err := os.CreateTemp(t.TempDir(), "callers-own-")
	if err != nil {
		t.Fatal(err)
	}
	defer secret.Close()
	withFile := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"--root", e.root, "--data-root", e.dataRoot, "--log-level", "error"}, args...)...)
		// fd 20, without close-on-exec, as a shell passes it (above the
		// fds mydocker hands its children, which would replace it)
		cmd.ExtraFiles = append(make([]*os.File, 17), secret)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("mydocker %v: %v", args, err)
		}
		return string(out)
	}
	holds := func(pid int) bool {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if target, _ := os.Readlink(fd); target == secret.Name() {
				return true
			}
		}
		return false
	}
	if out := withFile("run", "--rm", "--net", "none", "busybox", "ls", "-l", "/proc/self/fd"); strings.Contains(out, "callers-own-") {
		t.Errorf("run: the container has the caller's file:\n%s", out)
	}
	withFile("run", "-d", "--name", "c", "--net", "none", "busybox", "sleep", "1000")
	if out := withFile("exec", "c", "ls", "-l", "/proc/self/fd"); strings.Contains(out, "callers-own-") {
		t.Errorf("exec: the command has the caller's file:\n%s", out)
	}
	var insp []struct{ State struct{ Pid int } }
	json.Unmarshal([]byte(e.ok("inspect", "c")), &insp)
	var cfg struct{ MonitorPid int }
	entries, _ := os.ReadDir(filepath.Join(e.root, "containers"))
	for _, en := range entries {
		if b, err := os.ReadFile(filepath.Join(e.root, "containers", en.Name(), "config.json")); err == nil {
			json.Unmarshal(b, &cfg)
		}
	}
	if len(insp) != 1 || insp[0].State.Pid <= 0 || cfg.MonitorPid <= 0 {
		t.Fatalf("no pids: %+v, shim %d", insp, cfg.MonitorPid)
	}
	if holds(insp[0].State.Pid) {
		t.Errorf("run -d: the container holds the caller's file")
	}
	if holds(cfg.MonitorPid) {
		t.Errorf("run -d: the shim holds the caller's file")
	}
}
