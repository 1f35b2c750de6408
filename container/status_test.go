package container

import (
	"os"
	"strings"
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

func TestMountArgs(t *testing.T) {
	cases := []struct {
		src, target, fstype string
		flags               uintptr
		data, want          string
	}{
		{"", "/", "", 1<<14 | 1<<18, "", "mount --make-rprivate /"},
		{"overlay", "/m", "overlay", 0, "lowerdir=/l", "mount -t overlay -o lowerdir=/l overlay /m"},
		{"/h", "/c", "", 4096 | 16384, "", "mount --rbind /h /c"},
		{"", "/c", "", 4096 | 32 | 1, "", "mount -o remount,ro,bind /c"},
		{"proc", "/p", "proc", 2 | 4 | 8, "", "mount -t proc -o nosuid,nodev,noexec proc /p"},
	}
	for _, c := range cases {
		got := strings.Join(mountArgs(c.src, c.target, c.fstype, c.flags, c.data), " ")
		if got != c.want {
			t.Errorf("mountArgs(%q,%q) = %q, want %q", c.src, c.target, got, c.want)
		}
	}
}
