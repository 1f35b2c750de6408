package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/inroot"
	"github.com/mydocker/mydocker/internal/kernel"
)

// `cp`, as docker's: files and directories between a container and the
// host, both ways, or a tar stream on stdin or stdout ("-"), with docker's
// path rules. A container's files are read and written as the container
// sees them, through a root that resolves every path and link inside it
// (internal/inroot): a link to /etc/passwd in the container is the
// container's /etc/passwd, never the host's.
//
//   - A running container: its root is /proc/PID/root, its mount namespace
//     seen from outside, volumes, tmpfs mounts and /etc files included.
//   - A stopped one: its overlay (image layers and its writable layer) and
//     its volumes and binds are mounted in a mount namespace of cp's own
//     (one locked thread unshares it), which goes with that thread or with
//     cp, mounts and all: a cp killed at any instant leaves nothing to
//     unmount. A container starting meanwhile may find its layer busy
//     (overlay refuses one upper directory in two mounts) and fail.

// CopyOptions are cp's flags.
type CopyOptions struct {
	Archive    bool // -a: keep the files' uid and gid (else the receiving side's root, or the caller)
	FollowLink bool // -L: a link as SRC is copied as what it points to
}

// cpEnd is one side of a copy: a root, and a path in it.
type cpEnd struct {
	root      *inroot.Root
	path      string // as typed
	container string // "" for the host
	close     func()
}

// SplitCopyArg reads one of cp's arguments as docker does: "-", a host
// path (one that starts with / or ., or has no colon), or CONTAINER:PATH.
func SplitCopyArg(arg string) (ref, p string) {
	if arg == "-" || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	ref, p, ok := strings.Cut(arg, ":")
	if !ok {
		return "", arg
	}
	return ref, p
}

// Copy is `cp SRC DST`, either of them CONTAINER:PATH, the other a host
// path or "-" (a tar stream on stdin for SRC, on stdout for DST).
func (r *Runtime) Copy(src, dst string, stdin io.Reader, stdout io.Writer, o CopyOptions) error {
	sref, spath := SplitCopyArg(src)
	dref, dpath := SplitCopyArg(dst)
	switch {
	case sref != "" && dref != "":
		return errors.New("copying between containers is not supported")
	case sref == "" && dref == "":
		return errors.New("must specify at least one container source")
	case spath == "" || dpath == "":
		return errors.New("a path is needed on both sides: CONTAINER:PATH and a host path, or -")
	}
	from, err := r.cpEnd(sref, spath)
	if err != nil {
		return err
	}
	defer from.close()
	to, err := r.cpEnd(dref, dpath)
	if err != nil {
		return err
	}
	defer to.close()
	owner := &inroot.Owner{} // root in the container, as docker
	if dref == "" {
		owner = &inroot.Owner{UID: os.Getuid(), GID: os.Getgid()}
	}
	if o.Archive {
		owner = nil
	}
	if src == "-" {
		fi, err := to.root.Stat(to.path)
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("destination %q must be a directory", dst)
		}
		return to.root.Untar(stdin, to.path, owner)
	}
	name, fi, err := from.source(o.FollowLink)
	if err != nil {
		return err
	}
	as := path.Base(inroot.Clean(spath))
	if dst == "-" {
		return from.root.Tar(stdout, name, as)
	}
	dir, as, err := to.destination(fi, as, strings.HasSuffix(spath, "/."))
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(from.root.Tar(pw, name, as)) }()
	err = to.root.Untar(pr, dir, owner)
	pr.CloseWithError(err)
	return err
}

// cpEnd opens one side: the host's / (a relative path from the caller's
// directory), or the container's root.
func (r *Runtime) cpEnd(ref, p string) (*cpEnd, error) {
	if ref == "" {
		if p == "-" {
			return &cpEnd{path: p, close: func() {}}, nil
		}
		root, err := inroot.Open("/")
		if err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		return &cpEnd{root: root, path: keepTail(p, abs), close: func() { root.Close() }}, nil
	}
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	e := &cpEnd{path: p, container: c.Name}
	if !strings.HasPrefix(e.path, "/") {
		e.path = "/" + e.path // relative to the container's root, as docker
	}
	if c.IsRunning() {
		e.root, err = inroot.Open("/proc/" + strconv.Itoa(c.Pid) + "/root")
		e.close = func() { e.root.Close() }
		return e, err
	}
	e.root, e.close, err = r.stoppedRoot(c)
	return e, err
}

// keepTail is abs with the trailing "/" or "/." of p, which the path
// rules read, put back (filepath.Abs cleans them away).
func keepTail(p, abs string) string {
	switch {
	case strings.HasSuffix(p, "/."):
		return strings.TrimSuffix(abs, "/") + "/."
	case strings.HasSuffix(p, "/") && abs != "/":
		return abs + "/"
	}
	return abs
}

