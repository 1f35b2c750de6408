package container

import (
	"os"
	"testing"
	"time"
)

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func TestProcessAlive(t *testing.T) {
	me := os.Getpid()
	start := pidStart(me)
	if start == 0 || !processAlive(me, start) {
		t.Fatalf("this process is not seen alive (start %d)", start)
	}
	if processAlive(me, start+1) {
		t.Fatal("a different start time (a reused pid) is seen alive")
	}
	if processAlive(0, 0) || processAlive(1<<30, 0) {
		t.Fatal("a missing pid is seen alive")
	}
}

func TestStatusText(t *testing.T) {
	now := time.Now()
	c := &Config{Status: StatusExited, ExitCode: 137, Finished: now.Add(-2 * time.Minute)}
	if got := c.StatusText(now); got != "Exited (137) 2 minutes ago" {
		t.Errorf("StatusText = %q", got)
	}
	c = &Config{Status: StatusRunning, Pid: os.Getpid(), PidStart: pidStart(os.Getpid()), Started: now.Add(-3 * time.Second)}
	if got := c.StatusText(now); got != "Up 3 seconds" {
		t.Errorf("StatusText = %q", got)
	}
	c.PidStart++ // the recorded process is gone
	if got := c.StatusText(now); got != "Exited (unknown)" || c.IsRunning() {
		t.Errorf("StatusText of a dead container = %q", got)
	}
}
