package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	existsBy["cgroup"] = statKind(func(fi os.FileInfo) bool { return fi.IsDir() })
	existsBy["cgroupval"] = func(_ *Exec, o Object) (bool, error) {
		b, err := os.ReadFile(o.Name)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil && strings.TrimSpace(string(b)) != "", err
	}
}

// CgroupFS is how the cgroup ops touch cgroupfs. Its three calls differ
// there from a plain directory (mkdir fills the directory with interface
// files, rmdir of such a directory works, a write to
// cgroup.subtree_control changes other files), so tests on a t.TempDir()
// can play the kernel with their own. Nil fields are the real calls.
type CgroupFS struct {
	Mkdir func(path string) error
	Rmdir func(path string) error
	Write func(path, value string) error
}

func (fs *CgroupFS) mkdir(p string) error {
	if fs != nil && fs.Mkdir != nil {
		return fs.Mkdir(p)
	}
	return os.Mkdir(p, 0o755)
}

func (fs *CgroupFS) rmdir(p string) error {
	if fs != nil && fs.Rmdir != nil {
		return fs.Rmdir(p)
	}
	return unix.Rmdir(p)
}

func (fs *CgroupFS) write(p, value string) error {
	if fs != nil && fs.Write != nil {
		return fs.Write(p, value)
	}
	// One write(2): cgroupfs takes one value per write and reports a
	// refused value as that write's error. A missing file (a controller
	// that is not enabled) is ENOENT, not created. Raw calls: an os.File
	// would also be registered with Go's poller, four system calls more
	// for each of the 25 writes of a start.
	fd, err := ignoringEINTR(func() (int, error) { return unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0) })
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	_, err = ignoringEINTR(func() (int, error) { return unix.Write(fd, []byte(value)) })
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: p, Err: err}
	}
	return nil
}

// ignoringEINTR retries a system call a signal interrupted (Go's runtime
// preempts goroutines with SIGURG).
func ignoringEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// CgroupMkdir makes a cgroup (`mkdir -p`: its missing parents too); the
// kernel fills it with interface files. One that exists is left alone.
type CgroupMkdir struct {
	Path   string
	Reason string
	FS     *CgroupFS
}

func (m CgroupMkdir) Why() string      { return m.Reason }
func (m CgroupMkdir) Command() Command { return Command{Argv: []string{"mkdir", "-p", m.Path}} }
func (m CgroupMkdir) Apply(*Exec) error {
	if err := m.mkdirAll(m.Path); err != nil {
		return fmt.Errorf("create cgroup %s: %w", m.Path, err)
	}
	return nil
}

// mkdirAll tries the mkdir first, and makes the parents only when it is
// missing one: a cgroup's parent (mydocker/) nearly always exists, and
// this is one system call where a stat of each level first was three.
func (m CgroupMkdir) mkdirAll(d string) error {
	err := m.FS.mkdir(d)
	if err == nil || errors.Is(err, os.ErrExist) {
		return nil
	}
	parent := filepath.Dir(d)
	if !errors.Is(err, os.ErrNotExist) || parent == d {
		return err
	}
	if err := m.mkdirAll(parent); err != nil {
		return err
	}
	if err := m.FS.mkdir(d); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}
func (m CgroupMkdir) Effects() []Effect {
	return []Effect{Ensures(Object{Kind: "cgroup", Name: filepath.Clean(m.Path)})}
}

// CgroupWrite is `echo VALUE > FILE` on a cgroup interface file, in one
// write(2).
type CgroupWrite struct {
	File   string
	Value  string
	Reason string
	FS     *CgroupFS
}

func (w CgroupWrite) Why() string { return w.Reason }
func (w CgroupWrite) Command() Command {
	return Command{Shell: []string{"echo", w.Value, ">", w.File}}
}
func (w CgroupWrite) Apply(*Exec) error {
	if err := w.FS.write(w.File, w.Value); err != nil {
		return fmt.Errorf("write %q to %s: %w", w.Value, w.File, err)
	}
	return nil
}

// CgroupCopy copies a parent cgroup's value into a child's file, as
// `cat FROM > TO`, unless TO holds a value already (a v1 cpuset's
// cpuset.cpus and cpuset.mems, which a new cpuset has empty).
type CgroupCopy struct {
	From, To string
	Reason   string
	FS       *CgroupFS
}

func (c CgroupCopy) Why() string { return c.Reason }
func (c CgroupCopy) Command() Command {
	return Command{Shell: []string{"cat", c.From, ">", c.To}}
}
func (c CgroupCopy) Apply(*Exec) error {
	b, err := os.ReadFile(c.From)
	if err != nil {
		return err
	}
	if err := c.FS.write(c.To, strings.TrimSpace(string(b))); err != nil {
		return fmt.Errorf("copy %s to %s: %w", c.From, c.To, err)
	}
	return nil
}
func (c CgroupCopy) Effects() []Effect {
	return []Effect{Ensures(Object{Kind: "cgroupval", Name: c.To})}
}

// CgroupRmdir removes a cgroup (`rmdir`; cgroupfs lets it go with its
// interface files). The kernel refuses (EBUSY) while a task is still in
// it: a task that was just killed can take a moment to leave, so that is
// retried until Deadline. Gone already is fine (skipped).
type CgroupRmdir struct {
	Path     string
	Reason   string
	Deadline time.Time
	FS       *CgroupFS
}

func (r CgroupRmdir) Why() string      { return r.Reason }
func (r CgroupRmdir) Command() Command { return Command{Argv: []string{"rmdir", r.Path}} }
func (r CgroupRmdir) Apply(*Exec) error {
	// A task that was just killed leaves its cgroups a moment later:
	// retry soon, then less often.
	for wait := 250 * time.Microsecond; ; wait = min(2*wait, 20*time.Millisecond) {
		err := r.FS.rmdir(r.Path)
		switch {
		case err == nil, errors.Is(err, os.ErrNotExist):
			return nil
		case errors.Is(err, unix.EBUSY) && time.Now().Before(r.Deadline):
			time.Sleep(wait)
		default:
			return fmt.Errorf("remove cgroup %s: %w", r.Path, err)
		}
	}
}

// Plan forgets the values planned in the cgroup's files: they go with it.
func (r CgroupRmdir) Plan(p *Plan) error {
	p.forgetUnder(0, r.Path)
	return nil
}

func (r CgroupRmdir) Effects() []Effect {
	return []Effect{Clears(Object{Kind: "cgroup", Name: filepath.Clean(r.Path)})}
}
