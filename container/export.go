package container

import (
	"fmt"
	"io"
	"path/filepath"
	goruntime "runtime"

	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Export writes a container's root filesystem to w as a plain tarball, as
// docker export: its image with its changes, running or not; never what is
// mounted on it (volumes, binds, tmpfs, /proc, the /etc files mydocker
// binds). `image import` reads it back.
//
// The filesystem is a read-only overlay of its own, in a mount namespace of
// export's own (one locked thread, as cp's for a stopped container): the
// container's writable layer as the top lower layer, its image's below.
// Overlay reads whiteouts and opaque directories in a lower layer as in an
// upper one, so this is the container's view without its mounts. (A bind
// of /proc/PID/root would carry its mounts, and a mount of another mount
// namespace cannot be cloned without them: EINVAL.) While the container
// runs, its layer is read as cp reads it, not frozen, and the kernel logs
// that the directory is also another overlay's upper.
func (r *Runtime) Export(ref string, w io.Writer) error {
	c, err := r.store().Get(ref)
	if err != nil {
		return err
	}
	r.letContainer(c)
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, alone in the new mount namespace,
		// ends with this goroutine.
		goruntime.LockOSThread()
		errc <- r.export(c, w)
	}()
	return <-errc
}

func (r *Runtime) export(c *Config, w io.Writer) error {
	layer := r.Paths.LayerDir(c.ID)
	upper, view := filepath.Join(layer, "upper"), filepath.Join(layer, "export")
	err := r.K.Do(
		exportMountnsOp{ownMountnsOp{At: kernel.Here()}},
		kernel.Mkdir{Path: upper, Reason: "the container's writable layer (never started: made now)"},
		kernel.Mkdir{Path: view, Reason: "where export sees the container's filesystem"},
		kernel.Mount{At: kernel.Here(), Source: "overlay", Target: view, FSType: "overlay", Dir: c.ImageLowerFrom,
			Data:   fmt.Sprintf("lowerdir=%s:%s", upper, c.ImagePath),
			Reason: "the container's filesystem, read-only and without its mounts: its writable layer as the top lower layer, its image below"})
	if err != nil {
		return fmt.Errorf("mount the filesystem of %s: %w", c.Name, err)
	}
	if err := archive.Tar(view, w); err != nil {
		return fmt.Errorf("export %s: %w", c.Name, err)
	}
	return nil
}

// exportMountnsOp is ownMountnsOp, told for export.
type exportMountnsOp struct{ ownMountnsOp }

func (exportMountnsOp) Why() string {
	return "export mounts the container's filesystem in a mount namespace of its own, which goes, mount and all, when export ends (even killed)"
}
