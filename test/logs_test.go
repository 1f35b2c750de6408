package test

// logs and attach as a docker user uses them (issue 14): the json-file
// log, each stream apart, its times, its size cap; a foreground
// container's log; and attach to a detached container's stdio, through
// its shim.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// logRecords reads a container's log file (or a rotated one) as docker's
// tools do: one JSON object a line, with exactly docker's fields.
func (e *env) logRecords(t *testing.T, file string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r map[string]string
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: line %q is not a JSON object of strings: %v", file, line, err)
		}
		if len(r) != 3 || (r["stream"] != "stdout" && r["stream"] != "stderr") || r["log"] == "" {
			t.Fatalf("%s: line %q: want exactly log, stream (stdout|stderr) and time", file, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, r["time"]); err != nil || !strings.HasSuffix(r["time"], "Z") {
			t.Fatalf("%s: time %q is not RFC3339Nano in UTC: %v", file, r["time"], err)
		}
		recs = append(recs, r)
	}
	return recs
}

// logFile is where inspect says ref's log is, checked to be in its state directory.
func (e *env) logFile(ref string) string {
	e.t.Helper()
	f := strings.Fields(e.ok("inspect", "-f", "{{.Id}} {{.LogPath}}", ref))
	if want := filepath.Join(e.root, "containers", f[0], "container.log"); len(f) != 2 || f[1] != want {
		e.t.Fatalf("inspect's LogPath: %v, want %s", f, want)
	}
	return f[1]
}

