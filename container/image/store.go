package image

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
)

// MaxLayers is docker's limit on an image's layers (overlay's lowerdir
// stack is bounded too).
const MaxLayers = 128

// ErrNotExist is returned for an image the store does not have.
var ErrNotExist = errors.New("no such image")

// Store is the image store rooted at Root (<data-root>/image). Every change
// goes through K.
type Store struct {
	Root string
	K    kernel.Kernel
	// Progress, if set, gets a line per layer fetched, rewritten as it
	// comes (for a terminal).
	Progress io.Writer
}

// NewStore returns the store at root.
func NewStore(root string, k kernel.Kernel) *Store { return &Store{Root: root, K: k} }

// Record is an image: what images/<id hex>.json holds.
type Record struct {
	ID          string // the config's digest, "sha256:<hex>"
	Manifest    string // the manifest's digest
	MediaType   string // the manifest's media type
	Layers      []Layer
	RepoDigests []string // REPO@<manifest digest>, for each repository it came from
	Created     time.Time
	Size        int64 // the unpacked layers' bytes
}

// Layer is one layer of an image, bottom first in Record.Layers.
type Layer struct {
	Digest    string // the blob (compressed, as the manifest names it)
	MediaType string
	DiffID    string // the uncompressed tar's digest
	ChainID   string // names the unpacked directory
	Size      int64  // the blob's size
}

// layerMeta is layers/<hex>/layer.json.
type layerMeta struct {
	ChainID, DiffID, Parent string
	Size                    int64 // bytes of the files it holds
}

// repositories is repositories.json.
type repositories struct {
	Tags map[string]string // full tag reference -> image id
}

func (s *Store) lockPath() string   { return filepath.Join(s.Root, ".lock") }
func (s *Store) reposPath() string  { return filepath.Join(s.Root, "repositories.json") }
func (s *Store) recordsDir() string { return filepath.Join(s.Root, "images") }
func (s *Store) layersDir() string  { return filepath.Join(s.Root, "layers") }
func (s *Store) linksDir() string   { return filepath.Join(s.Root, "l") }
func (s *Store) blobPath(d v1.Hash) string {
	return filepath.Join(s.Root, "blobs", d.Algorithm, d.Hex)
}
func (s *Store) recordPath(id v1.Hash) string {
	return filepath.Join(s.recordsDir(), id.Hex+".json")
}
func (s *Store) layerDir(chain v1.Hash) string { return filepath.Join(s.layersDir(), chain.Hex) }

// shortLink is the name of a layer's link in l/: 16 hex digits of its
// chain id, so 128 lowerdirs "l/<short>" take 2.4 KB of the mount options.
func shortLink(chain v1.Hash) string { return chain.Hex[:16] }

func (s *Store) lock() (func(), error) { return statefile.Lock(s.lockPath()) }

func (s *Store) readRepos() (repositories, error) {
	var r repositories
	err := kernel.ReadState(s.K, s.reposPath(), &r)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	return r, err
}

// readRecord reads and checks one image record.
func (s *Store) readRecord(id v1.Hash) (*Record, error) {
	var r Record
	if err := kernel.ReadState(s.K, s.recordPath(id), &r); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotExist, id)
		}
		return nil, err
	}
	if r.ID != id.String() || len(r.Layers) > MaxLayers {
		return nil, statefile.Corrupt(s.recordPath(id), errors.New("its id or layers do not check"))
	}
	for _, l := range r.Layers {
		if _, err := v1.NewHash(l.ChainID); err != nil {
			return nil, statefile.Corrupt(s.recordPath(id), err)
		}
	}
	return &r, nil
}

