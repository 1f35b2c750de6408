package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
	"github.com/mydocker/mydocker/internal/statefile"
)

var errExists = errors.New("image already exists")

// Flat is the store of flat images: one unpacked root filesystem per name
// under Dir (<data-root>/images), used read-only as an overlay lowerdir.
// The built-in busybox and `image import` make them; they have no layers
// and no config.
type Flat struct {
	Dir string
	K   kernel.Kernel
}

// FlatImage is one flat image, as `mydocker images` lists it.
type FlatImage struct {
	Name    string
	Path    string
	Created time.Time
}

// ValidateName keeps flat image names usable as directory names.
func ValidateName(name string) error {
	if len(name) > 128 || !names.Valid(name, names.LowerAlnum, "_.-") || strings.Contains(name, "..") {
		return fmt.Errorf("invalid image name %q: use lowercase letters, digits and _.- (starting with a letter or digit)", name)
	}
	return nil
}

// Normalize drops a ":latest" tag, the only tag a flat image has: the name
// a container records for the image it was run with.
func Normalize(name string) string { return strings.TrimSuffix(name, ":latest") }

// Path is the root filesystem of the flat image called name.
func (f Flat) Path(name string) string { return filepath.Join(f.Dir, name) }

func (f Flat) lock() (func(), error) {
	return statefile.Lock(filepath.Join(f.Dir, ".lock"))
}

// Exists reports whether ref names a flat image that exists.
func (f Flat) Exists(ref string) bool {
	name := Normalize(ref)
	if ValidateName(name) != nil {
		return false
	}
	_, err := os.Stat(f.Path(name))
	return err == nil
}

// List returns the flat images, by name.
func (f Flat) List() ([]FlatImage, error) {
	entries, err := os.ReadDir(f.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []FlatImage
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, FlatImage{Name: e.Name(), Path: f.Path(e.Name()), Created: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Import makes image name from a rootfs tarball (plain or gzip) or a directory.
func (f Flat) Import(src, name string) error {
	name = Normalize(name)
	if err := ValidateName(name); err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	if fi.IsDir() && within(f.Dir, src) {
		return fmt.Errorf("import %s: it holds mydocker's images (%s): the copy would copy itself; import a directory outside --data-root", src, f.Dir)
	}
	return f.create(name, func(tmp string) error {
		if fi.IsDir() {
			return archive.CopyTree(src, tmp)
		}
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		return archive.Untar(in, tmp)
	})
}

// Commit makes flat image name from the flat image directory base with a
// container's overlay upper directory applied to it (applyUpper; none if
// upper is ""), the paths in skip kept as base has them. With mayReplace
// (called under the image lock), an existing image of that name is
// replaced when it says yes.
func (f Flat) Commit(name, base, upper string, skip archive.Skip, mayReplace func() error) error {
	fill := func(tmp string) error {
		if err := archive.CopyTree(base, tmp); err != nil {
			return err
		}
		if upper == "" {
			return nil
		}
		return applyUpper(upper, tmp, skip)
	}
	return f.put(name, fill, mayReplace)
}

// create fills a temporary directory with fill and renames it to the image,
// so an image is either whole or absent. An existing name is refused.
func (f Flat) create(name string, fill func(tmp string) error) error {
	return f.put(name, fill, nil)
}

// put is create that, when the name exists and mayReplace (called under
// the image lock) says yes, replaces the old image with the new one: the
// new one is complete before the old one is moved away.
func (f Flat) put(name string, fill func(tmp string) error, mayReplace func() error) error {
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return fmt.Errorf("create image directory: %w", err)
	}
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	dir := f.Path(name)
	exists := false
	if _, err := os.Stat(dir); err == nil {
		if mayReplace == nil {
			return fmt.Errorf("%w: %s (remove it first with `mydocker image rm %s`)", errExists, name, name)
		}
		if err := mayReplace(); err != nil {
			return err
		}
		exists = true
	}
	tmp, err := os.MkdirTemp(f.Dir, ".tmp-"+name+"-")
	if err != nil {
		return fmt.Errorf("create image %s: %w", name, err)
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("create image %s: %w", name, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	var old string
	if exists {
		old = filepath.Join(f.Dir, ".rm-"+filepath.Base(tmp))
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("replace image %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("create image %s: %w", name, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Remove deletes a flat image. Containers are made on top of it, so it is
// refused while any container (running or not) uses it, unless force.
func (f Flat) Remove(name string, users []User, force bool) error {
	name, dir, err := f.existing(name)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Image == name && !force {
			return fmt.Errorf("image %s is used by container %s (%s): remove the container first, or use -f", name, u.Name, names.ShortID(u.ID))
		}
	}
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	// Rename first so a half-removed image is never used.
	tmp := filepath.Join(f.Dir, ".rm-"+name)
	os.RemoveAll(tmp)
	if err := os.Rename(dir, tmp); err != nil {
		return fmt.Errorf("remove image %s: %w", name, err)
	}
	return os.RemoveAll(tmp)
}

// Export writes a flat image as a plain rootfs tarball.
func (f Flat) Export(name string, w io.Writer) error {
	_, dir, err := f.existing(name)
	if err != nil {
		return err
	}
	return archive.Tar(dir, w)
}

// existing returns the name of flat image ref and its directory, or why
// there is none.
func (f Flat) existing(ref string) (name, dir string, err error) {
	name = Normalize(ref)
	if err := ValidateName(name); err != nil {
		return "", "", err
	}
	dir = f.Path(name)
	if _, err := os.Stat(dir); err != nil {
		return "", "", fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	return name, dir, nil
}

// ExportTo writes image name as a plain tarball to the file out, or to
// stdout when out is "" (archive.WriteOut's rules).
func (f Flat) ExportTo(name, out string, stdout *os.File) error {
	err := archive.WriteOut(out, stdout, func(w io.Writer) error { return f.Export(name, w) })
	if err != nil && !errors.Is(err, archive.ErrTerminal) {
		return fmt.Errorf("export %s: %w", name, err)
	}
	return err
}

// within reports whether path is dir or under it, both with their links
// resolved (path need not exist yet: its nearest existing parent is used).
func within(path, dir string) bool {
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	p, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			return false
		}
		p = parent
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
