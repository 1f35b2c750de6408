package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
)

// DefaultRoot is where the host mounts its cgroup filesystems.
const DefaultRoot = "/sys/fs/cgroup"

// Parent is the cgroup every container's cgroup lives under, in each
// hierarchy: <mount>/mydocker/<id>. It is part of the on-disk API (users look
// for it, and the tests check that nothing is left under it).
const Parent = "mydocker"

// ErrNotExist is returned when a container's cgroup is not there (already
// destroyed, or never created).
var ErrNotExist = errors.New("cgroup does not exist")

// Mode is the kind of cgroup hierarchy a Manager drives.
type Mode int

const (
	// V1 drives one hierarchy per controller (cpu, memory, ...); this is also
	// what a hybrid host (v1 controllers plus an empty cgroup2) gets.
	V1 Mode = 1
	// V2 drives the unified hierarchy.
	V2 Mode = 2
)

// String names the mode as users know it.
func (m Mode) String() string {
	if m == V2 {
		return "cgroup v2"
	}
	return "cgroup v1"
}

// v1Controllers are the hierarchies a container joins on v1. The first five
// carry our limits and stats; freezer and devices are joined when mounted so
// that the container's cgroup path is the same in every hierarchy that
// tools like `systemd-cgls` or a later `pause` would look at.
var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices"}

// v2Controllers are the controllers a container needs enabled in its
// parents' cgroup.subtree_control on v2.
var v2Controllers = []string{"cpu", "cpuset", "memory", "pids"}

// New returns the Manager of container id's cgroup on this host, choosing
// v1 or v2 by what is mounted at /sys/fs/cgroup. Nothing is created until
// Apply or Set, so New is also how an existing container's cgroup is loaded
// (for stats, stop and rm).
func New(id string, k kernel.Kernel) (Manager, error) {
	h, err := DetectHost()
	if err != nil {
		return nil, err
	}
	return h.Manager(id, k)
}

// Load is New for a container that already has its cgroup.
func Load(id string, k kernel.Kernel) (Manager, error) { return New(id, k) }

// NewAt returns a Manager on a directory laid out like a cgroup mount, for
// tests against a fake tree: if root has a cgroup.controllers file it is a
// cgroup2 mount, otherwise each subdirectory named like a controller
// (root/memory, root/cpu, ...) stands for that controller's v1 mount.
func NewAt(root, id string, k kernel.Kernel) (Manager, error) {
	h := &Host{Mode: V1, Mounts: map[string]string{}}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		h.Mode, h.Unified = V2, root
	} else {
		for _, c := range v1Controllers {
			if fi, err := os.Stat(filepath.Join(root, c)); err == nil && fi.IsDir() {
				h.Mounts[c] = filepath.Join(root, c)
			}
		}
	}
	return h.Manager(id, k)
}

// Host is what DetectHost found: the mode and where the hierarchies are.
type Host struct {
	Mode    Mode
	Mounts  map[string]string // v1: controller name -> mount point
	Unified string            // v2: the cgroup2 mount point
	// Parent is the directory the containers' cgroups go in, in each
	// hierarchy; "" means the default, mydocker. Tests use their own.
	Parent string
}

// Manager returns container id's Manager on this host.
func (h *Host) Manager(id string, k kernel.Kernel) (Manager, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	parent := h.Parent
	if parent == "" {
		parent = Parent
	}
	if err := validID(parent); err != nil {
		return nil, err
	}
	if h.Mode == V2 {
		return newV2(h.Unified, parent, id, k), nil
	}
	if len(h.Mounts) == 0 {
		return nil, errors.New("no cgroup v1 controller is mounted and no cgroup2 hierarchy has controllers")
	}
	return newV1(h.Mounts, parent, id, k), nil
}

// validID keeps the id a single path element, so it can never climb out of
// mydocker/ in a path.
func validID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return fmt.Errorf("invalid cgroup name %q", id)
	}
	return nil
}

// DetectHost looks at /sys/fs/cgroup. A cgroup2 filesystem there is a pure
// v2 host. Anything else (normally a tmpfs of per-controller mounts) is v1 or
// hybrid; hybrid hosts keep their controllers in v1 (the cgroup2 at
// /sys/fs/cgroup/unified has at most a leftover like hugetlb), so they are
// driven as v1. Mount points come from /proc/self/mountinfo, never assumed.
func DetectHost() (*Host, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(DefaultRoot, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", DefaultRoot, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return &Host{Mode: V2, Unified: DefaultRoot}, nil
	}
	mounts, unified, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	h := &Host{Mode: V1, Mounts: map[string]string{}}
	for _, c := range v1Controllers {
		if p, ok := mounts[c]; ok {
			h.Mounts[c] = p
		}
	}
	// A tmpfs with no v1 controllers but a cgroup2 mount holding the
	// controllers is a v2 host with an unusual layout: use the cgroup2.
	if _, ok := h.Mounts["memory"]; !ok && unified != "" {
		if b, err := os.ReadFile(filepath.Join(unified, "cgroup.controllers")); err == nil && strings.Contains(string(b), "memory") {
			return &Host{Mode: V2, Unified: unified}, nil
		}
	}
	return h, nil
}

// readMountinfo returns the v1 controller mounts (controller -> mount point)
// and the first cgroup2 mount point. Each line reads
//
//	36 30 0:33 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
//
// with the controllers in the super options after the " - " separator.
func readMountinfo(path string) (map[string]string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	mounts := map[string]string{}
	unified := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		mnt := unescapeMount(pf[4])
		switch qf[0] {
		case "cgroup2":
			if unified == "" {
				unified = mnt
			}
		case "cgroup":
			for _, opt := range strings.Split(qf[2], ",") {
				if _, seen := mounts[opt]; !seen {
					mounts[opt] = mnt
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	return mounts, unified, nil
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
