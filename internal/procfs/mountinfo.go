package procfs

import (
	"os"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo:
//
//	36 30 0:33 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory
//
// (id, parent, device, root, mount point, options, optional fields, "-",
// type, source, super options). Paths are as the process sees them,
// relative to its root.
type Mount struct {
	Root, Point  string // the mounted filesystem's directory shown, and where
	Options      string // per mount: "rw,relatime"
	FSType       string
	Source       string
	SuperOptions string // per filesystem: "rw,memory"
}

// ParseMountinfo parses mountinfo text, in its order; lines it cannot read
// are left out.
func ParseMountinfo(data string) []Mount {
	var out []Mount
	for _, line := range strings.Split(data, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 6 || len(g) < 3 {
			continue
		}
		out = append(out, Mount{Root: unescape(f[3]), Point: unescape(f[4]), Options: f[5],
			FSType: g[0], Source: unescape(g[1]), SuperOptions: g[2]})
	}
	return out
}

// Mounts reads the mounts of the mount namespace of pid (0: this process's).
func Mounts(pid int) ([]Mount, error) {
	p := "/proc/self/mountinfo"
	if pid != 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/mountinfo"
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(data)), nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
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