func TestLogsAsDocker(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "warn", "run", "-d", "--name", "s", "--net", "none", "busybox", "sh", "-c",
		`echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; echo "<b> & \"q\""; sleep 0.2; echo late; printf partial`)
	e.ok("wait", "s")

	// Each stream to its own: `logs s 2>/dev/null` shows only stdout.
	r := e.run("logs", "s")
	if r.code != 0 || r.stdout != "out1\n<b> & \"q\"\nlate\npartial" || r.stderr != "err1\n" {
		t.Fatalf("logs: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// On disk: docker's json-file, the partial last line without its newline.
	recs := e.logRecords(t, e.logFile("s"))
	want := []string{"stdout out1\n", "stderr err1\n", "stdout <b> & \"q\"\n", "stdout late\n", "stdout partial"}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %v", len(recs), len(want), recs)
	}
	for i, w := range want {
		if got := recs[i]["stream"] + " " + recs[i]["log"]; got != w {
			t.Errorf("record %d: %q, want %q", i, got, w)
		}
	}
	if raw, _ := os.ReadFile(e.logFile("s")); !bytes.Contains(raw, []byte(`{"log":"\u003cb\u003e \u0026 \"q\"\n","stream":"stdout","time":"`)) {
		t.Errorf("not docker's escaping:\n%s", raw)
	}

	// -t: docker's fixed-width RFC3339Nano, then a space.
	stamped := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (out1|<b> & "q"|late|partial)$`)
	r = e.run("logs", "-t", "s")
	for _, line := range strings.Split(r.stdout, "\n") {
		if !stamped.MatchString(line) {
			t.Errorf("logs -t: line %q", line)
		}
	}
	if !regexp.MustCompile(`^\S+Z err1\n$`).MatchString(r.stderr) {
		t.Errorf("logs -t: stderr %q", r.stderr)
	}

	// --since and --until: RFC 3339, Unix timestamps, durations.
	late, _ := time.Parse(time.RFC3339Nano, recs[3]["time"])
	for _, tc := range []struct {
		args        []string
		out, errOut string
	}{
		{[]string{"--since", recs[3]["time"]}, "late\npartial", ""},
		{[]string{"--since", fmt.Sprintf("%d.%09d", late.Unix(), late.Nanosecond())}, "late\npartial", ""},
		{[]string{"--until", recs[1]["time"]}, "out1\n", "err1\n"},
		{[]string{"--since", recs[1]["time"], "--until", recs[2]["time"]}, "<b> & \"q\"\n", "err1\n"},
		{[]string{"--since", "1h"}, "out1\n<b> & \"q\"\nlate\npartial", "err1\n"},
		{[]string{"--until", "1h"}, "", ""},
		{[]string{"--tail", "2"}, "late\npartial", ""},
		{[]string{"--details", "--tail", "2"}, " late\n partial", ""},
		{[]string{"--tail", "4"}, "<b> & \"q\"\nlate\npartial", "err1\n"},
	} {
		r := e.run(append(append([]string{"logs"}, tc.args...), "s")...)
		if r.code != 0 || r.stdout != tc.out || r.stderr != tc.errOut {
			t.Errorf("logs %v: exit %d, stdout %q, stderr %q; want %q, %q", tc.args, r.code, r.stdout, r.stderr, tc.out, tc.errOut)
		}
	}
	e.fails("invalid --since", "logs", "--since", "yesterday", "s")

	// A log an older mydocker wrote, plain text: its lines are stdout.
	os.WriteFile(e.logFile("s"), []byte("old one\nold two\n"), 0o640)
	if r := e.run("logs", "--tail", "1", "s"); r.stdout != "old two\n" || r.stderr != "" {
		t.Errorf("a plain log: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

// logs -f prints what comes, and ends when the container exits.
func TestLogsFollowEndsAtExit(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "warn", "run", "-d", "--name", "f", "--net", "none", "busybox", "sh", "-c",
		`echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second; echo bye >&2; exit 3`)
	rest, errOut, err := e.untilGo(t, "f", "first\n", "logs", "-f", "f")
	if err != nil || rest != "second\n" || errOut != "bye\n" {
		t.Fatalf("logs -f after exit: %v, stdout %q, stderr %q", err, rest, errOut)
	}
}

// untilGo starts mydocker args, reads its stdout until first, lets
// container ref go on (it waits for /tmp/go), and returns what mydocker
// printed then, and how it exited.
func (e *env) untilGo(t *testing.T, ref, first string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return e.until(t, first, func(*exec.Cmd) { e.ok("--log-level", "warn", "exec", ref, "touch", "/tmp/go") }, args...)
}

// until starts mydocker args, reads its stdout until first, calls then,
// and returns what mydocker printed after first, and how it exited.
func (e *env) until(t *testing.T, first string, then func(*exec.Cmd), args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--root", e.root, "--data-root", e.dataRoot}, args...)...)
	out, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(out)
	if line, err := rd.ReadString('\n'); line != first {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%v: %q, %v; want %q", args, line, err, first)
	}
	then(cmd)
	rest, _ := io.ReadAll(rd)
	err = cmd.Wait()
	return string(rest), errb.String(), err
}

// A foreground container is logged too; with -t its terminal is stdout,
// and so is the one pipe of a caller whose stdout and stderr are one file.
func TestLogsOfForegroundContainer(t *testing.T) {
	e := newEnv(t)
	r := e.run("--log-level", "warn", "run", "--name", "fg", "--net", "none", "busybox", "sh", "-c", "echo hello; echo oops >&2")
	if r.code != 0 || r.stdout != "hello\n" || !strings.Contains(r.stderr, "oops\n") {
		t.Fatalf("run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := e.run("logs", "fg"); r.stdout != "hello\n" || r.stderr != "oops\n" {
		t.Errorf("logs fg: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	// A caller whose stdout and stderr are one file gets them in the order
	// written: one pipe, whose stream the log keeps as stdout.
	both := filepath.Join(t.TempDir(), "both")
	sh := fmt.Sprintf("%s --root %s --data-root %s --log-level warn run --name fm --net none busybox sh -c 'echo a; echo b >&2; echo c' >%s 2>&1",
		binary, e.root, e.dataRoot, both)
	if r := runCmd(t, nil, nil, "sh", "-c", sh); r.code != 0 {
		t.Fatalf("run >both 2>&1: exit %d, %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(both); string(b) != "a\nb\nc\n" {
		t.Errorf("run >both 2>&1: %q, want a, b, c in order", b)
	}
	if r := e.run("logs", "fm"); r.stdout != "a\nb\nc\n" || r.stderr != "" {
		t.Errorf("logs fm: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	out := e.tty(t, "", "", "--log-level", "warn", "run", "-t", "--name", "ft", "--net", "none", "busybox", "sh", "-c", "echo on-tty; echo err-tty >&2")
	if !strings.Contains(out, "on-tty") {
		t.Fatalf("run -t: %q", out)
	}
	if r := e.run("logs", "ft"); r.stdout != "on-tty\r\nerr-tty\r\n" || r.stderr != "" {
		t.Errorf("logs of a -t container: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

// --log-opt max-size, max-file: rotated as docker's json-file, read in order.
func TestLogsRotation(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "warn", "run", "-d", "--name", "r", "--net", "none", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
		"busybox", "sh", "-c", `i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done`)
	e.ok("wait", "r")
	log := e.logFile("r")
	if out := e.ok("inspect", "-f", `{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "max-size"}} {{index .HostConfig.LogConfig.Config "max-file"}}`, "r"); out != "json-file 1k 3\n" {
		t.Errorf("inspect's HostConfig.LogConfig: %q", out)
	}
	files, _ := filepath.Glob(log + "*")
	if len(files) != 3 {
		t.Fatalf("log files: %v, want container.log, .1, .2", files)
	}
	for _, f := range files {
		fi, _ := os.Stat(f)
		if fi.Size() > 1000+100 {
			t.Errorf("%s: %d bytes, over max-size 1k by more than a record", f, fi.Size())
		}
		e.logRecords(t, f)
	}
	lines := strings.Split(strings.TrimSuffix(e.ok("logs", "r"), "\n"), "\n")
	first, err := strconv.Atoi(strings.TrimPrefix(lines[0], "line"))
	if err != nil || first == 0 || len(lines) != 300-first {
		t.Fatalf("logs after rotation: %d lines from %q", len(lines), lines[0])
	}
	for i, l := range lines {
		if l != fmt.Sprintf("line%d", first+i) {
			t.Fatalf("logs after rotation: line %d is %q, want line%d", i, l, first+i)
		}
	}
	if out := e.ok("logs", "--tail", "3", "r"); out != "line297\nline298\nline299\n" {
		t.Errorf("--tail 3: %q", out)
	}
	e.fails("max-file needs max-size", "run", "--log-opt", "max-file=2", "busybox", "true")
	e.fails("unknown log opt 'colour'", "run", "--log-opt", "colour=red", "busybox", "true")

	// --log-driver none: nothing kept, and logs says so.
	e.ok("--log-level", "warn", "run", "--name", "quiet", "--net", "none", "--log-driver", "none", "busybox", "echo", "hi")
	e.fails("does not support reading", "logs", "quiet")
	if out := e.ok("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "quiet"); out != "none\n" {
		t.Errorf("inspect of --log-driver none: %q", out)
	}
	if _, err := os.Stat(e.logFile("quiet")); !os.IsNotExist(err) {
		t.Errorf("--log-driver none kept a log: %v", err)
	}
	e.fails(`invalid --log-driver "syslog"`, "run", "--log-driver", "syslog", "busybox", "true")
}

// attach: live output, the exit code; stdin with -i.
func TestAttach(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "warn", "run", "-d", "--name", "a", "--net", "none", "busybox", "sh", "-c",
		`while [ ! -e /tmp/go ]; do echo tick; sleep 0.1; done; echo bye; echo gone >&2; exit 3`)
	rest, errOut, err := e.untilGo(t, "a", "tick\n", "attach", "a")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.HasSuffix("tick\n"+rest, "tick\nbye\n") || errOut != "gone\n" {
		t.Fatalf("attach: %v, stdout ends %q, stderr %q; want exit 3, bye, gone", err, rest, errOut)
	}
	e.fails("not running", "attach", "a")

	// --sig-proxy (the default): a signal to attach goes to the container.
	e.ok("--log-level", "warn", "run", "-d", "--name", "p", "--net", "none", "busybox", "sh", "-c",
		`trap "echo caught; exit 9" TERM; while :; do echo tick; sleep 0.1; done`)
	rest, _, err = e.until(t, "tick\n", func(c *exec.Cmd) { c.Process.Signal(syscall.SIGTERM) }, "--log-level", "warn", "attach", "p")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 9 || !strings.HasSuffix(rest, "caught\n") {
		t.Errorf("SIGTERM to attach: %v, stdout ends %q; want the container's trap's exit 9", err, rest)
	}

	// -i: attach feeds the container's stdin.
	e.ok("--log-level", "warn", "run", "-d", "-i", "--name", "i", "--net", "none", "busybox", "sh", "-c", `read line; echo "got $line"; exit 5`)
	if r := e.runIn([]byte("hello\n"), "attach", "i"); r.code != 5 || r.stdout != "got hello\n" {
		t.Errorf("echo hello | attach i: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// attach to a -it container on a terminal: typed keys reach its shell,
// ctrl-p ctrl-q detaches, and the container goes on.
func TestAttachTerminalDetach(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "warn", "run", "-d", "-it", "--name", "sh", "--net", "none", "busybox", "sh")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--root", e.root, "--data-root", e.dataRoot, "attach", "sh")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out syncBuffer
	go io.Copy(&out, f)
	time.Sleep(500 * time.Millisecond) // attached
	f.Write([]byte("echo $((6*7))\r"))
	waitFor(t, "the shell's answer", func() bool { return strings.Contains(out.String(), "42") })
	f.Write([]byte{0x10, 0x11})
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("attach after ctrl-p ctrl-q: %v, want exit 1 (docker's)", err)
	}
	waitFor(t, "read escape sequence", func() bool { return strings.Contains(out.String(), "read escape sequence") })
	if st := strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Status}}", "sh")); st != "running" {
		t.Fatalf("after detach the container is %s, want running", st)
	}
	// What was typed went to its terminal, and its log.
	if !strings.Contains(e.ok("logs", "sh"), "42") {
		t.Errorf("logs after attach: %q", e.ok("logs", "sh"))
	}

	// --detach-keys, as docker writes them; a key that only begins them is typed.
	cmd = exec.CommandContext(ctx, binary, "--root", e.root, "--data-root", e.dataRoot, "attach", "--detach-keys", "q,q", "sh")
	f2, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	var out2 syncBuffer
	go io.Copy(&out2, f2)
	time.Sleep(500 * time.Millisecond)
	f2.Write([]byte("echo q$((2*3))\r"))
	waitFor(t, "the shell's answer", func() bool { return strings.Contains(out2.String(), "q6") })
	f2.Write([]byte("qq"))
	if err := cmd.Wait(); err == nil {
		t.Fatalf("attach --detach-keys q,q: %v\n%q", err, out2.String())
	}
	// The pty's last bytes may still be on their way to out2.
	waitFor(t, "read escape sequence after q,q", func() bool { return strings.Contains(out2.String(), "read escape sequence") })
	e.fails("invalid detach keys", "attach", "--detach-keys", "ctrl-1", "sh")
}
