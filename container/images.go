package container

import (
	"github.com/mydocker/mydocker/container/image"
)

// The images themselves are package image's (image.Catalog): here is what
// needs the containers, which images are in use.

// imageUsers are the containers, as the image store knows them.
func (r *Runtime) imageUsers() ([]image.User, error) {
	cs, err := r.store().List()
	if err != nil {
		return nil, err
	}
	users := make([]image.User, 0, len(cs))
	for _, c := range cs {
		users = append(users, image.User{Name: c.Name, ID: c.ID, Image: c.Image, ImageID: c.ImageID})
	}
	return users, nil
}

// RemoveImage is `rmi`: a flat image, or the store's (untagged, and
// deleted with its last tag), refused while a container uses it unless
// force. It returns what it did, a line each.
func (r *Runtime) RemoveImage(ref string, force bool) ([]string, error) {
	users, err := r.imageUsers()
	if err != nil {
		return nil, err
	}
	return r.Catalog().Remove(ref, force, users)
}

// PruneImages is `image prune`: the store's untagged images no container
// uses, and what no image names any more.
func (r *Runtime) PruneImages() ([]string, error) {
	users, err := r.imageUsers()
	if err != nil {
		return nil, err
	}
	return r.ImageStore().Prune(users)
}
