package reaper

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary is the reaper when asked: a child subreaper, so that
// the orphans of its command come to it as they come to a pid 1.
func TestMain(m *testing.M) {
	if os.Getenv("REAPER_TEST") == "1" {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func reaper(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"--"}, args...)...)
	cmd.Env = append(os.Environ(), "REAPER_TEST=1")
	return cmd
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "kill -KILL $$"}, 128 + 9},
		{[]string{"no-such-command-here"}, 127},
		{[]string{"sh", "-c", "(sleep 0.2 &); exit 5"}, 5}, // an orphan left behind
	} {
		cmd := reaper(tc.args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if got := exitCode(t, cmd); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.args, got, tc.want)
		}
	}
}

// SIGTERM to the reaper reaches the command, which handles it; the
// orphan the command made meanwhile is reaped, not left a zombie.
func TestForwardsAndReaps(t *testing.T) {
	r, w, _ := os.Pipe()
	cmd := reaper("sh", "-c", `trap "exit 9" TERM; (sleep 0.1 &); echo ready; while :; do sleep 0.05; done`)
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	buf := make([]byte, 6)
	if _, err := r.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the command did not start: %q %v", buf, err)
	}
	time.Sleep(400 * time.Millisecond) // the orphan has exited
	if z := zombieChildren(cmd.Process.Pid); z > 0 {
		t.Errorf("%d zombie children of the reaper", z)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if got := exitCode(t, cmd); got != 9 {
		t.Errorf("after SIGTERM: exit %d, want 9 (the command's trap)", got)
	}
}

// zombieChildren counts the zombies whose parent is pid.
func zombieChildren(pid int) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := strings.LastIndexByte(string(stat), ')')
		if err != nil || i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:])) // state, ppid, ...
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			n++
		}
	}
	return n
}
