package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The image verbs see two kinds of image: the flat root filesystems of the
// built-in busybox and of `image import` (Flat), and the layered images
// of the store (pull, load, commit). A name that is a flat image's is that
// image; anything else is the store's.

// Catalog is every image mydocker has: the flat ones and the store's.
type Catalog struct {
	Flat  Flat
	Store *Store
}

// RunImage is an image as run takes it.
type RunImage struct {
	// Lower is the overlay's lowerdir option: a flat image's directory,
	// or a layered image's short links (l/<short>, top first) relative to
	// LowerFrom, the store's root, where the mount is done from.
	Lower, LowerFrom string
	// Layers are the layers' directories, top first (one for a flat
	// image), where run looks up files before anything is mounted.
	Layers []string
	// ID and Config are a layered image's id and config (none for a flat one).
	ID     string
	Config *v1.Config
}

// Find returns the top-most layer that has path rel, or the top layer if
// none has: what the merged root would show (whiteouts aside).
func (ri *RunImage) Find(rel string) string {
	for _, l := range ri.Layers {
		if _, err := os.Lstat(filepath.Join(l, rel)); err == nil {
			return l
		}
	}
	return ri.Layers[0]
}

// Resolve returns an image as run takes it. The built-in image busybox is
// built from the host's static busybox the first time it is asked for.
func (c Catalog) Resolve(name string) (*RunImage, error) {
	if c.Flat.Exists(name) {
		dir := c.Flat.Path(Normalize(name))
		return &RunImage{Lower: dir, Layers: []string{dir}}, nil
	}
	if found, err := c.Store.Lookup(name); err == nil {
		return c.layered(found.ID)
	}
	name = Normalize(name)
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	dir := c.Flat.Path(name)
	if _, err := os.Stat(dir); err == nil {
		return &RunImage{Lower: dir, Layers: []string{dir}}, nil
	}
	if name != Busybox {
		return nil, fmt.Errorf("%w: %s (see `mydocker images`; `mydocker image import FILE.tar %s` makes one)", ErrNotExist, name, name)
	}
	if err := c.Flat.K.Do(buildBusyboxOp{f: c.Flat, dir: dir}); err != nil {
		return nil, fmt.Errorf("build image busybox: %w", err)
	}
	return &RunImage{Lower: dir, Layers: []string{dir}}, nil
}

// layered resolves an image of the store by its id: its layers through the
// store's short links, so that many layers fit in the mount options.
func (c Catalog) layered(id string) (*RunImage, error) {
	from, links, err := c.Store.Links(id)
	if err != nil {
		return nil, err
	}
	layers, err := c.Store.Lowerdirs(id)
	if err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("image %s has no layers", id)
	}
	cfg, err := c.Store.Config(id)
	if err != nil {
		return nil, err
	}
	return &RunImage{Lower: strings.Join(links, ":"), LowerFrom: from, Layers: layers, ID: id, Config: &cfg.Config}, nil
}

// Row is one line of `mydocker images`.
type Row struct {
	Repository, Tag string
	ID              string // "sha256:<hex>"; "" for a flat image
	Digest          string // the manifest's digest, when it came from a registry
	Created         time.Time
	Size            int64 // -1: not measured (a flat image)
}

// List is every image, the store's (newest first) then the flat ones.
func (c Catalog) List() ([]Row, error) {
	list, err := c.Store.List()
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, im := range list {
		row := Row{Repository: "<none>", Tag: "<none>", ID: im.ID, Created: im.Created, Size: im.Size}
		if len(im.RepoDigests) > 0 {
			row.Digest = im.Manifest
		}
		if len(im.Tags) == 0 {
			rows = append(rows, row)
		}
		for _, t := range im.Tags {
			row.Repository, row.Tag = Familiar(t.Repository), t.TagStr()
			rows = append(rows, row)
		}
	}
	flat, err := c.Flat.List()
	if err != nil {
		return nil, err
	}
	for _, f := range flat {
		rows = append(rows, Row{Repository: f.Name, Tag: "latest", Created: f.Created, Size: -1})
	}
	return rows, nil
}

// Remove is `rmi`: a flat image, or the store's (untagged, and deleted
// with its last tag), refused while one of users runs it unless force. It
// returns what it did, a line each.
func (c Catalog) Remove(ref string, force bool, users []User) ([]string, error) {
	if c.Flat.Exists(ref) {
		if err := c.Flat.Remove(ref, users, force); err != nil {
			return nil, err
		}
		return []string{"Deleted: " + Normalize(ref)}, nil
	}
	did, err := c.Store.Remove(ref, force, users)
	if errors.Is(err, ErrNotExist) && ValidateName(Normalize(ref)) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, ref)
	}
	return did, err
}

// Inspection is `image inspect`'s object, shaped like docker's.
type Inspection struct {
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

// Inspect returns an image's inspection.
func (c Catalog) Inspect(ref string) (*Inspection, error) {
	if c.Flat.Exists(ref) {
		name := Normalize(ref)
		info, err := os.Stat(c.Flat.Path(name))
		if err != nil {
			return nil, err
		}
		return &Inspection{RepoTags: []string{name + ":latest"}, RepoDigests: []string{}, Created: info.ModTime(),
			GraphDriver: GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": c.Flat.Path(name)}},
			RootFS:      RootFS{Type: "rootfs"}}, nil
	}
	s := c.Store
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
	out := &Inspection{ID: im.ID, RepoTags: []string{}, RepoDigests: []string{}, Created: im.Created, Config: &cfg.Config,
		Architecture: cfg.Architecture, Os: cfg.OS, Size: im.Size,
		GraphDriver: GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": strings.Join(lower, ":")}},
		RootFS:      RootFS{Type: "layers"}}
	for _, t := range im.Tags {
		out.RepoTags = append(out.RepoTags, Familiar(t.Repository)+":"+t.TagStr())
	}
	sort.Strings(out.RepoTags)
	for _, d := range im.RepoDigests {
		out.RepoDigests = append(out.RepoDigests, FamiliarString(d))
	}
	for _, l := range im.Layers {
		out.RootFS.Layers = append(out.RootFS.Layers, l.DiffID)
	}
	return out, nil
}
