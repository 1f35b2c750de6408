package exeseal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Method says how an Exe was sealed.
type Method string

const (
	// Overlay is a lower-only overlayfs, mounted detached (fsopen/fsmount,
	// never attached to any mount namespace), whose single visible layer is
	// the binary's directory: a read-only superblock that cannot be
	// remounted read-write, and no copy.
	Overlay Method = "overlay"
	// Memfd is a copy of the binary in a memfd with write, grow, shrink and
	// seal seals: nothing can change it, not even its creator.
	Memfd Method = "memfd"
)

// minFd is the lowest descriptor number an Exe's file gets. exec.Cmd's child
// dup2s its Stdin/Stdout/Stderr/ExtraFiles onto 0..n-1 and may move some above
// the highest of them before exec'ing Path: a sealed descriptor with a low
// number could be overwritten there, and /proc/self/fd/N would then name
// another file. 64 is far above both for any command with fewer than ~30 files.
const minFd = 64

// Exe is a sealed handle on the runtime binary. Exec its Path in a child of
// this process; Close it once the child has exec'd (or failed to).
type Exe struct {
	file   *os.File
	method Method
}

// File is the sealed descriptor (close-on-exec: children never inherit it,
// they only exec through it).
func (e *Exe) File() *os.File { return e.file }

// Method says how the binary was sealed.
func (e *Exe) Method() Method { return e.method }

// Path is "/proc/self/fd/N", for exec.Cmd.Path: the child execs it before
// close-on-exec closes N, and its /proc/PID/exe is then the sealed file, never
// the binary on the host's disk.
func (e *Exe) Path() string { return "/proc/self/fd/" + strconv.Itoa(int(e.file.Fd())) }

// Close releases the sealed file (a memfd's memory, or the last reference to
// the detached overlay mount, which the kernel then unmounts). Children that
// exec'd it keep their own reference.
func (e *Exe) Close() error { return e.file.Close() }

// Open seals the running binary (/proc/self/exe) for a container's init or
// exec helper: by an overlay if the kernel allows one, else by a sealed memfd
// copy. See the package doc for why this order. emptyDir serves kernels
// before 6.15 only (see OpenOverlayDir); "" skips that step.
func Open(emptyDir string) (*Exe, error) {
	e, err := OpenOverlay("/proc/self/exe")
	if err == nil {
		return e, nil
	}
	errs := []error{err}
	if emptyDir != "" {
		if e, err = OpenOverlayDir("/proc/self/exe", emptyDir); err == nil {
			return e, nil
		}
		errs = append(errs, err)
	}
	if e, err = OpenMemfd("/proc/self/exe"); err == nil {
		return e, nil
	}
	return nil, fmt.Errorf("seal the runtime binary: %w", errors.Join(append(errs, err)...))
}

// OpenOverlay opens path (a symlink such as /proc/self/exe is resolved first)
// O_PATH through a detached, read-only, lower-only overlayfs whose layers are
// the binary's directory and an empty, detached tmpfs, both given by
// descriptor: no directory of the host's is needed, none is touched. Needs
// CAP_SYS_ADMIN and Linux 6.15 (overlayfs layers by FSCONFIG_SET_FD, 6.13;
// detached mounts and O_PATH descriptors as layers, 6.15).
func OpenOverlay(path string) (*Exe, error) {
	return openOverlay(path, "")
}

// OpenOverlayDir is OpenOverlay for kernels from 5.2 (fsopen) to 6.14: the
// second layer is emptyDir, named by path (created if missing, and kept
// empty). It must not overlap the binary's directory (neither may contain
// the other: overlayfs says ELOOP), e.g. <--root>/exeseal for a binary in
// /usr/local/bin. This is runc 1.2's form, with its state directory.
func OpenOverlayDir(path, emptyDir string) (*Exe, error) {
	if err := os.MkdirAll(emptyDir, 0o700); err != nil {
		return nil, err
	}
	return openOverlay(path, emptyDir)
}

func openOverlay(path, emptyDir string) (*Exe, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", path, err) // e.g. a deleted binary: OpenMemfd still works
	}
	dir, name := filepath.Split(real)
	attr := unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID
	var mnt int
	if emptyDir == "" {
		mnt, err = overlay(dir, attr)
	} else {
		mnt, err = overlayDir(dir, emptyDir, attr)
		if errors.Is(err, unix.ELOOP) {
			err = fmt.Errorf("%w (%s and %s overlap: one contains the other)", err, dir, emptyDir)
		}
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s in the sealing overlay: %w", name, err)
	}
	return newExe(fd, real, Overlay)
}

// overlayDir is overlay with layers named by path.
func overlayDir(dir, emptyDir string, attr int) (int, error) {
	esc := func(p string) string { return strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `:`, `\:`) }
	lower := esc(filepath.Clean(dir)) + ":" + esc(filepath.Clean(emptyDir))
	return detached("overlay", func(ctx int) error {
		if err := unix.FsconfigSetString(ctx, "lowerdir", lower); err != nil {
			return fmt.Errorf("fsconfig overlay lowerdir=%s: %w", lower, err)
		}
		_ = unix.FsconfigSetString(ctx, "xino", "off")
		return nil
	}, attr)
}

