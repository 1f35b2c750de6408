package container

// What a container may not do (issue 11), as docker does it: the steps of
// the init that confine the container, built from the security.Config
// that newConfig resolved before anything existed. The pure logic
// (capabilities, the seccomp profile, the path lists, users, device rules)
// is container/security's; this file turns it into kernel ops.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// tmpfsMount is one --tmpfs PATH[:OPTIONS], its options split into mount
// flags and the tmpfs's own data.
type tmpfsMount struct {
	Path    string
	Options string // as given ("" for docker's defaults)
	Flags   uintptr
	Data    string
}

// tmpfsDefaults are --tmpfs's options when none are given; given ones
// replace the defaults they contradict (exec for noexec, size= for size=).
const tmpfsDefaults = "rw,noexec,nosuid,nodev,size=65536k"

// parseTmpfs reads --tmpfs PATH[:OPTIONS].
func parseTmpfs(spec string) (tmpfsMount, error) {
	path, opts, _ := strings.Cut(spec, ":")
	t := tmpfsMount{Path: filepath.Clean(path), Options: opts}
	if !filepath.IsAbs(path) {
		return t, fmt.Errorf("invalid --tmpfs %q: the path must be absolute", spec)
	}
	if t.Path == "/" {
		return t, fmt.Errorf("invalid --tmpfs %q: cannot mount over the container's root", spec)
	}
	flagBits := map[string]struct {
		bit uintptr
		set bool
	}{
		"ro": {unix.MS_RDONLY, true}, "rw": {unix.MS_RDONLY, false},
		"noexec": {unix.MS_NOEXEC, true}, "exec": {unix.MS_NOEXEC, false},
		"nosuid": {unix.MS_NOSUID, true}, "suid": {unix.MS_NOSUID, false},
		"nodev": {unix.MS_NODEV, true}, "dev": {unix.MS_NODEV, false},
	}
	var keys []string
	data := map[string]string{}
	for _, o := range strings.Split(tmpfsDefaults+","+opts, ",") {
		if o == "" {
			continue
		}
		if f, ok := flagBits[o]; ok {
			if f.set {
				t.Flags |= f.bit
			} else {
				t.Flags &^= f.bit
			}
			continue
		}
		k, _, _ := strings.Cut(o, "=")
		switch k {
		case "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "huge", "mpol":
		default:
			return t, fmt.Errorf("invalid --tmpfs %q: unknown option %q", spec, o)
		}
		if _, seen := data[k]; !seen {
			keys = append(keys, k)
		}
		data[k] = o
	}
	var d []string
	for _, k := range keys {
		d = append(d, data[k])
	}
	t.Data = strings.Join(d, ",")
	return t, nil
}

// resolveSecurity checks run's containment flags and resolves them, the
// user looked up in the image at rootfs: every error is one line, and
// nothing exists yet.
func (r *Runtime) resolveSecurity(o RunOptions, rootfs string) (*security.Config, map[string]string, error) {
	tmpfs := map[string]string{}
	for _, spec := range o.Tmpfs {
		t, err := parseTmpfs(spec)
		if err != nil {
			return nil, nil, err
		}
		tmpfs[t.Path] = t.Options
	}
	env, err := security.HostCapEnv()
	if err != nil {
		return nil, nil, err
	}
	// Compiled filters are cached under the data root, once a real run
	// has made it (a cache, not state: a dry run may read it).
	cache := ""
	if _, err := os.Stat(r.Paths.DataRoot); err == nil {
		cache = filepath.Join(r.Paths.DataRoot, "seccomp")
	}
	cfg, err := security.Resolve(security.Flags{
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, Privileged: o.Privileged, SecurityOpt: o.SecurityOpt,
		User: o.User, Devices: o.Devices,
	}, security.Options{Rootfs: rootfs, Env: env, SeccompCache: cache})
	if err != nil {
		return nil, nil, err
	}
	if len(tmpfs) == 0 {
		tmpfs = nil
	}
	return cfg, tmpfs, nil
}

// confineSpec fills the init's spec with the container's confinement, and
// what the init needs to know of the host for it.
func confineSpec(s *initSpec, c *Config) {
	s.Security, s.ReadOnly = c.Security, c.ReadonlyRootfs
	paths := make([]string, 0, len(c.Tmpfs))
	for p := range c.Tmpfs {
		paths = append(paths, p)
	}
	sort.Strings(paths) // a parent before what is inside it
	for _, p := range paths {
		t, _ := parseTmpfs(p + ":" + c.Tmpfs[p]) // checked by newConfig
		s.Tmpfs = append(s.Tmpfs, t)
	}
	if c.Security != nil && c.Security.Privileged {
		s.HostDevices = hostDevices()
	}
	s.Cgroups = hostCgroups()
}

