package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/archive"
)

// Commit makes image name from a container's root filesystem: its image
// plus what the container changed. It works on running and stopped
// containers. With replace, an existing image of that name is replaced
// (for a flat image, unless a container is made on it).
//
// A container of an image of the store (pulled or loaded) commits as
// docker does: its image plus one new layer, a tar of its upper directory
// (commitLayer). A flat image (the built-in busybox, `image import`) has
// no layers to stack on: its commit is a new flat image, a copy of the
// image with the container's upper directory applied to it, whiteouts and
// opaque directories as overlayfs means them (image.Flat.Commit).
//
// Why the upper directory: the other way, reading the merged view of a
// running container through /proc/<pid>/root, would need to know and skip
// every mount inside it (volumes, /proc, /sys, /dev, the /etc files) and
// would not work once it stopped. The upper directory holds exactly the
// container's changes in both states: a volume's contents live on the
// host, never in it; /proc, /sys and /dev are mounts on top. What remains
// to skip are the mount points the runtime itself made there (commitSkip).
//
// A running container may write while we read: the image is then some mix
// of before and after that write, as with `docker commit --pause=false`.
func (r *Runtime) Commit(ref, name string, replace bool) error {
	c, err := r.store().Get(ref)
	if err != nil {
		return err
	}
	if c.ImageID != "" {
		return r.commitLayer(c, name, replace)
	}
	name = image.Normalize(name)
	if err := image.ValidateName(name); err != nil {
		return err
	}
	if _, err := os.Stat(c.ImagePath); err != nil {
		return fmt.Errorf("commit %s: its image %s is gone (%w)", c.Name, c.Image, err)
	}
	upper := r.upperDir(c)
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
	return r.images().Commit(name, c.ImagePath, upper, commitSkip(c), mayReplace)
}

// upperDir is the container's overlay upper directory, or "" if it has
// none (it never started: nothing changed).
func (r *Runtime) upperDir(c *Config) string {
	upper := filepath.Join(r.Paths.LayerDir(c.ID), "upper")
	if _, err := os.Stat(upper); errors.Is(err, os.ErrNotExist) {
		return ""
	}
	return upper
}

// commitLayer commits a container of an image of the store: the image
// store makes the new layer from its upper directory and stores the image
// (image.Store.Commit), tagged ref, which is a reference as pull takes one
// ("myapp" is docker.io/library/myapp:latest). A container that never ran
// gets an empty layer, as in docker. With replace, the tag moves to the
// new image; the image it named stays, untagged, for the containers on it
// and `image prune`.
func (r *Runtime) commitLayer(c *Config, ref string, replace bool) error {
	parsed, err := image.ParseReference(ref)
	if err != nil {
		return err
	}
	tag, ok := parsed.(name.Tag)
	if !ok {
		return fmt.Errorf("commit %s: %s names a digest: give a name[:tag]", c.Name, ref)
	}
	if r.images().Exists(ref) {
		return fmt.Errorf("commit %s: image %s already exists as a flat image, which run would take before a tag of that name: commit to another name", c.Name, image.Normalize(ref))
	}
	s := r.ImageStore()
	base, err := s.Config(c.ImageID)
	if err != nil {
		return fmt.Errorf("commit %s: its image %s is gone (%w)", c.Name, c.Image, err)
	}
	upper := r.upperDir(c)
	layer := "an empty one: the container never ran"
	if upper != "" {
		layer = "a tar of the container's layer " + upper + " (whiteouts and opaque directories in the OCI forms)"
	}
	r.K.Log().Infof("Commit %s to image %s: its image %s plus one layer, %s", c.Name, image.FamiliarString(tag.Name()), c.Image, layer)
	_, err = s.Commit(image.Commit{Base: c.ImageID, Upper: upper, Skip: commitSkip(c), Tag: tag, Replace: replace,
		Config: commitConfig(c, base.Config), CreatedBy: strings.Join(c.Cmd, " ")})
	if err != nil {
		return fmt.Errorf("commit %s: %w", c.Name, err)
	}
	return nil
}

// commitConfig is the committed image's config, as docker commit makes it:
// the image's, with the container's Env, command, WorkingDir, User and
// Labels. The container records its whole command (entrypoint, then
// arguments), not how it was split: where it begins with the image's
// Entrypoint, that stays and the rest is the Cmd; otherwise the command is
// the Cmd, with no Entrypoint. Either way a run with no arguments runs the
// container's command.
func commitConfig(c *Config, img v1.Config) v1.Config {
	cfg := img
	cfg.Env, cfg.WorkingDir, cfg.Labels = c.Env, c.WorkingDir, c.Labels
	if c.Security != nil {
		cfg.User = c.Security.Flags.User
	}
	cfg.Entrypoint, cfg.Cmd = nil, c.Cmd
	if n := len(img.Entrypoint); n > 0 && len(c.Cmd) >= n && slices.Equal(c.Cmd[:n], img.Entrypoint) {
		cfg.Entrypoint, cfg.Cmd = img.Entrypoint, c.Cmd[n:]
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = nil
		}
	}
	return cfg
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
