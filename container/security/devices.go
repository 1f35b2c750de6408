package security

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	devconfig "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"
)

// DeviceRule is one device cgroup rule (type a/c/b, major, minor, -1 for
// "*", permissions from "rwm", allow or deny): runc's own type, so that
// its cgroup v2 program generator takes it as it is.
type DeviceRule = devconfig.Rule

// Device is a device node to create in the container, with its rule.
type Device = devconfig.Device

func devRule(t devconfig.Type, major, minor int64, perms string, allow bool) *DeviceRule {
	return &DeviceRule{Type: t, Major: major, Minor: minor, Permissions: devconfig.Permissions(perms), Allow: allow}
}

const wild = devconfig.Wildcard

// DefaultDeviceRules is docker's device cgroup, in the order it reaches the
// kernel: moby's DefaultLinuxSpec rules (deny all; allow zero, null,
// urandom, random, tty, console; deny fuse), then runc's AllowedDevices
// appended (mknod of any char or block node; null, random, full, tty,
// zero, urandom; the pts, ptmx and tun nodes). The resulting list is
// docker's devices.list.
func DefaultDeviceRules() []*DeviceRule {
	c, b := devconfig.CharDevice, devconfig.BlockDevice
	return []*DeviceRule{
		// moby daemon/pkg/oci/defaults.go
		devRule('a', wild, wild, "rwm", false),
		devRule(c, 1, 5, "rwm", true),
		devRule(c, 1, 3, "rwm", true),
		devRule(c, 1, 9, "rwm", true),
		devRule(c, 1, 8, "rwm", true),
		devRule(c, 5, 0, "rwm", true),
		devRule(c, 5, 1, "rwm", true),
		devRule(c, 10, 229, "rwm", false),
		// runc libcontainer/specconv AllowedDevices
		devRule(c, wild, wild, "m", true),
		devRule(b, wild, wild, "m", true),
		devRule(c, 1, 3, "rwm", true),
		devRule(c, 1, 8, "rwm", true),
		devRule(c, 1, 7, "rwm", true),
		devRule(c, 5, 0, "rwm", true),
		devRule(c, 1, 5, "rwm", true),
		devRule(c, 1, 9, "rwm", true),
		devRule(c, 136, wild, "rwm", true),
		devRule(c, 5, 2, "rwm", true),
		devRule(c, 10, 200, "rwm", true),
	}
}

// PrivilegedDeviceRules is --privileged: every device.
func PrivilegedDeviceRules() []*DeviceRule {
	return []*DeviceRule{devRule('a', wild, wild, "rwm", true)}
}

// V1Write is one write to a cgroup v1 devices controller file.
type V1Write struct {
	File string `json:"file"` // "devices.deny" or "devices.allow"
	Line string `json:"line"` // "a", "c 1:3 rwm"
}

// Command is the shell equivalent, for narration (dir is the cgroup).
func (w V1Write) Command(dir string) string {
	return fmt.Sprintf("echo '%s' > %s", w.Line, filepath.Join(dir, w.File))
}

// V1Writes renders rules as the writes that set a v1 devices cgroup: a
// rule on "a *:*" is written as just "a" (everything), allows go to
// devices.allow and denies to devices.deny, in order.
func V1Writes(rules []*DeviceRule) []V1Write {
	var ws []V1Write
	for _, r := range rules {
		line := r.CgroupString()
		if r.Type == 'a' && r.Major == wild && r.Minor == wild {
			line = "a"
		}
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		ws = append(ws, V1Write{file, line})
	}
	return ws
}

// DeviceEntry is one line of devices.list.
type DeviceEntry struct {
	Type         rune
	Major, Minor int64 // -1 for *
	Perms        string
}

