package image

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Commit is what a commit makes an image of: a container's overlay upper
// directory on the image it runs.
type Commit struct {
	Base string // the image's id, "sha256:<hex>"
	// Upper is the container's upper directory; "" when it has none (never
	// started): the new layer is then an empty tar, as docker adds one too.
	Upper string
	Skip  archive.Skip // what the runtime put in Upper: left out
	Tag   name.Tag
	// Replace lets Tag move from the image it names (which stays, untagged,
	// for the containers on it and `image prune`); without it, a tag in use
	// is refused.
	Replace bool
	// Config is the new image's (the container's Env, Cmd, WorkingDir, ...),
	// CreatedBy its history entry's (the container's command).
	Config    v1.Config
	CreatedBy string
	Comment   string
}

// Commit stores a new image: the image Base plus one layer, a tar of
// Upper with overlay's whiteouts and opaque directories in the OCI forms
// (archive.TarUpper), and the config c.Config; it is tagged c.Tag. It goes
// through put, as a pull does: the base's layers are already unpacked (the
// same chain ids: shared, not unpacked again), the new one is unpacked once,
// and the record, written last, makes the image; an interrupted commit
// leaves no image, only what put's rules clean up (see the package doc),
// and its layer's temp file, which the next writer removes. The image's
// date is now, or $SOURCE_DATE_EPOCH (SourceDateEpoch), which also bounds
// the times in its layer: a reproducible commit.
func (s *Store) Commit(c Commit) (*Record, error) {
	id, err := v1.NewHash(c.Base)
	if err != nil {
		return nil, fmt.Errorf("image id %q: %w", c.Base, err)
	}
	base, err := s.readRecord(id)
	if err != nil {
		return nil, err
	}
	if len(base.Layers) >= MaxLayers {
		return nil, fmt.Errorf("image %.19s has %d layers already: at most %d are supported", c.Base, len(base.Layers), MaxLayers)
	}
	if !c.Replace {
		if im, err := s.Lookup(c.Tag.Name()); err == nil {
			return nil, fmt.Errorf("image %s already exists (%.19s): commit with --replace to move the tag", FamiliarString(c.Tag.Name()), im.ID)
		} else if !errors.Is(err, ErrNotExist) {
			return nil, err
		}
	}
	img, err := s.image(base)
	if err != nil {
		return nil, err
	}
	if _, err := s.configOf(base); err != nil {
		return nil, err
	}

	blobs := filepath.Join(s.Root, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	epoch, err := SourceDateEpoch()
	if err != nil {
		return nil, err
	}
	if !epoch.IsZero() {
		now = epoch
	}
	op := layerOp{Upper: c.Upper, Skip: c.Skip, Clamp: epoch,
		File: filepath.Join(blobs, fmt.Sprintf(".tmp-%d-%d-layer.tar.gz", os.Getpid(), blobSeq.Add(1)))}
	if c.Upper != "" {
		// What the narration says the layer will hold; a running
		// container may change it meanwhile (the layer is what the tar
		// reads).
		if op.marks, err = archive.ScanUpper(c.Upper, c.Skip); err != nil {
			return nil, err
		}
	}
	defer s.K.Do(kernel.RemoveAll{Path: op.File, Reason: "the layer's temp file: stored under its digest, or not wanted"})
	if err := s.K.Do(op); err != nil {
		return nil, err
	}
	mt := types.DockerLayer
	if types.MediaType(base.MediaType) == types.OCIManifestSchema1 {
		mt = types.OCILayer
	}
	layer, err := tarball.LayerFromFile(op.File, tarball.WithMediaType(mt))
	if err != nil {
		return nil, err
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: mt,
		History: v1.History{Created: v1.Time{Time: now}, CreatedBy: c.CreatedBy, Comment: c.Comment}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = c.Config
	cf.Created = v1.Time{Time: now}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	digest, err := layer.Digest()
	if err != nil {
		return nil, err
	}
	return s.put(img, commitSource{layer: op.File, digest: digest}, []name.Tag{c.Tag}, nil)
}

// commitSource narrates a commit's blobs: its layer is copied from the
// file the tar was written to; its config and manifest are mydocker's own.
type commitSource struct {
	layer  string
	digest v1.Hash
}

func (c commitSource) fetch(d v1.Hash, tmp string) kernel.Command {
	if d == c.digest {
		return kernel.Command{Argv: []string{"cp", c.layer, tmp}}
	}
	return kernel.Command{Comment: "mydocker writes the new image's config (the base's, with the container's settings, the new layer's diff id and a history entry) to " + tmp}
}
func (c commitSource) from() string  { return "from the commit" }
func (c commitSource) saved() string { return "" }

// layerOp writes a container's layer: the tar of its upper directory
// (archive.TarUpper), gzipped, into File.
type layerOp struct {
	Upper string // "": an empty layer
	Skip  archive.Skip
	File  string
	Clamp time.Time       // SOURCE_DATE_EPOCH's: no later time in the tar
	marks *archive.Result // ScanUpper's, for the narration
}

func (l layerOp) Why() string {
	if l.Upper == "" {
		return "the container never ran: its layer is an empty tar"
	}
	return "the container's layer: a tar of its overlay upper directory (what it changed), gzipped"
}

// Command is GNU tar's where it does the same: it has no form for
// overlay's whiteouts and opaque directories, so where the layer holds
// some, a sentence says what happens instead.
func (l layerOp) Command() kernel.Command {
	if l.Upper == "" {
		return kernel.Command{Shell: []string{"tar", "-cf", "-", "-T", "/dev/null", "|", "gzip", "-n", ">", l.File}}
	}
	var excl []string
	clamp := ""
	if !l.Clamp.IsZero() {
		excl = append(excl, fmt.Sprintf("--mtime=@%d", l.Clamp.Unix()), "--clamp-mtime")
		clamp = fmt.Sprintf(" --mtime=@%d --clamp-mtime", l.Clamp.Unix())
	}
	for _, p := range l.Skip {
		excl = append(excl, "--exclude=./"+p)
	}
	if l.marks == nil || len(l.marks.Whiteouts)+len(l.marks.Opaques) == 0 {
		sh := append([]string{"tar", "--numeric-owner", "--xattrs", "--xattrs-exclude=trusted.overlay.*", "--xattrs-exclude=user.overlay.*", "--xattrs-exclude=security.selinux"}, excl...)
		return kernel.Command{Shell: append(sh, "-C", l.Upper, "-cf", "-", ".", "|", "gzip", "-n", ">", l.File)}
	}
	return kernel.Command{Comment: fmt.Sprintf("mydocker tars %s into %s, gzipped, as `tar --numeric-owner --xattrs%s -C %s -cf - . | gzip -n` would, "+
		"but writes its %d whiteouts (0/0 character devices: %s) as empty files .wh.NAME and marks its %d opaque directories (%s) with an empty file %s, "+
		"the forms of an OCI layer, and leaves out the runtime's mount points %s",
		l.Upper, l.File, clamp, l.Upper, len(l.marks.Whiteouts), list(l.marks.Whiteouts), len(l.marks.Opaques), list(l.marks.Opaques),
		archive.OpaqueMarker, strings.Join(l.Skip, ", "))}
}

// list is a few paths, for a sentence.
func list(paths []string) string {
	if len(paths) == 0 {
		return "none"
	}
	if len(paths) > 5 {
		return strings.Join(paths[:5], ", ") + fmt.Sprintf(" and %d more", len(paths)-5)
	}
	return strings.Join(paths, ", ")
}

func (l layerOp) Apply(*kernel.Exec) error {
	f, err := os.OpenFile(l.File, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if l.Upper == "" {
		err = tar.NewWriter(zw).Close()
	} else {
		_, err = archive.TarUpperClamped(l.Upper, zw, l.Skip, l.Clamp)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SourceDateEpochEnv makes a commit reproducible, as it does builds in the
// field (buildkit, buildah, reproducible-builds.org): the image's created
// time and history entry are that time, and no time in its new layer is
// later (tar's --clamp-mtime), so the same changes make the same digests.
const SourceDateEpochEnv = "SOURCE_DATE_EPOCH"

// SourceDateEpoch is $SOURCE_DATE_EPOCH (seconds since 1970), or the zero
// time when it is unset or empty.
func SourceDateEpoch() (time.Time, error) {
	v := os.Getenv(SourceDateEpochEnv)
	if v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%s=%s: want a number of seconds since 1970", SourceDateEpochEnv, v)
	}
	return time.Unix(n, 0).UTC(), nil
}
