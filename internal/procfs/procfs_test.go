package procfs

import (
	"os"
	"os/exec"
	"testing"
)

func TestAliveTellsAReusedPid(t *testing.T) {
	start, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(os.Getpid(), start) {
		t.Error("this process is not alive")
	}
	if Alive(os.Getpid(), start+1) {
		t.Error("another start time counts as the same process")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid, start) {
		t.Error("an exited process is alive")
	}
	if _, _, err := Stat(0); err == nil {
		t.Error("pid 0 has a stat")
	}
}

func TestParseMountinfo(t *testing.T) {
	ms := ParseMountinfo("36 30 0:33 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory\n" +
		"40 30 0:35 /x /mnt/a\\040b rw - tmpfs my\\040tmp rw,size=1k\nbroken line\n")
	if len(ms) != 2 {
		t.Fatalf("parsed %d mounts: %+v", len(ms), ms)
	}
	if m := ms[0]; m.Point != "/sys/fs/cgroup/memory" || m.FSType != "cgroup" || m.SuperOptions != "rw,memory" || m.Options != "rw,relatime" {
		t.Errorf("first: %+v", m)
	}
	if m := ms[1]; m.Point != "/mnt/a b" || m.Root != "/x" || m.Source != "my tmp" {
		t.Errorf("escapes: %+v", m)
	}
}
