package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/archive"
)

// applyUpper applies an overlay upper directory to dst, a copy of the
// lower directory, so that dst becomes what the merged mount shows:
//   - a character device 0/0 is a whiteout: the path is deleted;
//   - a directory with the opaque xattr ("y") replaces the lower directory
//     instead of merging with it;
//   - any other directory merges with the lower one; anything else replaces
//     what the lower had at its path (a file over a directory too).
//
// The paths in skip (and what is below them) stay as the lower had them.
//
// Directories renamed with redirect_dir and metacopy-only files would need
// the lower layer to resolve: they are refused, not guessed (both are off
// unless the overlay module or the mount turns them on; mydocker does not).
func applyUpper(upper, dst string, skip archive.Skip) error {
	type dirMeta struct {
		path string
		info fs.FileInfo
	}
	var dirs []dirMeta
	links := map[[2]uint64]string{} // (dev, ino) in upper -> first copy in dst, for hard links
	err := filepath.WalkDir(upper, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walk a running container's layer
			}
			return err
		}
		rel, err := filepath.Rel(upper, path)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil // the root keeps the image's owner and mode
		}
		if skip.Has(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if archive.IsWhiteout(info) {
			return os.RemoveAll(target)
		}
		for _, x := range archive.RedirectXattrs {
			if archive.HasXattr(path, x) {
				return fmt.Errorf("%s: overlay %s is not supported (mount without redirect_dir and metacopy)", rel, x)
			}
		}
		if info.IsDir() {
			cur, err := os.Lstat(target)
			switch {
			case err == nil && (!cur.IsDir() || archive.IsOpaque(path)):
				if err := os.RemoveAll(target); err != nil {
					return err
				}
			case err != nil && !errors.Is(err, fs.ErrNotExist):
				return err
			}
			if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirs = append(dirs, dirMeta{target, info})
			return nil
		}
		if err := os.RemoveAll(target); err != nil {
			return err
		}
		return copyEntry(path, target, info, links)
	})
	if err != nil {
		return fmt.Errorf("apply the container's layer %s: %w", upper, err)
	}
	// Directory owners, modes and times last: filling a directory changes
	// its mtime, and a read-only one would refuse its entries.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := setMeta(dirs[i].path, dirs[i].info); err != nil {
			return err
		}
	}
	return nil
}

// copyEntry copies one non-directory entry, keeping type, content, owner,
// mode and times, and hard links between entries of the same walk.
func copyEntry(src, dst string, info fs.FileInfo, links map[[2]uint64]string) error {
	st := info.Sys().(*syscall.Stat_t)
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		key := [2]uint64{st.Dev, st.Ino}
		if st.Nlink > 1 {
			if first, ok := links[key]; ok {
				return os.Link(first, dst)
			}
			links[key] = dst
		}
		if err := copyFile(src, dst, 0o600); err != nil { // mode, owner, times follow
			return err
		}
	case mode&fs.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(link, dst); err != nil {
			return err
		}
	default: // devices, fifos, sockets
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	}
	return setMeta(dst, info)
}

// setMeta gives dst the owner, mode (with setuid, setgid, sticky) and
// times of info, without following a symlink.
func setMeta(dst string, info fs.FileInfo) error {
	st := info.Sys().(*syscall.Stat_t)
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, unix.EPERM) {
		return err
	}
	if info.Mode()&fs.ModeSymlink == 0 {
		// After chown, which clears setuid and setgid.
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(syscall.TimespecToNsec(st.Atim)), unix.NsecToTimespec(syscall.TimespecToNsec(st.Mtim))}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}
