package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// v1Controllers are the v1 hierarchies whose controllers carry our limits
// and stats (and freezer, devices), in the order the narration shows them.
// A container joins every other mounted v1 hierarchy too (blkio, net_cls,
// perf_event, hugetlb, the named name=systemd, ...) and, on a hybrid host,
// the unified one: with a cgroup of its own everywhere, its cgroup
// namespace shows none of the host's cgroups.
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
// cgroup2 mount; otherwise each subdirectory stands for a v1 hierarchy
// named like it (root/memory, root/cpu, root/name=systemd, ...), except one
// holding a cgroup.controllers file: a hybrid host's cgroup2 (root/unified).
func NewAt(root, id string, k kernel.Kernel) (Manager, error) {
	h := &Host{Mode: V1, Mounts: map[string]string{}}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		h.Mode, h.Unified = V2, root
		return h.Manager(id, k)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "cgroup.controllers")); err == nil {
			h.Unified = dir
			continue
		}
		h.Mounts[e.Name()] = dir
	}
	return h.Manager(id, k)
}

// Host is what DetectHost found: the mode and where the hierarchies are.
type Host struct {
	Mode Mode
	// Mounts maps each mounted v1 hierarchy to its mount point, under each
	// name it has: its controllers ("cpu", "memory", ...) and "name=NAME"
	// for a named one. Empty on a v2 host.
	Mounts map[string]string
	// Unified is the cgroup2 mount point: the hierarchy of a v2 host, or
	// on a hybrid (v1) host the cgroup2 beside the v1 hierarchies, where
	// the container gets a cgroup of its own too ("" when there is none).
	Unified string
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
		m := newV2(h.Unified, parent, id, k)
		m.about = h.About()
		return m, nil
	}
	if len(h.Mounts) == 0 {
		return nil, errors.New("no cgroup v1 controller is mounted and no cgroup2 hierarchy has controllers")
	}
	m := newV1(h.Mounts, h.Unified, parent, id, k)
	m.about = h.About()
	return m, nil
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
// driven as v1, with the cgroup2 as one more hierarchy to be in. Mount
// points come from /proc/self/mountinfo, never assumed.
func DetectHost() (*Host, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(DefaultRoot, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", DefaultRoot, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return &Host{Mode: V2, Unified: DefaultRoot}, nil
	}
	mounts, err := ReadMounts()
	if err != nil {
		return nil, err
	}
	h := hostOf(mounts)
	// A tmpfs with no v1 controllers but a cgroup2 mount holding the
	// controllers is a v2 host with an unusual layout: use the cgroup2.
	if _, ok := h.Mounts["memory"]; !ok && h.Unified != "" {
		if b, err := os.ReadFile(filepath.Join(h.Unified, "cgroup.controllers")); err == nil && strings.Contains(string(b), "memory") {
			return &Host{Mode: V2, Unified: h.Unified}, nil
		}
	}
	return h, nil
}

// hostOf is the v1 (or hybrid) host of these mounts: every v1 hierarchy
// under each of its names, and the first cgroup2 mount. A hierarchy
// mounted twice counts at its first mount.
func hostOf(mounts []Mount) *Host {
	h := &Host{Mode: V1, Mounts: map[string]string{}}
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			if h.Unified == "" {
				h.Unified = m.Point
			}
			continue
		}
		for _, n := range m.Names() {
			if _, seen := h.Mounts[n]; !seen {
				h.Mounts[n] = m.Point
			}
		}
	}
	return h
}
