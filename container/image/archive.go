package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
)

// stored is an image of the store as the library sees one (for push and
// save): its manifest and config, and its layers' blobs.
type stored struct {
	s   *Store
	rec *Record
}

func (i stored) RawConfigFile() ([]byte, error) {
	id, err := v1.NewHash(i.rec.ID)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(i.s.blobPath(id))
}
func (i stored) MediaType() (types.MediaType, error) { return types.MediaType(i.rec.MediaType), nil }
func (i stored) RawManifest() ([]byte, error) {
	d, err := v1.NewHash(i.rec.Manifest)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(i.s.blobPath(d))
}
func (i stored) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.rec.Layers {
		if l.Digest == h.String() {
			return storedLayer{path: i.s.blobPath(h), digest: h, size: l.Size, mediaType: types.MediaType(l.MediaType)}, nil
		}
	}
	return nil, fmt.Errorf("image %s has no layer %s", i.rec.ID, h)
}

type storedLayer struct {
	path      string
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
}

func (l storedLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l storedLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l storedLayer) Size() (int64, error)                { return l.size, nil }
func (l storedLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// image is a record as a v1.Image.
func (s *Store) image(rec *Record) (v1.Image, error) {
	return partial.CompressedToImage(stored{s: s, rec: rec})
}

// Save writes images to w as a `docker save` tar (manifest.json and
// repositories), which docker and podman load. Each is named by the
// reference given, or by all its tags when given by id.
func (s *Store) Save(refs []string, w io.Writer) error {
	byRef := map[name.Reference]v1.Image{}
	for _, ref := range refs {
		im, err := s.Lookup(ref)
		if err != nil {
			return err
		}
		img, err := s.image(im.Record)
		if err != nil {
			return err
		}
		if r, err := ParseReference(ref); err == nil {
			if t, ok := r.(name.Tag); ok {
				byRef[t] = img
				continue
			}
		}
		for _, t := range im.Tags {
			byRef[t] = img
		}
		if len(im.Tags) == 0 {
			return fmt.Errorf("save %s: the image has no tag to save it under (tag it first)", ref)
		}
	}
	if err := tarball.MultiRefWrite(byRef, w); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// archiveSource narrates blobs read from an archive.
type archiveSource struct{ file string }

func (a archiveSource) fetch(d v1.Hash, tmp string) kernel.Command {
	return kernel.Command{Comment: "mydocker copies " + d.String() + " from " + a.file + " to " + tmp}
}
func (a archiveSource) from() string  { return "from " + a.file }
func (a archiveSource) saved() string { return "" }

// Loaded is one image a load stored, with the tags it got.
type Loaded struct {
	ID   string
	Tags []name.Tag
}

// Load reads a docker save tar (old and >= 25 style), an OCI archive (a
// tar of an OCI layout) or an OCI layout directory, from file (or from r
// when file is "" or "-", copied to a temp file first: the formats need
// to seek), and stores each image in it.
func (s *Store) Load(file string, r io.Reader) ([]Loaded, error) {
	if file == "" || file == "-" {
		if err := os.MkdirAll(s.Root, 0o700); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(s.Root, fmt.Sprintf(".tmp-%d-load-", os.Getpid()))
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("load: read stdin: %w", err)
		}
		out, err := s.loadFile(f.Name(), archiveSource{file: "stdin"})
		return out, err
	}
	return s.loadFile(file, archiveSource{file: file})
}

func (s *Store) loadFile(file string, src archiveSource) ([]Loaded, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if fi.IsDir() {
		return s.loadLayout(file, src)
	}
	names, err := tarNames(file)
	if err != nil {
		return nil, fmt.Errorf("load %s: not a tar archive (%w)", file, err)
	}
	switch {
	case names["manifest.json"]:
		return s.loadDocker(file, src)
	case names["index.json"] && names["oci-layout"]:
		if err := os.MkdirAll(s.Root, 0o700); err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp(s.Root, fmt.Sprintf(".tmp-%d-load-", os.Getpid()))
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		err = archive.Untar(f, dir)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", file, err)
		}
		return s.loadLayout(dir, src)
	}
	return nil, fmt.Errorf("load %s: neither a docker save archive (no manifest.json) nor an OCI archive (no index.json and oci-layout)", file)
}

// tarNames lists the names of a tar's entries, reading it whole: a
// truncated or corrupt archive is refused before anything is stored.
func tarNames(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if len(names) == 0 {
				return nil, errors.New("empty")
			}
			return names, nil
		}
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return nil, fmt.Errorf("%s: %w (truncated?)", h.Name, err)
		}
		names[strings.TrimPrefix(filepath.Clean(h.Name), "./")] = true
	}
}

func (s *Store) loadDocker(file string, src archiveSource) ([]Loaded, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	var out []Loaded
	for _, d := range m {
		var tags []name.Tag
		for _, t := range d.RepoTags {
			tag, err := name.NewTag(t)
			if err != nil {
				return nil, fmt.Errorf("load %s: tag %q: %w", file, t, err)
			}
			tags = append(tags, tag)
		}
		var img v1.Image
		if len(tags) > 0 {
			img, err = tarball.Image(opener, &tags[0])
		} else if len(m) == 1 {
			img, err = tarball.Image(opener, nil)
		} else {
			err = errors.New("an untagged image among several: not supported")
		}
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", file, err)
		}
		rec, err := s.put(img, src, tags, nil)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", file, err)
		}
		out = append(out, Loaded{ID: rec.ID, Tags: tags})
	}
	return out, nil
}

// loadLayout loads each image of an OCI layout's index, named by its
// annotations (io.containerd.image.name, or org.opencontainers.image.ref.name
// when it is a whole reference).
func (s *Store) loadLayout(dir string, src archiveSource) ([]Loaded, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", src.file, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", src.file, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", src.file, err)
	}
	var out []Loaded
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", src.file, err)
		}
		var tags []name.Tag
		for _, key := range []string{"io.containerd.image.name", "org.opencontainers.image.ref.name"} {
			if t, err := name.NewTag(d.Annotations[key]); err == nil && strings.Contains(d.Annotations[key], ":") {
				tags = append(tags, t)
				break
			}
		}
		rec, err := s.put(img, src, tags, nil)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", src.file, err)
		}
		out = append(out, Loaded{ID: rec.ID, Tags: tags})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load %s: the OCI index holds no image", src.file)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
