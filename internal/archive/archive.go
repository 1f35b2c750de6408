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
	pathpkg "path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Tar writes the tree under dir to w, with paths relative to dir ("./bin/sh").
// Sockets are left out (tar has no form for them).
func Tar(dir string, w io.Writer) error {
	_, err := writeTree(dir, w, treeOptions{})
	return err
}

// TarUpper writes an overlay upper directory to w as an OCI image layer's
// tar: the changes it holds, in the forms the layer format has for them.
//   - a whiteout (a 0/0 character device NAME) is an empty file .wh.NAME;
//   - an opaque directory (the xattr overlay.opaque=y) is the directory
//     plus an empty file .wh..wh..opq in it;
//   - the paths in skip, and what is below them, are left out;
//   - xattrs are kept (pax SCHILY.xattr.*), but for overlay's own marks
//     and security.selinux (a label of the host's policy, not the file's).
//
// A directory renamed with redirect_dir or a metacopy-only file would need
// the lower layers to resolve: they are refused, not guessed (both are off
// unless the overlay module or the mount turns them on; mydocker does not).
// The tree may change while it is read (a running container): what is
// removed meanwhile is left out, a file that shrinks is padded with zeros.
// The Result lists the whiteouts and opaque directories written.
func TarUpper(upper string, w io.Writer, skip Skip) (*Result, error) {
	return writeTree(upper, w, treeOptions{upper: true, skip: skip})
}

// TarUpperClamped is TarUpper with every time later than clamp written as
// clamp (GNU tar's --mtime=@N --clamp-mtime): with SOURCE_DATE_EPOCH, the
// same changes make the same layer whenever they were made.
func TarUpperClamped(upper string, w io.Writer, skip Skip, clamp time.Time) (*Result, error) {
	return writeTree(upper, w, treeOptions{upper: true, skip: skip, clamp: clamp})
}

// ScanUpper is TarUpper's Result without the tar: it reads no file's
// content (for a narration that says what the layer will hold).
func ScanUpper(upper string, skip Skip) (*Result, error) {
	return writeTree(upper, io.Discard, treeOptions{upper: true, skip: skip, scan: true})
}

type treeOptions struct {
	upper bool // an overlay upper directory, written as a layer
	skip  Skip
	scan  bool      // headers only: no file's content is read
	clamp time.Time // if set, no time is written later than this one
}

func writeTree(dir string, w io.Writer, o treeOptions) (*Result, error) {
	tw := &clampWriter{Writer: tar.NewWriter(w), clamp: o.clamp}
	res := &Result{}
	links := map[[2]uint64]string{} // (dev, ino) of a file seen -> its name, for hard links
	gone := func(err error) bool { return o.upper && errors.Is(err, fs.ErrNotExist) }
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if gone(err) && path != dir {
				return nil // removed while a running container's layer is read
			}
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && o.skip.Has(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if gone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode()&os.ModeSocket != 0 {
			return nil
		}
		name := "./"
		if rel != "." {
			name += rel
		}
		if o.upper {
			if IsWhiteout(info) {
				res.Whiteouts = append(res.Whiteouts, rel)
				return tw.WriteHeader(markHeader("./"+pathpkg.Join(pathpkg.Dir(rel), ".wh."+pathpkg.Base(rel)), info))
			}
			for _, x := range RedirectXattrs {
				if HasXattr(path, x) {
					return fmt.Errorf("%s: overlay %s is not supported (mount without redirect_dir and metacopy)", rel, x)
				}
			}
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
		hdr.Name = name
		if info.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if o.upper {
			if hdr.PAXRecords, err = layerXattrs(path); err != nil {
				return err
			}
		}
		st := info.Sys().(*syscall.Stat_t)
		if info.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[key] = hdr.Name
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			res.Size += hdr.Size
			if o.scan {
				hdr.Size = 0
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if o.upper && info.IsDir() && rel != "." && IsOpaque(path) {
			res.Opaques = append(res.Opaques, rel)
			if err := tw.WriteHeader(markHeader(hdr.Name+OpaqueMarker, info)); err != nil {
				return err
			}
		}
		if hdr.Typeflag != tar.TypeReg || o.scan {
			return nil
		}
		return copyFile(tw, path, hdr.Size, o.upper)
	})
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", dir, err)
	}
	return res, tw.Close()
}

// clampWriter writes no header's time later than clamp (if set).
type clampWriter struct {
	*tar.Writer
	clamp time.Time
}

func (c *clampWriter) WriteHeader(h *tar.Header) error {
	if !c.clamp.IsZero() {
		for _, t := range []*time.Time{&h.ModTime, &h.AccessTime, &h.ChangeTime} {
			if t.After(c.clamp) {
				*t = c.clamp
			}
		}
	}
	return c.Writer.WriteHeader(h)
}

// markHeader is a layer's whiteout or opaque marker: an empty file with
// the owner, mode and time of what it marks, as docker writes them.
func markHeader(name string, info fs.FileInfo) *tar.Header {
	st := info.Sys().(*syscall.Stat_t)
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(info.Mode().Perm()),
		Uid: int(st.Uid), Gid: int(st.Gid), ModTime: info.ModTime()}
}

// copyFile writes size bytes of the file at path to tw. A file that grew
// since its header was written is cut at size; one that shrank is padded
// with zeros where pad is set (a running container's file), an error
// otherwise.
func copyFile(tw io.Writer, path string, size int64, pad bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyN(tw, f, size)
	if errors.Is(err, io.EOF) && pad {
		_, err = io.CopyN(tw, zeros{}, size-n)
	}
	return err
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// layerXattrs are the xattrs of path a layer keeps, as pax records.
func layerXattrs(path string) (map[string]string, error) {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		return nil, ignoreXattrErr(err)
	}
	buf := make([]byte, size)
	if size, err = unix.Llistxattr(path, buf); err != nil {
		return nil, ignoreXattrErr(err)
	}
	var out map[string]string
	for _, x := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if x == "" || overlayXattr(x) || x == "security.selinux" {
			continue
		}
		n, err := unix.Lgetxattr(path, x, nil)
		if err != nil {
			continue // removed meanwhile, or not ours to read
		}
		v := make([]byte, n)
		if n, err = unix.Lgetxattr(path, x, v); err != nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out["SCHILY.xattr."+x] = string(v[:n])
	}
	return out, nil
}

func ignoreXattrErr(err error) error {
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
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
// a layer that set trusted.overlay.* (or user.overlay.*, which a userxattr
// mount reads) itself could redirect lookups.
func setXattrs(path string, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		x, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || overlayXattr(x) {
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

// CopyTree copies the tree under src into the existing directory dst,
// keeping owners, modes, times, links and device nodes (through tar, which
// knows them all).
func CopyTree(src, dst string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(Tar(src, pw)) }()
	err := Untar(pr, dst)
	pr.CloseWithError(err)
	return err
}
