package cgroups

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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
	for _, line := range strings.Split(data, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		out = append(out, Mount{Root: unescapeMount(f[3]), Point: unescapeMount(f[4]), FSType: g[0], Options: strings.Split(g[2], ",")})
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

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
