package archive

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Overlay's marks in an upper directory (Documentation/filesystems/
// overlayfs.rst). The kernel writes them under "trusted.", or under "user."
// when mounted with userxattr.
var (
	opaqueXattrs = []string{"trusted.overlay.opaque", "user.overlay.opaque"}
	// RedirectXattrs mark a directory renamed with redirect_dir and a
	// metacopy-only file: both need the lower layers to resolve.
	RedirectXattrs = []string{"trusted.overlay.redirect", "user.overlay.redirect", "trusted.overlay.metacopy", "user.overlay.metacopy"}
)

// IsWhiteout reports overlay's mark of a deleted path: a 0/0 char device.
func IsWhiteout(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && info.Mode()&fs.ModeCharDevice != 0 && info.Mode()&fs.ModeDevice != 0 && st.Rdev == 0
}

// IsOpaque reports overlay's mark of a directory that replaces the lower
// one instead of merging with it: the opaque xattr set to "y".
func IsOpaque(path string) bool {
	for _, x := range opaqueXattrs {
		buf := make([]byte, 8)
		n, err := unix.Lgetxattr(path, x, buf)
		if err == nil && string(buf[:n]) == "y" {
			return true
		}
	}
	return false
}

// HasXattr reports whether path (not followed) has the xattr name.
func HasXattr(path, name string) bool {
	_, err := unix.Lgetxattr(path, name, nil)
	return err == nil || errors.Is(err, unix.ERANGE)
}

// Skip is a set of slash-separated paths relative to a tree's root
// ("etc/hosts"), each left out with all that is below it.
type Skip []string

// Has reports whether rel is one of the paths or below one.
func (s Skip) Has(rel string) bool {
	for _, p := range s {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// overlayXattr reports an xattr that is overlay's bookkeeping, never a
// file's own: it is not written to a layer (and Extract never sets one).
func overlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}
