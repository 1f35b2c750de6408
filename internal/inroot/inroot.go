// Package inroot reaches the files of a container's filesystem from the
// host as the container itself would reach them: every path, and every
// symbolic link met on the way (absolute or relative, planted by the image
// or by the container while it runs), is resolved inside the container's
// root by the kernel, with openat2(2)'s RESOLVE_IN_ROOT (Linux ≥ 5.6), so
// that none leads out to the host's files. Each change resolves the parent
// directory that way, then acts on one name in it (mkdirat, openat with
// O_NOFOLLOW, symlinkat, fchownat with AT_SYMLINK_NOFOLLOW, fchmod on an
// open descriptor), never on a path the host would resolve.
//
// moby's and podman's cp get the same from filepath-securejoin, which
// resolves in user space; openat2 does it in the kernel, without a window
// between resolving a path and opening it that a running container could
// use to swap a directory for a link.
package inroot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Root is a directory that paths are resolved inside: a container's root
// (/proc/PID/root of a running one, its mounted overlay for a stopped
// one), or the host's /.
type Root struct {
	f    *os.File // an O_PATH descriptor of the directory
	Path string   // for messages
}

// Open opens the directory dir as a Root.
func Open(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &Root{f: os.NewFile(uintptr(fd), dir), Path: dir}, nil
}

// Close releases the root's descriptor.
func (r *Root) Close() error { return r.f.Close() }

// Clean is name as an absolute, clean path in the root ("/" for "").
func Clean(name string) string { return path.Clean("/" + name) }

func rel(name string) string {
	if p := Clean(name); p != "/" {
		return p[1:]
	}
	return "."
}

// open opens name with flags (O_CLOEXEC added), resolved in the root.
func (r *Root) open(name string, flags int, mode uint32) (*os.File, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for {
		fd, err := unix.Openat2(int(r.f.Fd()), rel(name), how)
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the lookup
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: Clean(name), Err: err}
		}
		return os.NewFile(uintptr(fd), Clean(name)), nil
	}
}

// Open opens name for reading; a symbolic link at name is refused
// (ELOOP) unless follow.
func (r *Root) Open(name string, follow bool) (*os.File, error) {
	flags := unix.O_RDONLY
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	return r.open(name, flags, 0)
}

// Lstat is lstat(2) of name in the root: a link at name is not followed.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	f, err := r.open(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// Stat is stat(2) of name in the root: links are followed, in the root.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	f, err := r.open(name, unix.O_PATH, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// Readlink reads the link at name.
func (r *Root) Readlink(name string) (string, error) {
	f, err := r.open(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(f.Fd()), "", buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: Clean(name), Err: err}
	}
	return string(buf[:n]), nil
}

// RealPath is name with every link in it resolved in the root: the path
// in the root of what name reaches (it must exist). The links are read one
// by one; for a tree that changes meanwhile, what it names may change.
func (r *Root) RealPath(name string) (string, error) {
	hops := 0
	return r.realPath(Clean(name), &hops)
}

