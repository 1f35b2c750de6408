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

func TestParseNetDev(t *testing.T) {
	data := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    2048      20    0    0    0     0          0         0      648       6    0    0    0     0       0          0
  eth1:      52       1    0    0    0     0          0         0        0       0    0    0    0     0       0          0
`
	if rx, tx := ParseNetDev(data); rx != 2100 || tx != 648 {
		t.Errorf("ParseNetDev: rx %d tx %d, want 2100 and 648 (lo left out)", rx, tx)
	}
}