func (s *initSpec) privileged() bool { return s.Security != nil && s.Security.Privileged }

// hostDevices are the host's device nodes as docker gives them to a
// privileged container: every character and block device under /dev,
// leaving out the directories of other instances (pts, shm, mqueue, ...)
// and the console.
func hostDevices() []*security.Device {
	var out []*security.Device
	skipDir := map[string]bool{"pts": true, "shm": true, "fd": true, "mqueue": true, ".lxc": true, ".lxd-mounts": true, ".udev": true}
	_ = filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if skipDir[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeDevice == 0 || p == "/dev/console" {
			return nil
		}
		if devs, err := security.ParseDevice(p); err == nil {
			out = append(out, devs...)
		}
		return nil
	})
	return out
}

// hierarchy is one of the host's cgroup hierarchies: its directory under
// /sys/fs/cgroup ("" for a unified-only host), its filesystem type and its
// options (the controllers).
type hierarchy struct {
	Dir     string
	FSType  string
	Options string
}

// hostCgroups lists the host's cgroup hierarchies mounted under
// /sys/fs/cgroup, from mydocker's own mountinfo.
func hostCgroups() []hierarchy {
	mounts, err := cgroups.ReadMounts()
	if err != nil {
		return nil
	}
	var out []hierarchy
	for _, m := range mounts {
		dir, ok := strings.CutPrefix(m.Point, "/sys/fs/cgroup")
		if !ok || strings.Count(dir, "/") > 1 || (dir != "" && dir[0] != '/') {
			continue
		}
		var opts []string
		for _, o := range m.Options {
			if o != "rw" && o != "ro" && m.FSType == "cgroup" {
				opts = append(opts, o)
			}
		}
		out = append(out, hierarchy{Dir: strings.TrimPrefix(dir, "/"), FSType: m.FSType, Options: strings.Join(opts, ",")})
	}
	return out
}

// tmpfsOps mount the --tmpfs scratch spaces, before the root may become
// read-only.
func tmpfsOps(in kernel.Where, merged string, s *initSpec) []kernel.Op {
	var ops []kernel.Op
	for _, t := range s.Tmpfs {
		target := filepath.Join(merged, t.Path)
		ops = append(ops,
			kernel.MountPoint{At: kernel.Here(), In: in, Path: target, Reason: "the mount point of the --tmpfs at " + t.Path},
			kernel.Mount{At: kernel.Here(), In: in, Source: "tmpfs", Target: target, FSType: "tmpfs", Flags: t.Flags, Data: t.Data,
				Reason: fmt.Sprintf("mount a tmpfs at %s (--tmpfs): scratch space in memory, gone with the container", t.Path)})
	}
	return ops
}

// deviceNodeOps make the --device nodes in the container's /dev (and, for
// a privileged container, the host's), after the usual ones. The cgroup's
// device rules decide whether they may be opened.
func deviceNodeOps(in kernel.Where, root string, s *initSpec) []kernel.Op {
	if s.Security == nil {
		return nil
	}
	made := map[string]bool{}
	for _, d := range devices {
		made["/dev/"+d.name] = true
	}
	for _, l := range devLinks {
		made["/dev/"+l.name] = true
	}
	var ops []kernel.Op
	dirs := map[string]bool{"/dev": true}
	add := func(d *security.Device, why string) {
		if made[d.Path] {
			return
		}
		made[d.Path] = true
		if dir := filepath.Dir(d.Path); !dirs[dir] {
			dirs[dir] = true
			ops = append(ops, kernel.MountPoint{At: kernel.Here(), In: in, Path: filepath.Join(root, dir), Reason: "the directory of " + d.Path})
		}
		ops = append(ops, kernel.DeviceNode{At: kernel.Here(), In: in, Path: filepath.Join(root, d.Path), Block: d.Type == 'b',
			Major: uint32(d.Major), Minor: uint32(d.Minor), Mode: d.FileMode, UID: d.Uid, GID: d.Gid, Reason: why})
	}
	for _, d := range s.Security.Devices {
		add(d, fmt.Sprintf("the --device node %s (the host's %c %d:%d)", d.Path, d.Type, d.Major, d.Minor))
	}
	for i, d := range s.HostDevices {
		why := ""
		if i == 0 {
			why = "give a privileged container every device node of the host's /dev, as docker does"
		}
		add(d, why)
	}
	return ops
}