// records lists every image record; a broken one is skipped and reported
// through bad (one broken file never breaks the others).
func (s *Store) records(bad func(error)) ([]*Record, error) {
	names, err := kernel.StateNames(s.K, s.recordsDir())
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, n := range names {
		h, err := v1.NewHash("sha256:" + strings.TrimSuffix(n, ".json"))
		if err != nil || !strings.HasSuffix(n, ".json") {
			continue
		}
		r, err := s.readRecord(h)
		if err != nil {
			bad(err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Summary is one image with its tags, for `images` and `inspect`.
type Summary struct {
	*Record
	Tags []name.Tag
}

// List returns the images, newest first, each with its tags.
func (s *Store) List() ([]Summary, error) {
	recs, err := s.records(func(err error) { s.K.Log().Warn(err) })
	if err != nil {
		return nil, err
	}
	repos, err := s.readRepos()
	if err != nil {
		return nil, err
	}
	tags := map[string][]name.Tag{}
	for t, id := range repos.Tags {
		if tag, err := name.NewTag(t); err == nil {
			tags[id] = append(tags[id], tag)
		}
	}
	out := make([]Summary, 0, len(recs))
	for _, r := range recs {
		ts := tags[r.ID]
		sort.Slice(ts, func(i, j int) bool { return ts[i].Name() < ts[j].Name() })
		out = append(out, Summary{Record: r, Tags: ts})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Lookup finds an image by tag (alpine, alpine:3.20, host:5000/app:v1),
// by digest (REPO@sha256:...) or by id (sha256:<hex>, or 12 or more of its
// hex digits).
func (s *Store) Lookup(ref string) (*Summary, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	if id := strings.TrimPrefix(ref, "sha256:"); len(id) >= 12 && isHex(id) {
		var found []Summary
		for _, im := range list {
			if strings.HasPrefix(strings.TrimPrefix(im.ID, "sha256:"), id) {
				found = append(found, im)
			}
		}
		if len(found) == 1 {
			return &found[0], nil
		}
		if len(found) > 1 {
			return nil, fmt.Errorf("image id %s is ambiguous: give more of it", ref)
		}
	}
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	for i, im := range list {
		if d, ok := r.(name.Digest); ok {
			for _, rd := range im.RepoDigests {
				if rd == d.Name() {
					return &list[i], nil
				}
			}
			continue
		}
		for _, t := range im.Tags {
			if t.Name() == r.Name() {
				return &list[i], nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotExist, ref)
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s[:len(s)/2*2])
	return err == nil
}

// Lowerdirs returns the directories of an image's layers, top first, as
// overlay's lowerdir takes them.
func (s *Store) Lowerdirs(ref string) ([]string, error) {
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(im.Layers) - 1; i >= 0; i-- {
		h, _ := v1.NewHash(im.Layers[i].ChainID) // checked by readRecord
		out = append(out, filepath.Join(s.layerDir(h), "diff"))
	}
	return out, nil
}

// Links returns the same layers as short paths relative to dir (the
// store's root), "l/<short>", top first: a mount done from dir with these
// fits 128 layers in the mount options, as overlay2's l/ does.
func (s *Store) Links(ref string) (dir string, lower []string, err error) {
	im, err := s.Lookup(ref)
	if err != nil {
		return "", nil, err
	}
	for i := len(im.Layers) - 1; i >= 0; i-- {
		h, _ := v1.NewHash(im.Layers[i].ChainID)
		lower = append(lower, filepath.Join("l", shortLink(h)))
	}
	return s.Root, lower, nil
}

// Config returns an image's config file (Config holds Env, Entrypoint,
// Cmd, WorkingDir, User, ExposedPorts, StopSignal, Labels).
func (s *Store) Config(ref string) (*v1.ConfigFile, error) {
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	return s.configOf(im.Record)
}

func (s *Store) configOf(r *Record) (*v1.ConfigFile, error) {
	id, err := v1.NewHash(r.ID)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.blobPath(id))
	if err != nil {
		return nil, fmt.Errorf("image %s: its config: %w", r.ID, err)
	}
	defer f.Close()
	cfg, err := v1.ParseConfigFile(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: its config %s: %w", r.ID, s.blobPath(id), err)
	}
	return cfg, nil
}

// Tag makes dst name the image src names.
func (s *Store) Tag(src, dst string) error {
	ref, err := ParseReference(dst)
	if err != nil {
		return err
	}
	tag, ok := ref.(name.Tag)
	if !ok {
		return fmt.Errorf("tag %s: a tag, not a digest, is wanted", dst)
	}
	im, err := s.Lookup(src)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return s.setTags(im.ID, []name.Tag{tag})
}

// setTags points tags at id; the caller holds the lock.
func (s *Store) setTags(id string, tags []name.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	repos, err := s.readRepos()
	if err != nil {
		return err
	}
	for _, t := range tags {
		repos.Tags[t.Name()] = id
	}
	return s.K.Do(kernel.WriteState{Path: s.reposPath(), Value: repos})
}

// User is a container as the store needs to know it: what image it runs.
type User struct {
	Name, ID string
	Image    string // as given to run
	ImageID  string // the image id, when recorded
}

// Remove untags or deletes an image, as docker's rmi: a tag given untags
// it, and the image goes with its last tag; an id or digest given deletes
// the image (with -f even when it has several tags). Deleting an image a
// container uses is refused; with force the image is untagged and kept for
// the container (its layers are under it). It returns what it did, as
// docker prints it.
func (s *Store) Remove(ref string, force bool, users []User) ([]string, error) {
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	var user *User
	for i := range users {
		if s.uses(users[i], im) {
			user = &users[i]
			break
		}
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	repos, err := s.readRepos()
	if err != nil {
		return nil, err
	}
	// What goes: the tag given, or, given an id or digest, every tag.
	var untag []string
	if r, err := ParseReference(ref); err == nil && repos.Tags[r.Name()] == im.ID {
		untag = []string{r.Name()}
	} else {
		if len(im.Tags) > 1 && !force {
			return nil, fmt.Errorf("image %s has several tags: remove them one by one, or use -f", ref)
		}
		for _, t := range im.Tags {
			untag = append(untag, t.Name())
		}
	}
	deletes := len(untag) == len(im.Tags)
	if deletes && user != nil && !force {
		return nil, fmt.Errorf("image %s is used by container %s (%.12s): remove the container first, or use -f", ref, user.Name, user.ID)
	}
	var did []string
	for _, t := range untag {
		delete(repos.Tags, t)
		did = append(did, "Untagged: "+FamiliarString(t))
	}
	// Tags first: an image whose removal is cut short is untagged, and
	// `image prune` finishes it.
	if err := s.K.Do(kernel.WriteState{Path: s.reposPath(), Value: repos}); err != nil {
		return nil, err
	}
	if !deletes || user != nil {
		// -f on an image a container uses: untagged, kept for it.
		return did, nil
	}
	id, _ := v1.NewHash(im.ID)
	if err := s.K.Do(kernel.RemoveState{Path: s.recordPath(id)}); err != nil {
		return nil, err
	}
	did = append(did, "Deleted: "+im.ID)
	return did, s.sweep()
}

// uses reports whether container u runs image im: by its recorded id, or
// by the reference it was run with (an id, a tag or a digest).
func (s *Store) uses(u User, im *Summary) bool {
	if u.ImageID != "" {
		return u.ImageID == im.ID
	}
	if id := strings.TrimPrefix(u.Image, "sha256:"); len(id) >= 12 && isHex(id) && strings.HasPrefix(im.ID, "sha256:"+id) {
		return true
	}
	r, err := ParseReference(u.Image)
	if err != nil {
		return false
	}
	for _, t := range im.Tags {
		if t.Name() == r.Name() {
			return true
		}
	}
	return contains(im.RepoDigests, r.Name())
}

// Prune removes the images no tag names and no container uses, then what
// no record names (sweep). It returns the ids removed.
func (s *Store) Prune(users []User) ([]string, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var gone []string
	for i := range list {
		im := &list[i]
		if len(im.Tags) > 0 {
			continue
		}
		used := false
		for _, u := range users {
			used = used || s.uses(u, im)
		}
		if used {
			continue
		}
		id, _ := v1.NewHash(im.ID)
		if err := s.K.Do(kernel.RemoveState{Path: s.recordPath(id)}); err != nil {
			return gone, err
		}
		gone = append(gone, im.ID)
	}
	return gone, s.sweep()
}
