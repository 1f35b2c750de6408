package cgroups

import (
	"os"
	"path/filepath"
	"testing"
)

// This machine's mountinfo, plus a combined cpu,cpuacct mount and an
// escaped space, as other hosts have.
const mountinfo = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 30 0:35 / /sys/fs/cgroup/my\040pids rw,relatime shared:5 - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 30 0:38 / /mnt/other rw,relatime - cgroup cgroup rw,cpu
`

func TestReadMountinfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(p, []byte(mountinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts, unified, err := readMountinfo(p)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[string]string{
		"cpu":     "/sys/fs/cgroup/cpu", // the first mount wins
		"cpuacct": "/sys/fs/cgroup/cpuacct",
		"memory":  "/sys/fs/cgroup/memory",
		"pids":    "/sys/fs/cgroup/my pids",
	} {
		if mounts[c] != want {
			t.Errorf("%s mounted at %q, want %q", c, mounts[c], want)
		}
	}
	if unified != "/sys/fs/cgroup/unified" {
		t.Errorf("unified = %q", unified)
	}
}

// On this (or any) machine, detection must find a usable hierarchy.
func TestDetectHostHere(t *testing.T) {
	h, err := DetectHost()
	if err != nil {
		t.Skipf("no cgroups here: %v", err)
	}
	t.Logf("%v, mounts %v, unified %q", h.Mode, h.Mounts, h.Unified)
	if h.Mode == V1 && len(h.Mounts) == 0 {
		t.Errorf("v1 host with no controllers found")
	}
}
