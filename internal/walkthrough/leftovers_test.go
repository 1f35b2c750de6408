package walkthrough

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A process a chapter starts in the background (a registry) ends with the
// chapter, even though its shell exited without stopping it.
func TestRunEndsWhatTheChapterLeftRunning(t *testing.T) {
	assertEnded(t, runLeaving(t, "sleep 1000"))
}

// A process a chapter starts in a network namespace of its own making (a
// simulated host's etcd) ends with the chapter too.
func TestRunEndsWhatTheChapterLeftInItsChildNamespaces(t *testing.T) {
	assertEnded(t, runLeaving(t, "unshare -n sleep 1000"))
}

// runLeaving runs a chapter whose setup starts cmd in the background and
// leaves it; it returns the file holding cmd's pid.
func runLeaving(t *testing.T, cmd string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: a chapter runs in namespaces of its own")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	c, err := Parse("x.md", "<!-- walkthrough:setup\n"+cmd+" > /dev/null 2>&1 & echo $! > "+pidFile+"\n-->\n"+
		"<!-- walkthrough:run -->\n```console\n$ echo hi\n```\n<!-- walkthrough:end -->\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Runner{Binary: "/bin/true"}).Run(c); err != nil {
		t.Fatal(err)
	}
	if got := c.Blocks[0].Outputs; len(got) != 1 || got[0] != "hi" {
		t.Fatalf("outputs %q", got)
	}
	return pidFile
}

// assertEnded fails unless the process whose pid is in pidFile is gone.
func assertEnded(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Gone, or a zombie its new parent has yet to reap.
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) == 0 || f[0] != "Z" {
			t.Fatalf("the chapter's sleep (pid %d) still runs: %s", pid, stat)
		}
	}
}