// source finds what is copied: the path with its directory's links
// resolved (in the root), and its last component's too with follow (-L).
func (e *cpEnd) source(follow bool) (string, fs.FileInfo, error) {
	notFound := func(err error) error {
		if e.container != "" && errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("could not find the file %s in container %s", e.path, e.container)
		}
		return err
	}
	p := inroot.Clean(e.path)
	dir, err := e.root.RealPath(path.Dir(p))
	if err != nil {
		return "", nil, notFound(err)
	}
	name := path.Join(dir, path.Base(p))
	if follow {
		if name, err = e.root.RealPath(name); err != nil {
			return "", nil, notFound(err)
		}
	}
	fi, err := e.root.Lstat(name)
	if err != nil {
		return "", nil, notFound(err)
	}
	if (strings.HasSuffix(e.path, "/") || strings.HasSuffix(e.path, "/.")) && !fi.IsDir() {
		return "", nil, fmt.Errorf("%s: not a directory", e.path)
	}
	return name, fi, nil
}

// destination applies docker's rules: into an existing directory (under
// the source's name, or only what it holds for SRC/.), over an existing
// file (not with a directory), or as a new name in an existing directory
// (a file SRC needs DEST without a trailing /). It gives the directory
// the tar is unpacked in and the name of its top entry ("" for none).
func (e *cpEnd) destination(src fs.FileInfo, as string, contents bool) (dir, top string, err error) {
	p := inroot.Clean(e.path)
	if real, err := e.root.RealPath(p); err == nil {
		p = real // a link is followed, inside the root, as docker follows one
	}
	fi, err := e.root.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		if contents {
			return p, "", nil
		}
		return p, as, nil
	case err == nil:
		if src.IsDir() {
			return "", "", fmt.Errorf("cannot copy a directory to a file: %s", e.path)
		}
		return path.Dir(p), path.Base(p), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", err
	case strings.HasSuffix(e.path, "/") && !src.IsDir():
		return "", "", fmt.Errorf("destination directory %s must exist", e.path)
	}
	if pfi, err := e.root.Stat(path.Dir(p)); err != nil || !pfi.IsDir() {
		return "", "", fmt.Errorf("no such directory: %s", path.Dir(p))
	}
	return path.Dir(p), path.Base(p), nil
}

// stoppedRoot mounts stopped container c's filesystem (overlay, volumes,
// binds) in a mount namespace of its own, on one locked thread, and opens
// its root. The root's descriptor works from any thread; close ends the
// thread, and the namespace with it.
func (r *Runtime) stoppedRoot(c *Config) (*inroot.Root, func(), error) {
	type result struct {
		root *inroot.Root
		err  error
	}
	res, done := make(chan result), make(chan struct{})
	go func() {
		// Never unlocked: the thread, which alone is in the new mount
		// namespace, ends with this goroutine.
		goruntime.LockOSThread()
		root, err := r.mountStopped(c)
		res <- result{root, err}
		<-done
	}()
	out := <-res
	closeAll := func() {
		if out.root != nil {
			out.root.Close()
		}
		close(done)
	}
	if out.err != nil {
		closeAll()
		return nil, nil, out.err
	}
	return out.root, closeAll, nil
}

func (r *Runtime) mountStopped(c *Config) (*inroot.Root, error) {
	layer := r.Paths.LayerDir(c.ID)
	upper, work, merged := filepath.Join(layer, "upper"), filepath.Join(layer, "work"), filepath.Join(layer, "merged")
	ops := []kernel.Op{
		ownMountnsOp{At: kernel.Here()},
		kernel.Mkdir{Path: upper, Reason: "the container's writable layer (never started: made now)"},
		kernel.Mkdir{Path: work, Reason: "overlay's workdir"},
		kernel.Mkdir{Path: merged, Reason: "the mount point of the container's root filesystem"},
		kernel.Mount{At: kernel.Here(), Source: "overlay", Target: merged, FSType: "overlay", Dir: c.ImageLowerFrom,
			Data:   fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", c.ImagePath, upper, work),
			Reason: "mount the stopped container's root filesystem: its image below, its writable layer above"},
	}
	for _, m := range c.Mounts {
		if m.Type == MountTmpfs {
			continue // a stopped container's tmpfs holds nothing
		}
		fi, err := os.Stat(m.Source)
		if err != nil {
			continue // a bind's source or a volume's data gone: nothing to see there
		}
		ops = append(ops, volumeOps(kernel.Where{}, merged, volume{Mount: m, File: !fi.IsDir()})...)
	}
	if err := r.K.Do(ops...); err != nil {
		return nil, fmt.Errorf("mount the filesystem of %s: %w", c.Name, err)
	}
	return inroot.Open(merged)
}

// ownMountnsOp moves the calling thread (locked to its goroutine) into a
// new mount namespace, private, so that nothing mounted there propagates.
type ownMountnsOp struct{ kernel.At }

func (ownMountnsOp) Why() string {
	return "the container is stopped: cp mounts its filesystem in a mount namespace of its own, which goes, mounts and all, when cp ends (even killed)"
}

func (ownMountnsOp) Command() kernel.Command {
	return kernel.Command{Argv: []string{"unshare", "--mount", "--propagation", "private"}}
}

func (ownMountnsOp) Apply(*kernel.Exec) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare the mount namespace: %w", err)
	}
	return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
}
