package container

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/container/image"
)

// The image verbs see two kinds of image: the flat root filesystems of the
// built-in busybox and of `image import` (Images), and the layered images
// of the image store (pull, load). A name that is a flat image's is that
// image; anything else is the store's.

// ImageRow is one line of `mydocker images`.
type ImageRow struct {
	Repository, Tag string
	ID              string // "sha256:<hex>"; "" for a flat image
	Digest          string // the manifest's digest, when it came from a registry
	Created         time.Time
	Size            int64 // -1: not measured (a flat image)
}

// flat reports whether ref names a flat image that exists.
func (im Images) flat(ref string) bool {
	name := normalize(ref)
	if ValidateImageName(name) != nil {
		return false
	}
	_, err := os.Stat(im.Paths.ImageDir(name))
	return err == nil
}

// ListImages is every image, the store's (newest first) then the flat ones.
func (r *Runtime) ListImages() ([]ImageRow, error) {
	list, err := r.ImageStore().List()
	if err != nil {
		return nil, err
	}
	var rows []ImageRow
	for _, im := range list {
		row := ImageRow{Repository: "<none>", Tag: "<none>", ID: im.ID, Created: im.Created, Size: im.Size}
		if len(im.RepoDigests) > 0 {
			row.Digest = im.Manifest
		}
		if len(im.Tags) == 0 {
			rows = append(rows, row)
		}
		for _, t := range im.Tags {
			row.Repository, row.Tag = image.Familiar(t.Repository), t.TagStr()
			rows = append(rows, row)
		}
	}
	flat, err := r.images().List()
	if err != nil {
		return nil, err
	}
	for _, f := range flat {
		rows = append(rows, ImageRow{Repository: f.Name, Tag: "latest", Created: f.Created, Size: -1})
	}
	return rows, nil
}

// imageUsers are the containers, as the image store knows them.
func (r *Runtime) imageUsers() ([]*Config, []image.User, error) {
	cs, err := r.store().List()
	if err != nil {
		return nil, nil, err
	}
	users := make([]image.User, 0, len(cs))
	for _, c := range cs {
		users = append(users, image.User{Name: c.Name, ID: c.ID, Image: c.Image, ImageID: c.ImageID})
	}
	return cs, users, nil
}

// RemoveImage is `rmi`: a flat image, or the store's (untagged, and
// deleted with its last tag). It returns what it did, a line each.
func (r *Runtime) RemoveImage(ref string, force bool) ([]string, error) {
	cs, users, err := r.imageUsers()
	if err != nil {
		return nil, err
	}
	if r.images().flat(ref) {
		if err := r.images().Remove(ref, cs, force); err != nil {
			return nil, err
		}
		return []string{"Deleted: " + normalize(ref)}, nil
	}
	did, err := r.ImageStore().Remove(ref, force, users)
	if errors.Is(err, image.ErrNotExist) && ValidateImageName(normalize(ref)) == nil {
		return nil, fmt.Errorf("%w: %s", ErrImageNotExist, ref)
	}
	return did, err
}

// PruneImages is `image prune`: the store's untagged images no container
// uses, and what no image names any more.
func (r *Runtime) PruneImages() ([]string, error) {
	_, users, err := r.imageUsers()
	if err != nil {
		return nil, err
	}
	return r.ImageStore().Prune(users)
}

// ImageInspection is `image inspect`'s object, shaped like docker's.
type ImageInspection struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Created      time.Time
	Config       *v1.Config `json:",omitempty"`
	Architecture string     `json:",omitempty"`
	Os           string     `json:",omitempty"`
	Size         int64
	GraphDriver  GraphDriver
	RootFS       RootFS
}

// GraphDriver says where the image's files are: its layers' directories,
// top first, as overlay's lowerdir.
type GraphDriver struct {
	Name string
	Data map[string]string
}

// RootFS lists the layers' diff ids, bottom first.
type RootFS struct {
	Type   string
	Layers []string `json:",omitempty"`
}

// InspectImage returns an image's inspection.
func (r *Runtime) InspectImage(ref string) (*ImageInspection, error) {
	if r.images().flat(ref) {
		name := normalize(ref)
		info, err := os.Stat(r.Paths.ImageDir(name))
		if err != nil {
			return nil, err
		}
		return &ImageInspection{RepoTags: []string{name + ":latest"}, RepoDigests: []string{}, Created: info.ModTime(),
			GraphDriver: GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": r.Paths.ImageDir(name)}},
			RootFS:      RootFS{Type: "rootfs"}}, nil
	}
	s := r.ImageStore()
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Config(im.ID)
	if err != nil {
		return nil, err
	}
	lower, err := s.Lowerdirs(im.ID)
	if err != nil {
		return nil, err
	}
	out := &ImageInspection{ID: im.ID, RepoTags: []string{}, RepoDigests: []string{}, Created: im.Created, Config: &cfg.Config,
		Architecture: cfg.Architecture, Os: cfg.OS, Size: im.Size,
		GraphDriver: GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": strings.Join(lower, ":")}},
		RootFS:      RootFS{Type: "layers"}}
	for _, t := range im.Tags {
		out.RepoTags = append(out.RepoTags, image.Familiar(t.Repository)+":"+t.TagStr())
	}
	sort.Strings(out.RepoTags)
	for _, d := range im.RepoDigests {
		out.RepoDigests = append(out.RepoDigests, image.FamiliarString(d))
	}
	for _, l := range im.Layers {
		out.RootFS.Layers = append(out.RootFS.Layers, l.DiffID)
	}
	return out, nil
}