func (e DeviceEntry) String() string {
	n := func(v int64) string {
		if v == wild {
			return "*"
		}
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", e.Type, n(e.Major), n(e.Minor), e.Perms)
}

// ParseDevicesList reads a v1 devices.list ("c 1:3 rwm" a line).
func ParseDevicesList(r io.Reader) ([]DeviceEntry, error) {
	var out []DeviceEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || len(f[0]) != 1 || !strings.ContainsRune("abc", rune(f[0][0])) {
			return nil, fmt.Errorf("devices.list: bad line %q", line)
		}
		maj, min, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("devices.list: bad line %q", line)
		}
		e := DeviceEntry{Type: rune(f[0][0]), Perms: f[2]}
		var err error
		if e.Major, err = parseDevNum(maj); err != nil {
			return nil, fmt.Errorf("devices.list: bad line %q", line)
		}
		if e.Minor, err = parseDevNum(min); err != nil {
			return nil, fmt.Errorf("devices.list: bad line %q", line)
		}
		for _, p := range e.Perms {
			if !strings.ContainsRune("rwm", p) {
				return nil, fmt.Errorf("devices.list: bad line %q", line)
			}
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

func parseDevNum(s string) (int64, error) {
	if s == "*" {
		return wild, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// ExpectedDevicesList is what devices.list shows after V1Writes(rules) on a
// fresh cgroup, for a list that starts by denying everything: each allowed
// type:major:minor once, with its permissions merged, less exact denies.
// It returns an error for lists that do not start from "deny all", whose
// outcome depends on the parent's.
func ExpectedDevicesList(rules []*DeviceRule) ([]DeviceEntry, error) {
	if len(rules) == 0 || rules[0].Type != 'a' || rules[0].Allow {
		if len(rules) == 1 && rules[0].Type == 'a' && rules[0].Allow {
			return []DeviceEntry{{'a', wild, wild, "rwm"}}, nil
		}
		return nil, errors.New("device rules must start by denying everything")
	}
	var out []DeviceEntry
	for _, r := range rules[1:] {
		i := -1
		for j, e := range out {
			if e.Type == rune(r.Type) && e.Major == r.Major && e.Minor == r.Minor {
				i = j
			}
		}
		switch {
		case r.Allow && i >= 0:
			out[i].Perms = string(devconfig.Permissions(out[i].Perms).Union(r.Permissions))
		case r.Allow:
			out = append(out, DeviceEntry{rune(r.Type), r.Major, r.Minor, string(r.Permissions)})
		case i >= 0:
			p := devconfig.Permissions(out[i].Perms).Difference(r.Permissions)
			if p.IsEmpty() {
				out = append(out[:i], out[i+1:]...)
			} else {
				out[i].Perms = string(p)
			}
		}
	}
	return out, nil
}

// SameDevicesList compares two lists as sets (the kernel's order is its own).
func SameDevicesList(a, b []DeviceEntry) bool {
	norm := func(l []DeviceEntry) map[string]bool {
		m := map[string]bool{}
		for _, e := range l {
			p := devconfig.Permissions(e.Perms).Union("") // canonical order
			e.Perms = string(p)
			m[e.String()] = true
		}
		return m
	}
	ma, mb := norm(a), norm(b)
	if len(ma) != len(mb) {
		return false
	}
	for k := range ma {
		if !mb[k] {
			return false
		}
	}
	return true
}

// ParseDevice reads docker's --device HOST[:CONTAINER][:PERMISSIONS] (PERMISSIONS
// from "rwm", default "rwm"; CONTAINER defaults to HOST) and stats the host
// node: a device gives one node, a directory every device node under it (as
// docker does); anything else is an error that names the path.
func ParseDevice(spec string) ([]*Device, error) {
	var src, dst string
	perms := "rwm"
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 3:
		if !validDeviceMode(parts[2]) {
			return nil, fmt.Errorf("invalid device mode %q in --device %s", parts[2], spec)
		}
		perms = parts[2]
		fallthrough
	case 2:
		if validDeviceMode(parts[1]) && len(parts) == 2 {
			perms = parts[1]
		} else {
			dst = parts[1]
		}
		fallthrough
	case 1:
		src = parts[0]
	default:
		return nil, fmt.Errorf("invalid --device %s: want HOST[:CONTAINER][:rwm]", spec)
	}
	if dst == "" {
		dst = src
	}
	if !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
		return nil, fmt.Errorf("invalid --device %s: paths must be absolute", spec)
	}
	resolved, err := filepath.EvalSymlinks(src)
	if err != nil {
		return nil, fmt.Errorf("--device %s: %s: %w", spec, src, unwrapPathErr(err))
	}
	d, err := deviceFromPath(resolved, dst, perms)
	if err == nil {
		return []*Device{d}, nil
	}
	st, serr := os.Stat(resolved)
	if serr != nil || !st.IsDir() {
		return nil, fmt.Errorf("--device %s: %w", spec, err)
	}
	var devs []*Device
	_ = filepath.WalkDir(resolved, func(p string, _ fs.DirEntry, _ error) error {
		if d, err := deviceFromPath(p, filepath.Join(dst, strings.TrimPrefix(p, resolved)), perms); err == nil {
			devs = append(devs, d)
		}
		return nil
	})
	if len(devs) == 0 {
		return nil, fmt.Errorf("--device %s: no device nodes under %s", spec, src)
	}
	return devs, nil
}

func validDeviceMode(m string) bool {
	if m == "" || len(m) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range m {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

func deviceFromPath(host, ctr, perms string) (*Device, error) {
	var st unix.Stat_t
	if err := unix.Lstat(host, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	var t devconfig.Type
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		t = devconfig.CharDevice
	case unix.S_IFBLK:
		t = devconfig.BlockDevice
	default:
		return nil, fmt.Errorf("%s is not a device node", host)
	}
	return &Device{
		Rule: DeviceRule{Type: t, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
			Permissions: devconfig.Permissions(perms), Allow: true},
		Path:     ctr,
		FileMode: os.FileMode(st.Mode &^ unix.S_IFMT),
		Uid:      st.Uid,
		Gid:      st.Gid,
	}, nil
}
