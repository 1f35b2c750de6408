package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// extracted is what an unpack found: the whiteouts (slash-separated paths
// relative to the layer) and opaque directories it left for whiteoutOps,
// and the bytes of its files.
type extracted struct {
	Whiteouts []string
	Opaques   []string
	Size      int64
}

// extractBlob unpacks a layer blob (gzip, zstd or plain tar) into dir and
// checks that the tar's sha256 is diffID.
func extractBlob(blob, dir string, diffID v1.Hash) (*extracted, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(blob) })
	if err != nil {
		return nil, err
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := sha256.New()
	r := io.TeeReader(rc, h)
	out, err := extract(r, dir)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // tar's trailing padding counts too
		return nil, fmt.Errorf("read layer: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID.Hex {
		return nil, fmt.Errorf("digest mismatch: the layer's tar has sha256 %s, its config says %s", got, diffID.Hex)
	}
	return out, nil
}

// extract unpacks a layer tar into dir, keeping owners, modes, times,
// xattrs and hard links. It refuses what would write outside dir: a name
// with "..", or one whose parent in the layer is a symlink (a link to / and
// then a file below it), and a hard link to outside. Whiteouts are listed,
// not written.
func extract(r io.Reader, dir string) (*extracted, error) {
	out := &extracted{}
	tr := tar.NewReader(r)
	type dirMeta struct {
		path string
		hdr  *tar.Header
	}
	var dirs []dirMeta
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read layer: %w (a corrupt or truncated tar)", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // pax defaults for the archive (git archive writes one), not a file
		}
		rel, err := cleanName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if rel == "" {
			continue // the layer's root keeps the image's
		}
		base := path.Base(rel)
		if strings.HasPrefix(base, ".wh.") {
			parent := path.Dir(rel)
			if err := safeParent(dir, rel); err != nil {
				return nil, err
			}
			switch {
			case base == opaqueMarker:
				out.Opaques = append(out.Opaques, parent)
			case strings.HasPrefix(base, ".wh..wh."):
				// aufs' own bookkeeping: nothing in overlay's terms.
			default:
				out.Whiteouts = append(out.Whiteouts, path.Join(parent, strings.TrimPrefix(base, ".wh.")))
			}
			continue
		}
		if err := safeParent(dir, rel); err != nil {
			return nil, err
		}
		target := filepath.Join(dir, rel)
		if hdr.Typeflag == tar.TypeDir {
			if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
				if err := os.Remove(target); err != nil {
					return nil, err
				}
			}
			if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			dirs = append(dirs, dirMeta{target, hdr})
			continue
		}
		// A later entry replaces an earlier one at the same path.
		if err := os.RemoveAll(target); err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
			if err != nil {
				return nil, err
			}
			n, err := io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("read layer: %s: %w (a corrupt or truncated tar)", rel, err)
			}
			out.Size += n
		case tar.TypeSymlink:
			// Its target is read inside the container's root, never
			// followed here.
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return nil, err
			}
		case tar.TypeLink:
			old, err := cleanName(hdr.Linkname)
			if err != nil || old == "" {
				return nil, fmt.Errorf("layer entry %q: hard link to %q leaves the layer", hdr.Name, hdr.Linkname)
			}
			if err := safeParent(dir, old); err != nil {
				return nil, err
			}
			if fi, err := os.Lstat(filepath.Join(dir, old)); err != nil || fi.IsDir() {
				return nil, fmt.Errorf("layer entry %q: hard link to %q, which the layer does not hold before it", hdr.Name, hdr.Linkname)
			}
			if err := os.Link(filepath.Join(dir, old), target); err != nil {
				return nil, err
			}
			continue // a link shares its target's owner, mode and times
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			mode := uint32(hdr.Mode & 0o7777)
			switch hdr.Typeflag {
			case tar.TypeChar:
				mode |= unix.S_IFCHR
			case tar.TypeBlock:
				mode |= unix.S_IFBLK
			default:
				mode |= unix.S_IFIFO
			}
			if err := unix.Mknod(target, mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("layer entry %q: tar type %q is not supported", hdr.Name, hdr.Typeflag)
		}
		if err := setMeta(target, hdr); err != nil {
			return nil, err
		}
	}
	// Directories last: filling one changes its times, and a read-only
	// one would refuse its entries.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := setMeta(dirs[i].path, dirs[i].hdr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cleanName is a tar entry's name relative to the layer's root ("" for the
// root); a name with a ".." component is refused, as docker refuses it.
func cleanName(n string) (string, error) {
	for _, c := range strings.Split(n, "/") {
		if c == ".." {
			return "", fmt.Errorf("layer entry %q leaves the layer (a path traversal): refused", n)
		}
	}
	rel := strings.TrimPrefix(path.Clean("/"+n), "/")
	return rel, nil
}

// safeParent checks that every directory above rel in dir is a directory,
// not a symlink (which would take a write elsewhere), making the missing
// ones as tar does.
func safeParent(dir, rel string) error {
	p := dir
	parts := strings.Split(path.Dir(rel), "/")
	for _, c := range parts {
		if c == "." {
			break
		}
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("layer entry %q goes through %s, which is not a directory (a symlink escape): refused", rel, strings.TrimPrefix(p, dir+"/"))
		}
	}
	return nil
}

// setMeta gives path the entry's owner, mode, xattrs and times, without
// following a symlink. Xattrs the filesystem refuses are left out.
func setMeta(p string, hdr *tar.Header) error {
	if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil && !errors.Is(err, unix.EPERM) {
		return err
	}
	for k, v := range hdr.PAXRecords {
		// overlay's own marks come from whiteouts only: a layer that set
		// trusted.overlay.* itself could redirect lookups elsewhere.
		if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok && !strings.HasPrefix(x, "trusted.overlay.") {
			if err := unix.Lsetxattr(p, x, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
				return fmt.Errorf("set xattr %s on %s: %w", x, p, err)
			}
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// After chown, which clears setuid and setgid.
		if err := unix.Chmod(p, uint32(hdr.Mode&0o7777)); err != nil {
			return err
		}
	}
	mt := hdr.ModTime
	at := hdr.AccessTime
	if at.IsZero() {
		at = mt
	}
	ts := []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(mt.UnixNano())}
	if mt.IsZero() || mt.Before(time.Unix(0, 0)) {
		return nil
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}