// confinedPathOps hide and freeze what a container must not read or
// change, in its own view after pivot_root, as runc does (the read-only
// paths first, then the masked ones); then, with --read-only, the root.
// A privileged container keeps them all.
func confinedPathOps(s *initSpec) []kernel.Op {
	in := insideRoot(s.HostPid)
	var ops []kernel.Op
	if s.Security != nil && !s.privileged() {
		// The container's /proc and /sys have the host's entries: the
		// host's tell a file from a directory (and plan the same).
		rules := security.PathRules(s.Security.MaskedPaths, s.Security.ReadonlyPaths, nil)
		sort.SliceStable(rules, func(i, j int) bool { return rules[i].Kind == security.ReadOnly && rules[j].Kind != security.ReadOnly })
		const keep = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC // /proc's flags, kept by the remount
		for _, r := range rules {
			switch r.Kind {
			case security.ReadOnly:
				ops = append(ops,
					kernel.Mount{At: kernel.Here(), In: in, Source: r.Path, Target: r.Path, Flags: unix.MS_BIND | unix.MS_REC,
						Reason: fmt.Sprintf("make %s read-only, in two steps: bind it onto itself, a mount of its own", r.Path)},
					kernel.Mount{At: kernel.Here(), In: in, Target: r.Path, Flags: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | keep,
						Reason: "then remount that mount read-only: without CAP_SYS_ADMIN the container cannot undo it"})
			case security.MaskFile:
				ops = append(ops, kernel.Mount{At: kernel.Here(), In: in, Source: "/dev/null", Target: r.Path, Flags: unix.MS_BIND,
					Reason: fmt.Sprintf("mask %s: /dev/null bound over it, it reads empty", r.Path)})
			case security.MaskDir:
				ops = append(ops, kernel.Mount{At: kernel.Here(), In: in, Source: "tmpfs", Target: r.Path, FSType: "tmpfs", Flags: unix.MS_RDONLY,
					Reason: fmt.Sprintf("mask %s: an empty read-only tmpfs over it", r.Path)})
			}
		}
	}
	if s.ReadOnly {
		ops = append(ops, kernel.Mount{At: kernel.Here(), In: in, Target: "/", Flags: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY,
			Reason: "make the container's root read-only (--read-only): its volumes, --tmpfs and /etc files stay as they are"})
	}
	return ops
}

// insideRoot is where the steps after pivot_root run: the container's
// mount namespace, whose root is now the container's, so a shell's mount(8)
// is the image's (busybox's reads /proc/mounts), and its pid namespace, so
// that the container's /proc/self is there.
func insideRoot(pid int) kernel.Where { return kernel.Where{Pid: pid, NS: "-m -p"} }

// cgroupfsOps give the container, once in its cgroup namespace, a
// /sys/fs/cgroup that shows only its own cgroups, read-only, as docker's
// (cgroupns=private): a tmpfs with each of the host's hierarchies mounted
// in it, each rooted at the container's cgroup by the namespace.
func cgroupfsOps(s *initSpec) []kernel.Op {
	if len(s.Cgroups) == 0 {
		return nil
	}
	in := insideRoot(s.HostPid)
	const base = "/sys/fs/cgroup"
	const secure = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	ro, how := uintptr(unix.MS_RDONLY), "read-only"
	if s.privileged() {
		ro, how = 0, "read-write (--privileged)"
	}
	ops := []kernel.Op{kernel.Mount{At: kernel.Here(), In: in, Source: "tmpfs", Target: base, FSType: "tmpfs", Flags: secure, Data: "mode=755",
		Reason: "cover the host's /sys/fs/cgroup with a tmpfs: the container's cgroup hierarchies go in it"}}
	for _, m := range s.Cgroups {
		target := base
		if m.Dir != "" {
			target = base + "/" + m.Dir
			ops = append(ops, kernel.MountPoint{At: kernel.Here(), In: in, Path: target, Reason: "the mount point of the " + m.Dir + " hierarchy"})
		} else {
			ops = ops[:0] // the unified hierarchy is /sys/fs/cgroup itself
		}
		what := "the " + m.Options + " hierarchy"
		if m.FSType == "cgroup2" {
			what = "the unified (cgroup2) hierarchy"
		}
		ops = append(ops, kernel.Mount{At: kernel.Here(), In: in, Source: m.FSType, Target: target, FSType: m.FSType, Flags: secure | ro, Data: m.Options,
			Reason: fmt.Sprintf("mount %s %s: the cgroup namespace roots it at the container's own cgroup", what, how)})
		if strings.Contains(m.Dir, ",") { // cpu,cpuacct: cpu and cpuacct too, as on the host
			for _, name := range strings.Split(m.Dir, ",") {
				ops = append(ops, kernel.Symlink{At: kernel.Here(), In: in, Target: m.Dir, Path: base + "/" + name, Reason: name + " is " + m.Dir + ", as on the host"})
			}
		}
	}
	if s.Cgroups[0].Dir != "" && ro != 0 {
		ops = append(ops, kernel.Mount{At: kernel.Here(), In: in, Source: "tmpfs", Target: base, FSType: "tmpfs", Flags: unix.MS_REMOUNT | secure | ro, Data: "mode=755",
			Reason: "make that tmpfs read-only too: no new hierarchy can be mounted under it"})
	}
	return ops
}

