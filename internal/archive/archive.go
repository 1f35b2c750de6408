// Package archive packs a directory tree into a tar stream and unpacks one,
// keeping modes, owners, times, xattrs, links and device nodes, as a root
// filesystem or an image layer needs.
package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Tar writes the tree under dir to w, with paths relative to dir ("./bin/sh").
func Tar(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{} // (dev, ino) of a file seen -> its name, for hard links
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		target := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if target, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, target)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		hdr.Name = "./" + filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name = strings.TrimSuffix(hdr.Name, "/") + "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		st := info.Sys().(*syscall.Stat_t)
		if info.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[key] = hdr.Name
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive %s: %w", dir, err)
	}
	return tw.Close()
}

// Untar unpacks a tar stream (plain or gzip) into dir, which must exist.
// Entries that would land outside dir, by ".." or through a symlink, are
// refused.
func Untar(r io.Reader, dir string) error {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	_, err := Extract(r, dir, Options{})
	return err
}

// Options change what Extract does with an image layer's conventions.
type Options struct {
	// Whiteouts: the entries of an OCI layer named .wh.NAME (NAME deleted)
	// and .wh..wh..opq (the directory replaces the lower one's) are listed
	// in the Result, not written; their directories are made.
	Whiteouts bool
}

// Result is what Extract found besides the files it wrote.
type Result struct {
	Whiteouts []string // slash-separated, relative to dir: the paths deleted
	Opaques   []string // the opaque directories
	Size      int64    // the bytes of the regular files
}

// OpaqueMarker is the entry that makes its directory opaque in an OCI layer.
const OpaqueMarker = ".wh..wh..opq"

// Extract unpacks a plain tar stream into dir, which must exist, keeping
// modes, owners, times, xattrs, links and device nodes. Entries that would
// land outside dir, by ".." or through a symlink, are refused.
func Extract(r io.Reader, dir string, o Options) (*Result, error) {
	res := &Result{}
	tr := tar.NewReader(r)
	type dirTime struct {
		path string
		hdr  *tar.Header
	}
	var dirs []dirTime
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w (a corrupt or truncated archive)", err)
		}
		path, err := safeJoin(dir, hdr.Name)
		if err != nil {
			return nil, err
		}
		if path == dir && hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{path, hdr})
			continue
		}
		if base := filepath.Base(path); o.Whiteouts && strings.HasPrefix(base, ".wh.") {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(dir, filepath.Dir(path))
			switch {
			case base == OpaqueMarker:
				res.Opaques = append(res.Opaques, filepath.ToSlash(rel))
			case strings.HasPrefix(base, ".wh..wh."):
				// aufs' own bookkeeping: nothing in overlay's terms.
			default:
				res.Whiteouts = append(res.Whiteouts, filepath.ToSlash(filepath.Join(rel, strings.TrimPrefix(base, ".wh."))))
			}
			continue
		}
		if err := extract(tr, hdr, dir, path); err != nil {
			return nil, fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			dirs = append(dirs, dirTime{path, hdr})
		case tar.TypeReg, tar.TypeRegA:
			res.Size += hdr.Size
		}
	}
	// Directory modes and times last: writing into a directory changes its
	// mtime, and a read-only directory would refuse its own entries.
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		os.Lchown(d.path, d.hdr.Uid, d.hdr.Gid)
		if err := setXattrs(d.path, d.hdr); err != nil {
			return nil, err
		}
		if err := os.Chmod(d.path, fs.FileMode(d.hdr.Mode)&fs.ModePerm|modeBits(d.hdr.Mode)); err != nil {
			return nil, err
		}
		setTimes(d.path, d.hdr)
	}
	return res, nil
}

// setXattrs sets the entry's xattrs (pax SCHILY.xattr.*) that the
// filesystem takes. overlay's own marks are never taken from an archive:
// a layer that set trusted.overlay.* itself could redirect lookups.
func setXattrs(path string, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		x, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(x, "trusted.overlay.") {
			continue
		}
		if err := unix.Lsetxattr(path, x, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set xattr %s on %s: %w", x, path, err)
		}
	}
	return nil
}

func extract(r io.Reader, hdr *tar.Header, root, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm
	if hdr.Typeflag != tar.TypeDir {
		// Replace what is there (a later entry wins, as with GNU tar).
		if fi, err := os.Lstat(path); err == nil && !fi.IsDir() {
			os.Remove(path)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(path, 0o755); err != nil && !os.IsExist(err) {
			return err
		}
		return nil // mode, owner and times are set after the whole stream
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, path); err != nil {
			return err
		}
		os.Lchown(path, hdr.Uid, hdr.Gid)
		if err := setXattrs(path, hdr); err != nil {
			return err
		}
		setTimes(path, hdr)
		return nil
	case tar.TypeLink:
		target, err := safeJoin(root, hdr.Linkname)
		if err != nil {
			return err
		}
		return os.Link(target, path)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		m := uint32(mode)
		switch hdr.Typeflag {
		case tar.TypeChar:
			m |= unix.S_IFCHR
		case tar.TypeBlock:
			m |= unix.S_IFBLK
		default:
			m |= unix.S_IFIFO
		}
		if err := unix.Mknod(path, m, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
			return err
		}
	default:
		return nil // pax/global headers and the like carry no file
	}
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil && !errors.Is(err, unix.EPERM) {
		return err
	}
	if err := setXattrs(path, hdr); err != nil {
		return err
	}
	// chmod after chown: chown clears setuid/setgid bits.
	if err := os.Chmod(path, mode|modeBits(hdr.Mode)); err != nil {
		return err
	}
	setTimes(path, hdr)
	return nil
}

// modeBits turns tar's setuid/setgid/sticky bits into Go's.
func modeBits(m int64) fs.FileMode {
	var out fs.FileMode
	if m&04000 != 0 {
		out |= fs.ModeSetuid
	}
	if m&02000 != 0 {
		out |= fs.ModeSetgid
	}
	if m&01000 != 0 {
		out |= fs.ModeSticky
	}
	return out
}

func setTimes(path string, hdr *tar.Header) {
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.AccessTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if hdr.AccessTime.IsZero() {
		ts[0] = ts[1]
	}
	unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// safeJoin resolves name under root and refuses paths that leave root,
// lexically or through a symlink already extracted.
func safeJoin(root, name string) (string, error) {
	clean := filepath.Clean("/" + name)
	path := filepath.Join(root, clean)
	if path != root && !strings.HasPrefix(path, root+string(filepath.Separator)) {
		return "", fmt.Errorf("tar entry %q escapes the target directory", name)
	}
	// No parent of the entry may be a symlink: writing through one could
	// land anywhere on the host.
	rel := strings.TrimPrefix(filepath.Dir(path), root)
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		if fi, err := os.Lstat(cur); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("tar entry %q goes through the symlink %s", name, strings.TrimPrefix(cur, root))
		}
	}
	return path, nil
}
