package container

import (
	"errors"
	"strings"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/kernel"
)

// PruneImagesReport is the images part of `system prune`, as docker's:
// the dangling images (the store's untagged ones no container uses), or
// with all every image no container uses, the store's and the flat ones
// (busybox is made again from the host's busybox-static at its next use).
// What it did goes into rep.Images in docker's words ("untagged: NAME",
// "deleted: ID"), and the bytes it freed into rep.Reclaimed.
func (r *Runtime) PruneImagesReport(all bool, rep *PruneReport) error {
	before := r.imagesSize()
	defer func() { rep.Reclaimed += max(0, before-r.imagesSize()) }()
	if !all {
		gone, err := r.PruneImages()
		for _, id := range gone {
			rep.Images = append(rep.Images, "deleted: "+id)
		}
		return err
	}
	users, err := r.imageUsers()
	if err != nil {
		return err
	}
	unused, err := r.ImageStore().Unused(users)
	if err != nil {
		return err
	}
	var errs []error
	for _, im := range unused {
		// By id, with every tag (force: several tags); no container
		// uses it, so it is deleted, not only untagged.
		did, err := r.ImageStore().Remove(im.ID, true, users)
		for _, line := range did {
			rep.Images = append(rep.Images, strings.ToLower(line[:1])+line[1:])
		}
		errs = append(errs, err)
	}
	flat, err := r.images().List()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, im := range flat {
		used := false
		for _, u := range users {
			used = used || u.Image == im.Name
		}
		if used {
			continue
		}
		if err := r.K.Do(removeFlatImageOp{flat: r.images(), name: im.Name, dir: im.Path, users: users}); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Images = append(rep.Images, "deleted: "+im.Name)
	}
	return errors.Join(errs...)
}

// imagesSize is the bytes under the image store and the flat images.
func (r *Runtime) imagesSize() int64 {
	return dirSize(r.Paths.ImageStoreDir()) + dirSize(r.Paths.ImagesDir())
}

// removeFlatImageOp removes a flat image as rmi does (renamed aside first,
// so that a half-removed image is never run), through the seam: said, and
// with --dry-run only planned.
type removeFlatImageOp struct {
	flat      image.Flat
	name, dir string
	users     []image.User
}

func (o removeFlatImageOp) Why() string {
	return "remove the image " + o.name + ": no container uses it"
}
func (o removeFlatImageOp) Command() kernel.Command {
	return kernel.Command{Argv: []string{"rm", "-rf", o.dir}}
}
func (removeFlatImageOp) Plan(*kernel.Plan) error { return nil }
func (o removeFlatImageOp) Apply(*kernel.Exec) error {
	return o.flat.Remove(o.name, o.users, false)
}
