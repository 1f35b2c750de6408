package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
)

// The ops a Manager hands its kernel: fs is nil on a real host, and a
// test's stand-in for cgroupfs on a t.TempDir().

func write(fs *kernel.CgroupFS, why, dir, file, value string) kernel.Op {
	return kernel.CgroupWrite{File: filepath.Join(dir, file), Value: value, Reason: why, FS: fs}
}

// cgroupObj names the cgroup at dir, for the kernel's Exists.
func cgroupObj(dir string) kernel.Object {
	return kernel.Object{Kind: "cgroup", Name: filepath.Clean(dir)}
}

func mkdir(fs *kernel.CgroupFS, why, dir string) kernel.Op {
	return kernel.CgroupMkdir{Path: dir, Reason: why, FS: fs}
}

// removeTree is the ops that remove a container's cgroup directory and any
// cgroups nested in it, deepest first (see kernel.CgroupRmdir for the
// wait for a just-killed task to leave). Gone already: no op.
func removeTree(k kernel.World, fs *kernel.CgroupFS, why, dir string, deadline time.Time) []kernel.Op {
	if has, _ := k.Exists(cgroupObj(dir)); !has {
		return nil
	}
	var ops []kernel.Op
	if hasSubdirs(dir) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if e.IsDir() {
				ops = append(ops, removeTree(k, fs, "remove a cgroup nested in the container's", filepath.Join(dir, e.Name()), deadline)...)
			}
		}
	}
	return append(ops, kernel.CgroupRmdir{Path: dir, Reason: why, Deadline: deadline, FS: fs})
}

// hasSubdirs says whether the cgroup dir may have cgroups under it: a
// directory's link count is 2 plus its subdirectories (kernfs keeps it so),
// and a stat is much cheaper than listing a cgroup's control files. True
// when it cannot tell.
func hasSubdirs(dir string) bool {
	var st unix.Stat_t
	return unix.Stat(dir, &st) != nil || st.Nlink != 2
}

// readString reads a cgroup file without its trailing newline (a missing
// file is an error matching os.ErrNotExist).
func readString(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// readUint reads a file holding one number; "max" (v2's "no limit") is 0.
func readUint(p string) (uint64, error) {
	s, err := readString(p)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", p, err)
	}
	return v, nil
}

// readKeyed returns key's value from a flat-keyed file such as
// memory.oom_control ("oom_kill 1") or cpu.stat ("usage_usec 1234").
func readKeyed(p, key string) (uint64, bool, error) {
	s, err := readString(p)
	if err != nil {
		return 0, false, err
	}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, false, fmt.Errorf("parse %s %s: %w", p, key, err)
			}
			return n, true, nil
		}
	}
	return 0, false, nil
}

// destroyGrace is how long Destroy waits for the tasks of a just-killed
// container to leave its cgroup.
const destroyGrace = 2 * time.Second

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// retryVanishedParent runs create again (a few times) when it fails with
// ENOENT: a concurrent Destroy of the last other container may remove the
// shared mydocker/ parent between our mkdir and our writes.
func retryVanishedParent(create func() error) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = create(); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	return err
}
