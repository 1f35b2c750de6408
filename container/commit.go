package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/mydocker/mydocker/internal/archive"
)

// Commit makes image name from a container's root filesystem: its image
// plus what the container changed. It works on running and stopped
// containers. With replace, an existing image of that name is replaced,
// unless a container is made on it.
//
// How: a copy of the image (the overlay lowerdir) with the container's
// upper directory applied to it, whiteouts and opaque directories as
// overlayfs means them (applyUpper). The other way, reading the merged view
// of a running container through /proc/<pid>/root, would need to know and
// skip every mount inside it (volumes, /proc, /sys, /dev, the /etc files)
// and would not work once it stopped. The upper directory holds exactly
// the container's changes in both states: a volume's contents live on the
// host, never in it; /proc, /sys and /dev are mounts on top. What remains
// to skip are the mount points the runtime itself made there.
//
// A running container may write while we copy: the image is then some mix
// of before and after that write, as with `docker commit --pause=false`.
func (r *Runtime) Commit(ref, name string, replace bool) error {
	name = normalize(name)
	if err := ValidateImageName(name); err != nil {
		return err
	}
	c, err := r.store().Get(ref)
	if err != nil {
		return err
	}
	if c.ImageID != "" {
		// Its root is a stack of layers, not one directory to copy: commit
		// as a new layer on them is the next step of issue 13.
		return fmt.Errorf("commit %s: its image %s is a layered image (pulled or loaded): commit does not take those yet", c.Name, c.Image)
	}
	if _, err := os.Stat(c.ImagePath); err != nil {
		return fmt.Errorf("commit %s: its image %s is gone (%w)", c.Name, c.Image, err)
	}
	upper := filepath.Join(r.Paths.LayerDir(c.ID), "upper")
	if _, err := os.Stat(upper); errors.Is(err, os.ErrNotExist) {
		upper = "" // never started: nothing changed
	}
	skip := commitSkip(c)
	fill := func(tmp string) error {
		if err := copyTree(c.ImagePath, tmp); err != nil {
			return err
		}
		if upper == "" {
			return nil
		}
		return applyUpper(upper, tmp, skip)
	}
	var mayReplace func() error
	if replace {
		mayReplace = func() error {
			users, err := r.store().List()
			if err != nil {
				return err
			}
			for _, u := range users {
				if u.Image == name {
					return fmt.Errorf("image %s is used by container %s (%s): it cannot be replaced under it; remove the container first, or commit to another name", name, u.Name, ShortID(u.ID))
				}
			}
			return nil
		}
	}
	r.K.Log().Infof("Commit %s to image %s: a copy of image %s with the container's layer %s applied (whiteouts delete, opaque directories replace)", c.Name, name, c.Image, upper)
	return r.images().put(name, fill, mayReplace)
}

// commitSkip lists what the runtime, not the container, put in the upper
// directory: the mount points of the /etc files (hostname, hosts,
// resolv.conf are bind mounts of the state directory: writes go there) and
// of the volumes. The image keeps what it had at those paths.
func commitSkip(c *Config) archive.Skip {
	paths := archive.Skip{"etc/hostname", "etc/hosts", "etc/resolv.conf"}
	for _, m := range c.Mounts {
		paths = append(paths, strings.TrimPrefix(filepath.ToSlash(filepath.Clean(m.Destination)), "/"))
	}
	return paths
}

// copyTree copies the tree under src into the existing directory dst,
// keeping owners, modes, times, links and device nodes (through tar, which
// knows them all).
func copyTree(src, dst string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.Tar(src, pw)) }()
	err := archive.Untar(pr, dst)
	pr.CloseWithError(err)
	return err
}

// ExportTo writes image name as a plain tarball to the file out, or to
// stdout when out is "". The file appears only once complete; a terminal is
// refused as stdout (a tarball would only garble it).
func (im Images) ExportTo(name, out string, stdout *os.File) error {
	if out == "" {
		if term.IsTerminal(int(stdout.Fd())) {
			return errors.New("refusing to write a tarball to a terminal: redirect stdout or use -o FILE")
		}
		return im.Export(name, stdout)
	}
	dir, base := filepath.Split(out)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	err = im.Export(name, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("export %s to %s: %w", name, out, err)
	}
	return nil
}
