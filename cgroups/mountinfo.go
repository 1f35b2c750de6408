package cgroups

import (
	"fmt"
	"os"
	"strings"

	"github.com/mydocker/mydocker/internal/procfs"
)

// Mount is one cgroup (v1) or cgroup2 mount of /proc/self/mountinfo.
type Mount struct {
	// Root is the cgroup the mount shows as its top ("/" unless a cgroup
	// namespace or a bind mount of a sub-cgroup), Point where it is.
	Root, Point string
	FSType      string   // "cgroup" or "cgroup2"
	Options     []string // super options: "rw", "memory", "xattr", "name=systemd", ...
}

// ParseMountinfo returns the cgroup and cgroup2 mounts of a mountinfo
// file's text, in its order. Each line reads
//
//	36 30 0:33 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory
//
// (id, parent, device, root, mount point, options, optional fields, "-",
// type, source, super options); the controllers of a v1 hierarchy are among
// the super options.
func ParseMountinfo(data string) []Mount {
	var out []Mount
	for _, m := range procfs.ParseMountinfo(data) {
		if m.FSType == "cgroup" || m.FSType == "cgroup2" {
			out = append(out, Mount{Root: m.Root, Point: m.Point, FSType: m.FSType, Options: strings.Split(m.SuperOptions, ",")})
		}
	}
	return out
}

// ReadMounts reads the cgroup mounts of this process's mount namespace.
func ReadMounts() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	return ParseMountinfo(string(b)), nil
}

// mountFlags are the super options of a v1 cgroup mount that are not the
// name of what it holds.
var mountFlags = map[string]bool{
	"rw": true, "ro": true, "noprefix": true, "xattr": true, "clone_children": true,
	"cpuset_v2_mode": true, "favordynmods": true, "nofavordynmods": true,
}

// Names are what a v1 mount's hierarchy holds, as /proc/PID/cgroup names
// them: its controllers ("cpu", "cpuacct") and, for a named hierarchy,
// "name=NAME" (systemd's is name=systemd). A cgroup2 mount has none.
func (m Mount) Names() []string {
	if m.FSType != "cgroup" {
		return nil
	}
	var out []string
	for _, o := range m.Options {
		if o == "" || mountFlags[o] || (strings.Contains(o, "=") && !strings.HasPrefix(o, "name=")) {
			continue // a flag, or release_agent=PATH
		}
		out = append(out, o)
	}
	return out
}
