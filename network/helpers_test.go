package network

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
	"github.com/mydocker/mydocker/internal/testns"
)

// recorded collects the "$" lines the kernel narrates: a logrus hook.
type recorded struct {
	mu   sync.Mutex
	cmds []string
}

func (r *recorded) Levels() []logrus.Level { return logrus.AllLevels }
func (r *recorded) Fire(e *logrus.Entry) error {
	if cmd, ok := strings.CutPrefix(e.Message, "$ "); ok {
		r.mu.Lock()
		r.cmds = append(r.cmds, cmd)
		r.mu.Unlock()
	}
	return nil
}
func (r *recorded) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cmds...)
}

// testLogger logs to the test log (shown on failure or with -v) and
// records the "$" lines.
func testLogger(t testing.TB) (*logrus.Logger, *recorded) {
	l := logrus.New()
	l.SetOutput(testWriter{t})
	l.SetFormatter(narrate.TextFormatter{})
	l.SetLevel(logrus.DebugLevel)
	rec := &recorded{}
	l.AddHook(rec)
	return l, rec
}

// testManager is a Manager on a temp root on the narrating kernel, whose
// narration goes to the test log.
func testManager(t *testing.T) (*Manager, *recorded) {
	t.Helper()
	testns.RequireRoot(t)
	l, rec := testLogger(t)
	return NewManager(t.TempDir(), kernel.NewNarrating(l)), rec
}

// quiet is the real kernel, logging nothing.
func quiet() kernel.Kernel {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return kernel.NewReal(l)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sleeper is a process in a network namespace of its own, standing for a
// container.
func sleeper(t *testing.T) int { return testns.Sleeper(t) }

// background starts a command (e.g. a server inside a namespace) and kills
// it by pid at the end of the test.
func background(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func tryRun(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	return string(out), err
}

func inNS(pid int, args ...string) []string {
	return append([]string{"nsenter", "-t", strconv.Itoa(pid), "-n"}, args...)
}

// ping from the namespace of pid (pid 0: the test's own namespace).
func ping(pid int, ip string) error {
	args := []string{"busybox", "ping", "-c", "1", "-W", "2", ip}
	if pid != 0 {
		args = inNS(pid, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from pid %d: %v: %s", ip, pid, err, out)
	}
	return nil
}

// wget fetches a URL from the namespace of pid (0: the test's), retrying
// briefly while a server starts.
func wget(pid int, url string) (string, error) {
	// (busybox 1.35's wget -T segfaults: bound it with timeout(1).)
	args := []string{"busybox", "wget", "-q", "-O", "-", url}
	if pid != 0 {
		args = inNS(pid, args...)
	}
	args = append([]string{"timeout", "3"}, args...)
	var out []byte
	var err error
	for i := 0; i < 10; i++ {
		out, err = exec.Command(args[0], args[1:]...).CombinedOutput()
		if err == nil {
			return string(out), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return string(out), err
}

// httpd serves a page saying `body` on port 80 inside the namespace of pid.
func httpd(t *testing.T, pid int, body string) {
	dir := t.TempDir()
	os.WriteFile(dir+"/index.html", []byte(body), 0o644)
	background(t, inNS(pid, "busybox", "httpd", "-f", "-p", "80", "-h", dir)...)
}

var ctrRE = regexp.MustCompile(`\[\d+:\d+\]`)

// iptablesSave is iptables-save without comments, counters and empty
// tables (iptables-nft shows a table once anything touched it).
func iptablesSave(t *testing.T) string {
	t.Helper()
	out := run(t, "iptables-save")
	var tables []string
	var cur []string
	rules := false
	flush := func() {
		if rules {
			tables = append(tables, strings.Join(cur, "\n"))
		}
		cur, rules = nil, false
	}
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "#") || l == "":
		case strings.HasPrefix(l, "*"):
			flush()
			cur = []string{l}
		case strings.HasPrefix(l, ":"):
			f := strings.Fields(ctrRE.ReplaceAllString(l, ""))
			cur = append(cur, strings.Join(f, " "))
			if !strings.Contains("PREROUTING INPUT FORWARD OUTPUT POSTROUTING", strings.TrimPrefix(f[0], ":")) || f[1] != "ACCEPT" {
				rules = true
			}
		default:
			cur = append(cur, l)
			if l != "COMMIT" {
				rules = true
			}
		}
	}
	flush()
	sort.Strings(tables)
	return strings.Join(tables, "\n")
}

// links lists the test namespace's link names.
func links(t *testing.T) string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(run(t, "ip", "-o", "link"), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// snapshot is what a test must leave as it found: links and rules.
type snapshot struct{ links, rules string }

func snap(t *testing.T) snapshot { return snapshot{links(t), iptablesSave(t)} }

func (s snapshot) check(t *testing.T) {
	t.Helper()
	now := snap(t)
	if now.links != s.links {
		t.Errorf("links changed:\nbefore %s\nafter  %s", s.links, now.links)
	}
	if now.rules != s.rules {
		t.Errorf("iptables changed:\nbefore:\n%s\nafter:\n%s", s.rules, now.rules)
	}
}

func grepLines(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}