func (r *Root) realPath(name string, hops *int) (string, error) {
	cur := "/"
	for _, c := range strings.Split(name, "/") {
		if c == "" {
			continue
		}
		next := path.Join(cur, c) // cur has no links: ".." is lexical
		fi, err := r.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if *hops++; *hops > 40 {
			return "", &os.PathError{Op: "resolve", Path: name, Err: unix.ELOOP}
		}
		target, err := r.Readlink(next)
		if err != nil {
			return "", err
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		if cur, err = r.realPath(Clean(target), hops); err != nil {
			return "", err
		}
	}
	return cur, nil
}

// Resolve is the host path of name in the tree at root, its links resolved
// inside the tree (for a tree nobody changes meanwhile: an image's).
func Resolve(root, name string) (string, error) {
	r, err := Open(root)
	if err != nil {
		return "", err
	}
	defer r.Close()
	p, err := r.RealPath(name)
	if err != nil {
		return "", err
	}
	return path.Join(root, p), nil
}

// parent opens name's directory (resolved in the root) and gives the
// last component, for the *at calls that act on that one name.
func (r *Root) parent(name string) (*os.File, string, error) {
	p := Clean(name)
	if p == "/" {
		return nil, "", &os.PathError{Op: "open", Path: p, Err: errors.New("the root itself has no parent")}
	}
	d, err := r.open(path.Dir(p), unix.O_PATH|unix.O_DIRECTORY, 0)
	return d, path.Base(p), err
}

// at runs fn on name's parent directory and last component, wrapping its
// error with op and name.
func (r *Root) at(op, name string, fn func(dir int, base string) error) error {
	d, base, err := r.parent(name)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := fn(int(d.Fd()), base); err != nil {
		return &os.PathError{Op: op, Path: Clean(name), Err: err}
	}
	return nil
}

// Mkdir makes the directory name; one that exists is fine (a link to a
// directory too: what is put in it lands where the link leads, in the root).
func (r *Root) Mkdir(name string, mode uint32) error {
	err := r.at("mkdir", name, func(dir int, base string) error { return unix.Mkdirat(dir, base, mode) })
	if errors.Is(err, unix.EEXIST) {
		if fi, serr := r.Stat(name); serr == nil && fi.IsDir() {
			return nil
		}
		return fmt.Errorf("cannot overwrite non-directory %s with a directory", Clean(name))
	}
	return err
}

// OpenDir opens the directory name, not through a link at name, to list it
// or change its mode.
func (r *Root) OpenDir(name string, follow bool) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	return r.open(name, flags, 0)
}

// replace removes what is at base in dir, but a directory (which is
// refused), so that something else is made in its place.
func replace(dir int, base string) error {
	err := unix.Unlinkat(dir, base, 0)
	if err == unix.EISDIR {
		return errors.New("cannot overwrite a directory with a non-directory")
	}
	if err == unix.ENOENT {
		return nil
	}
	return err
}

// Create makes the file name anew (what was there, not a directory, is
// removed first) and opens it for writing.
func (r *Root) Create(name string, mode uint32) (*os.File, error) {
	var f *os.File
	err := r.at("create", name, func(dir int, base string) error {
		if err := replace(dir, base); err != nil {
			return err
		}
		fd, err := unix.Openat(dir, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
		if err == nil {
			f = os.NewFile(uintptr(fd), Clean(name))
		}
		return err
	})
	return f, err
}

// Symlink makes name a link to target (kept as it is: resolved in the
// root whenever it is followed through this package).
func (r *Root) Symlink(target, name string) error {
	return r.at("symlink", name, func(dir int, base string) error {
		if err := replace(dir, base); err != nil {
			return err
		}
		return unix.Symlinkat(target, dir, base)
	})
}

// Link makes name a hard link to old (both in the root).
func (r *Root) Link(old, name string) error {
	o, err := r.open(old, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer o.Close()
	return r.at("link", name, func(dir int, base string) error {
		if err := replace(dir, base); err != nil {
			return err
		}
		return unix.Linkat(int(o.Fd()), "", dir, base, unix.AT_EMPTY_PATH)
	})
}

// Mknod makes the device node or fifo name.
func (r *Root) Mknod(name string, mode uint32, dev uint64) error {
	return r.at("mknod", name, func(dir int, base string) error {
		if err := replace(dir, base); err != nil {
			return err
		}
		return unix.Mknodat(dir, base, mode, int(dev))
	})
}

// Lchown sets the owner of name, not of what a link at name points to.
func (r *Root) Lchown(name string, uid, gid int) error {
	return r.at("chown", name, func(dir int, base string) error {
		return unix.Fchownat(dir, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// Chtimes sets the access and change times of name, not through a link.
func (r *Root) Chtimes(name string, ts [2]unix.Timespec) error {
	return r.at("utimes", name, func(dir int, base string) error {
		return unix.UtimesNanoAt(dir, base, ts[:], unix.AT_SYMLINK_NOFOLLOW)
	})
}