// overlay returns the root of a detached, lower-only overlayfs of dir (on
// top) and an empty tmpfs, mounted with attr. Without an upper layer its
// superblock is read-only whatever attr says.
func overlay(dir string, attr int) (int, error) {
	// The second layer: overlayfs refuses a single lower layer without an
	// upper one, and a second directory of the host's could overlap the
	// first (ELOOP). An empty tmpfs that is mounted nowhere cannot.
	empty, err := detached("tmpfs", nil, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(empty)
	bindir, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(bindir)
	return detached("overlay", func(ctx int) error {
		// The binary's directory on top: nothing in the empty layer can
		// mask it, and overlayfs has no upper layer to write to.
		if err := unix.FsconfigSetFd(ctx, "lowerdir+", bindir); err != nil {
			return fmt.Errorf("fsconfig overlay lowerdir+=%s: %w", dir, err)
		}
		if err := unix.FsconfigSetFd(ctx, "lowerdir+", empty); err != nil {
			return fmt.Errorf("fsconfig overlay lowerdir+=<empty tmpfs>: %w", err)
		}
		// xino is irrelevant here; off spares dmesg a line per start
		// when the layers are on different filesystems (they are).
		_ = unix.FsconfigSetString(ctx, "xino", "off")
		return nil
	}, attr)
}

// detached creates a filesystem with fsopen, lets configure set its
// parameters, and returns a descriptor of its root mount, attached nowhere.
func detached(fstype string, configure func(ctx int) error, attr int) (int, error) {
	ctx, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(ctx)
	if configure != nil {
		if err := configure(ctx); err != nil {
			return -1, err
		}
	}
	if err := unix.FsconfigCreate(ctx); err != nil {
		return -1, fmt.Errorf("fsconfig create %s: %w", fstype, err)
	}
	mnt, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return mnt, nil
}

// Seals are the seals of a Memfd Exe: no write (nor a new writable shared
// mapping), no size change, and no change to the seals themselves.
const Seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// OpenMemfd copies path into a memfd and seals it (Seals, and F_SEAL_EXEC
// where the kernel has it, so its mode stays r-x). Any kernel since 3.17; it
// costs a copy of the binary per call (see the package doc).
func OpenMemfd(path string) (*Exe, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return nil, err
	}
	// MFD_EXEC: with vm.memfd_noexec=1 a memfd is not executable without
	// it; kernels before 6.3 do not know the flag (EINVAL).
	fd, err := unix.MemfdCreate("mydocker-exe", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("mydocker-exe", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:mydocker-exe")
	if err := copyAll(mem, src, st.Size()); err != nil {
		mem.Close()
		return nil, fmt.Errorf("copy %s into a memfd: %w", path, err)
	}
	if err := unix.Fchmod(fd, 0o555); err != nil {
		mem.Close()
		return nil, fmt.Errorf("chmod memfd: %w", err)
	}
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_EXEC) // Linux 6.3+
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, Seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("fcntl F_ADD_SEALS: %w", err)
	}
	// The memfd's own descriptor is read-write; the one we keep is not.
	defer mem.Close()
	ro, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen memfd read-only: %w", err)
	}
	return newExe(ro, path, Memfd)
}

// copyAll copies size bytes from src to dst in the kernel: copy_file_range
// (sendfile where the kernel refuses it across filesystems), a user-space
// copy as the last resort.
func copyAll(dst, src *os.File, size int64) error {
	var done int64
	for done < size {
		n, err := unix.CopyFileRange(int(src.Fd()), nil, int(dst.Fd()), nil, int(size-done), 0)
		if err != nil || n == 0 {
			break
		}
		done += int64(n)
	}
	for done < size {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(size-done))
		if err != nil || n == 0 {
			break
		}
		done += int64(n)
	}
	if done < size {
		n, err := io.Copy(dst, src)
		done += n
		if err != nil {
			return err
		}
	}
	runtime.KeepAlive(src)
	runtime.KeepAlive(dst)
	if done != size {
		return fmt.Errorf("copied %d of %d bytes", done, size)
	}
	return nil
}

// newExe moves fd to minFd or above and wraps it.
func newExe(fd int, name string, m Method) (*Exe, error) {
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minFd)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("fcntl F_DUPFD_CLOEXEC: %w", err)
	}
	return &Exe{file: os.NewFile(uintptr(high), string(m)+":"+name), method: m}, nil
}

// IsSealed reports whether f is a memfd with all of Seals: a binary that
// nothing can write. /proc/self/exe of a process started from a Memfd Exe is.
func IsSealed(f *os.File) bool {
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	return err == nil && seals&Seals == Seals
}
