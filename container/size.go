package container

import (
	"path/filepath"

	"github.com/mydocker/mydocker/container/image"
)

// Sizes are `ps -s`'s, as docker's: the bytes a container wrote (its
// writable layer: overlay's upper directory) and its virtual size, those
// plus its image's.
type Sizes struct {
	RW, Virtual int64
}

// Sizes measures c's writable layer and its image (a flat image by walking
// it; a store image by its record's unpacked layers). An image that is
// gone counts nothing: the writable layer is still the container's.
func (r *Runtime) Sizes(c *Config) Sizes {
	rw := dirSize(filepath.Join(r.Paths.LayerDir(c.ID), "upper"))
	var img int64
	if r.images().Exists(c.Image) {
		img = dirSize(r.images().Path(image.Normalize(c.Image)))
	} else {
		ref := c.ImageID
		if ref == "" {
			ref = c.Image
		}
		if im, err := r.ImageStore().Lookup(ref); err == nil {
			img = im.Size
		}
	}
	return Sizes{RW: rw, Virtual: rw + img}
}
