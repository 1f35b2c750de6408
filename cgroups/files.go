package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/narrate"
)

// fsOps is every change a Manager makes to a cgroup filesystem, each one
// narrated with the shell command that does the same. The three calls whose
// effect on cgroupfs differs from a plain directory (mkdir fills the
// directory with interface files, rmdir of such a directory works, a write
// to cgroup.subtree_control changes other files) are fields, so that tests
// on a t.TempDir() can play the kernel.
type fsOps struct {
	n         *narrate.Narrator
	mkdir     func(path string) error
	rmdir     func(path string) error
	writeFile func(path, value string) error
}

func newOps(n *narrate.Narrator) fsOps {
	if n == nil {
		n = narrate.Discard()
	}
	return fsOps{n: n, mkdir: func(p string) error { return os.Mkdir(p, 0o755) }, rmdir: unix.Rmdir, writeFile: writeFile}
}

// writeFile puts value into a cgroup file in one write(2): cgroupfs takes
// one value per write and reports a refused value as that write's error. A
// missing file (a controller that is not enabled) is ENOENT, not created.
func writeFile(p, value string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// write puts value into a cgroup interface file.
func (o fsOps) write(why, dir, file, value string) error {
	p := filepath.Join(dir, file)
	cmd := "echo " + narrate.Quote(value) + " > " + narrate.Quote(p)
	return o.say().Do(why, cmd, func() error {
		if err := o.writeFile(p, value); err != nil {
			return fmt.Errorf("write %q to %s: %w", value, p, err)
		}
		return nil
	})
}

// mkdirs creates cgroup directories (the kernel fills them with interface
// files), in one narrated `mkdir -p`.
func (o fsOps) mkdirs(why string, dirs ...string) error {
	return o.say().Do(why, narrate.Quote(append([]string{"mkdir", "-p"}, dirs...)...), func() error {
		for _, d := range dirs {
			if err := o.mkdirAll(d); err != nil {
				return fmt.Errorf("create cgroup %s: %w", d, err)
			}
		}
		return nil
	})
}

// mkdirAll is `mkdir -p` through o.mkdir.
func (o fsOps) mkdirAll(d string) error {
	if fi, err := os.Stat(d); err == nil && fi.IsDir() {
		return nil
	}
	if parent := filepath.Dir(d); parent != d {
		if err := o.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := o.mkdir(d); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// copyIfEmpty copies a parent's value into a child's file, as
// `cat parent/f > child/f`, when the child's is still empty.
func (o fsOps) copyIfEmpty(why, from, to, file string) error {
	src, dst := filepath.Join(from, file), filepath.Join(to, file)
	if cur, err := readString(dst); err == nil && cur != "" {
		return nil
	}
	return o.say().Do(why, "cat "+narrate.Quote(src)+" > "+narrate.Quote(dst), func() error {
		val, err := readString(src)
		if err != nil {
			return err
		}
		if err := o.writeFile(dst, val); err != nil {
			return fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
		return nil
	})
}

// removeTree removes a container's cgroup directory and any cgroups nested
// in it, deepest first. cgroupfs lets rmdir remove a directory full of
// interface files but refuses (EBUSY) while a task is still in it: a task
// that was just killed can take a moment to leave, so that is retried
// briefly, until deadline. A directory that is already gone is not an error.
func (o fsOps) removeTree(why, dir string, deadline time.Time) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			if err := o.removeTree("remove a cgroup nested in the container's", filepath.Join(dir, e.Name()), deadline); err != nil {
				return err
			}
		}
	}
	return o.say().Do(why, narrate.Quote("rmdir", dir), func() error {
		for {
			err := o.rmdir(dir)
			switch {
			case err == nil, errors.Is(err, os.ErrNotExist):
				return nil
			case errors.Is(err, unix.EBUSY) && time.Now().Before(deadline):
				time.Sleep(20 * time.Millisecond)
			default:
				return fmt.Errorf("remove cgroup %s: %w", dir, err)
			}
		}
	})
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

// say is the narrator with source= set to the Manager code that asked for
// the step (fs.go, v2.go), not to these helpers.
func (o fsOps) say() *narrate.Narrator {
	pcs := make([]uintptr, 8)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasSuffix(f.File, "cgroups/files.go") {
			dir, file := filepath.Split(f.File)
			return o.n.WithField("source", fmt.Sprintf("%s/%s:%d", filepath.Base(dir), file, f.Line))
		}
		if !more {
			return o.n
		}
	}
}

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