// finalizeOps confine the init's own thread right before it execs the
// command, in security.Finalize's order (kernel.Finalize keeps it).
func finalizeOps(s *initSpec) []kernel.Op {
	c := s.Security
	if c == nil {
		return nil
	}
	return kernel.Finalize(s.HostPid, c, finalizeWhys(c))
}

// finalizeWhys are the why-lines of the process confinement of c.
func finalizeWhys(c *security.Config) map[string]string {
	whys := map[string]string{
		"nnp": "set no_new_privs (--security-opt no-new-privileges): no setuid program or file capability can raise the command's privileges",
	}
	switch {
	case c.Seccomp == nil || c.Seccomp.Unconfined:
		whys["seccomp"] = "load no seccomp filter (--privileged or seccomp=unconfined): every system call reaches the kernel"
	case c.Seccomp.Profile == "default":
		whys["seccomp"] = "filter the command's system calls with docker's default seccomp profile: those a container has no use for fail with EPERM"
	default:
		whys["seccomp"] = "filter the command's system calls with the seccomp profile " + c.Seccomp.Profile
	}
	n := len(c.Caps.Bounding)
	switch {
	case c.User.NonRoot():
		whys["privileges"] = fmt.Sprintf("run as uid %d, gid %d: no capabilities at all, as docker gives a non-root user; the bounding set keeps %d", c.User.UID, c.User.GID, n)
	case c.Privileged:
		whys["privileges"] = fmt.Sprintf("keep all %d capabilities (--privileged)", n)
	default:
		whys["privileges"] = fmt.Sprintf("cut the capabilities to the container's %d (bounding, permitted, effective): the others are gone for good", n)
	}
	return whys
}

// execSecurity is the confinement of an exec into container c: the
// container's own, with exec's -u resolved in the container's root (its
// /etc/passwd and /etc/group) and, with --privileged, every capability.
// Permitted and effective follow the user, as for run: none for a
// non-root user.
func execSecurity(c *Config, o ExecOptions) (*security.Config, error) {
	if c.Security == nil {
		return nil, nil
	}
	sec := *c.Security
	if o.User != "" {
		u, err := security.ResolveUser(fmt.Sprintf("/proc/%d/root", c.Pid), o.User)
		if err != nil {
			return nil, err
		}
		sec.User = u
	}
	bounding := sec.Caps.Bounding
	if o.Privileged {
		env, err := security.HostCapEnv()
		if err != nil {
			return nil, err
		}
		caps, err := security.ResolveCaps(env, nil, nil, true, sec.User.NonRoot())
		if err != nil {
			return nil, err
		}
		bounding = caps.Bounding
	}
	sec.Caps = security.Caps{Bounding: bounding, Permitted: []string{}, Effective: []string{}, Inheritable: []string{}, Ambient: []string{}}
	if !sec.User.NonRoot() {
		sec.Caps.Permitted = append([]string{}, bounding...)
		sec.Caps.Effective = append([]string{}, bounding...)
	}
	return &sec, nil
}

// execConfinementWhy says, for exec's why, what confinement the command
// gets ("" for a container that has none recorded).
func execConfinementWhy(sec *security.Config, o ExecOptions) string {
	switch {
	case sec == nil:
		return ""
	case o.Privileged:
		return ", with every capability (--privileged) and the container's seccomp filter"
	case o.User != "":
		return fmt.Sprintf(", as uid %d (-u) with the container's seccomp filter and bounding set", sec.User.UID)
	}
	return ", confined as the container is (its capabilities, seccomp filter and user)"
}
