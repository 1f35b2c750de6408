package inroot

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"
)

// Tar writes the tree at name to w, its top entry called as (as docker
// cp names it: the source's last component, or the destination's); with
// as "", only what a directory holds, each entry by its own name. Owners,
// modes, times, links (hard and symbolic) and device nodes are kept; a
// link at name itself is copied as a link (resolve it first to follow it).
// A file that shrinks while it is read (a running container's) is padded
// with zeros, one that vanishes is left out.
func (r *Root) Tar(w io.Writer, name, as string) error {
	tw := tar.NewWriter(w)
	t := tarrer{r: r, tw: tw, links: map[[2]uint64]string{}}
	if err := t.entry(Clean(name), as, true); err != nil {
		return err
	}
	return tw.Close()
}

type tarrer struct {
	r     *Root
	tw    *tar.Writer
	links map[[2]uint64]string // (dev, inode) of a file written -> its entry's name
}

func (t *tarrer) entry(name, as string, top bool) error {
	fi, err := t.r.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) && !top {
		return nil // removed meanwhile
	}
	if err != nil {
		return err
	}
	if as != "" {
		if err := t.header(name, as, fi); err != nil {
			return err
		}
	}
	if !fi.IsDir() {
		return nil
	}
	d, err := t.r.OpenDir(name, false)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		if err := t.entry(path.Join(name, n), path.Join(as, n), false); err != nil {
			return err
		}
	}
	return nil
}

func (t *tarrer) header(name, as string, fi fs.FileInfo) error {
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = t.r.Readlink(name); err != nil {
			return err
		}
	}
	if fi.Mode()&fs.ModeSocket != 0 {
		return nil // tar has no form for it
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	hdr.Name, hdr.Uname, hdr.Gname = as, "", "" // the host's user names mean nothing here
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Format = tar.FormatPAX
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st != nil && fi.Mode().IsRegular() && st.Nlink > 1 {
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := t.links[key]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return t.tw.WriteHeader(hdr)
		}
		t.links[key] = as
	}
	if !fi.Mode().IsRegular() {
		return t.tw.WriteHeader(hdr)
	}
	f, err := t.r.Open(name, false)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(t.tw, io.LimitReader(f, hdr.Size))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if n < hdr.Size { // shrunk while read
		_, err = io.CopyN(t.tw, zeros{}, hdr.Size-n)
	}
	return err
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// Owner is who the files Untar makes belong to; nil keeps the archive's.
type Owner struct{ UID, GID int }

// Untar unpacks the tar stream rd into the directory dest of the root:
// each entry under dest, whatever its name says ("../x" stays in dest),
// what was at a non-directory's name replaced, links kept as they are
// (followed later only inside the root). The files belong to owner, or
// to the archive's owners when owner is nil.
func (r *Root) Untar(rd io.Reader, dest string, owner *Owner) error {
	tr := tar.NewReader(rd)
	type dirTimes struct {
		name string
		ts   [2]unix.Timespec
	}
	var dirs []dirTimes
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read the tar stream: %w", err)
		}
		rel := Clean(hdr.Name)
		if rel == "/" {
			continue // the "./" entry: dest itself is left as it is
		}
		name := path.Join(Clean(dest), rel)
		uid, gid := hdr.Uid, hdr.Gid
		if owner != nil {
			uid, gid = owner.UID, owner.GID
		}
		mode := uint32(hdr.Mode) & 0o7777
		ts := [2]unix.Timespec{unix.NsecToTimespec(hdr.AccessTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
		if hdr.AccessTime.IsZero() {
			ts[0] = ts[1]
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := r.Mkdir(name, 0o700); err != nil {
				return err
			}
			if err := r.fixDir(name, uid, gid, mode); err != nil {
				return err
			}
			dirs = append(dirs, dirTimes{name, ts})
			continue
		case tar.TypeReg, tar.TypeRegA:
			err = r.writeFile(name, tr, uid, gid, mode)
		case tar.TypeSymlink:
			if err = r.Symlink(hdr.Linkname, name); err == nil {
				err = r.Lchown(name, uid, gid)
			}
		case tar.TypeLink:
			err = r.Link(path.Join(Clean(dest), Clean(hdr.Linkname)), name)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
			if err = r.Mknod(name, kind|mode, unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))); err == nil {
				err = r.Lchown(name, uid, gid)
			}
		default:
			continue // pax and GNU extras the reader has read; nothing to make
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeLink {
			if err := r.Chtimes(name, ts); err != nil {
				return err
			}
		}
	}
	// A directory's times last: what was made in it changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := r.Chtimes(dirs[i].name, dirs[i].ts); err != nil {
			return err
		}
	}
	return nil
}

// writeFile makes the file name with the content of rd, then its owner and
// mode (in that order: a chown clears the set-id bits), on the open file.
func (r *Root) writeFile(name string, rd io.Reader, uid, gid int, mode uint32) error {
	f, err := r.Create(name, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rd)
	if err == nil {
		err = f.Chown(uid, gid)
	}
	if err == nil {
		err = f.Chmod(fileMode(mode))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// fixDir sets a directory's owner and mode through an open descriptor.
func (r *Root) fixDir(name string, uid, gid int, mode uint32) error {
	d, err := r.OpenDir(name, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Chown(uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", name, err)
	}
	if err := d.Chmod(fileMode(mode)); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}

// fileMode turns permission and set-id bits as stat(2) has them into Go's.
func fileMode(m uint32) os.FileMode {
	out := os.FileMode(m & 0o777)
	if m&unix.S_ISUID != 0 {
		out |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		out |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		out |= os.ModeSticky
	}
	return out
}
