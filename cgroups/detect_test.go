package cgroups

import (
	"reflect"
	"testing"
)

// This machine's mountinfo (a hybrid host: v1 hierarchies, one named, and an
// empty cgroup2), plus what other hosts have: a second mount of a hierarchy,
// an escaped space, controllers mounted together, release_agent= options.
const mountinfo = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 30 0:35 / /sys/fs/cgroup/my\040pids rw,relatime shared:5 - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 30 0:38 / /mnt/other rw,relatime - cgroup cgroup rw,cpu
42 30 0:39 / /sys/fs/cgroup/blkio rw,nosuid,relatime - cgroup cgroup rw,blkio
43 30 0:40 / /sys/fs/cgroup/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio
44 30 0:41 / /sys/fs/cgroup/perf_event rw,relatime - cgroup cgroup rw,perf_event,release_agent=/x
45 30 0:42 / /mnt/second-cgroup2 rw,relatime - cgroup2 cgroup2 rw
`

func TestHostOfMountinfo(t *testing.T) {
	h := hostOf(ParseMountinfo(mountinfo))
	want := map[string]string{
		"cpu":          "/sys/fs/cgroup/cpu", // the first mount wins
		"cpuacct":      "/sys/fs/cgroup/cpuacct",
		"memory":       "/sys/fs/cgroup/memory",
		"pids":         "/sys/fs/cgroup/my pids",
		"blkio":        "/sys/fs/cgroup/blkio",
		"net_cls":      "/sys/fs/cgroup/net_cls,net_prio",
		"net_prio":     "/sys/fs/cgroup/net_cls,net_prio",
		"name=systemd": "/sys/fs/cgroup/systemd",    // a named hierarchy; xattr is a flag
		"perf_event":   "/sys/fs/cgroup/perf_event", // release_agent= is not a name
	}
	if !reflect.DeepEqual(h.Mounts, want) {
		t.Errorf("mounts:\n got %v\nwant %v", h.Mounts, want)
	}
	if h.Mode != V1 || h.Unified != "/sys/fs/cgroup/unified" {
		t.Errorf("mode %v, unified %q: want v1 with the hybrid cgroup2 at /sys/fs/cgroup/unified", h.Mode, h.Unified)
	}
	m, err := h.Manager("c", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Once each, in order: the limits' controllers, the others, the cgroup2.
	sameLines(t, "the container's directories", m.(*v1).dirs(), []string{
		"/sys/fs/cgroup/cpu/mydocker/c",
		"/sys/fs/cgroup/cpuacct/mydocker/c",
		"/sys/fs/cgroup/memory/mydocker/c",
		"/sys/fs/cgroup/my pids/mydocker/c",
		"/sys/fs/cgroup/blkio/mydocker/c",
		"/sys/fs/cgroup/systemd/mydocker/c",
		"/sys/fs/cgroup/net_cls,net_prio/mydocker/c",
		"/sys/fs/cgroup/perf_event/mydocker/c",
		"/sys/fs/cgroup/unified/mydocker/c",
	})
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
