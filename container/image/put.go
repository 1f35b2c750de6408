package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/internal/kernel"
)

// source says where an image's blobs come from, for the narration.
type source interface {
	// fetch is the command that gets blob d into the file tmp (a comment
	// where none exists).
	fetch(d v1.Hash, tmp string) kernel.Command
	// from names the source in a step's why ("from 127.0.0.1:5000/app").
	from() string
	// saved is the file the manifest was fetched into, if any.
	saved() string
}

// put stores img (blobs, layers, tags, record); repo, if set, gets a
// RepoDigest. The record, written last, makes the image (see the package
// doc).
func (s *Store) put(img v1.Image, src source, tags []name.Tag, repo *name.Repository) (*Record, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	mdigest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	if len(m.Layers) > MaxLayers {
		return nil, fmt.Errorf("the image has %d layers: at most %d are supported", len(m.Layers), MaxLayers)
	}
	fetch := func(d v1.Hash) func(string) kernel.Command {
		return func(tmp string) kernel.Command { return src.fetch(d, tmp) }
	}
	keep := newBlobOp(blobOp{Path: s.blobPath(mdigest), Digest: mdigest, Open: memBlob(rawManifest), Saved: src.saved(),
		Reason: fmt.Sprintf("keep the manifest (%d layers) under its digest %s", len(m.Layers), mdigest)})
	ops := []kernel.Op{
		keep,
		newBlobOp(blobOp{Path: s.blobPath(m.Config.Digest), Digest: m.Config.Digest, Fetch: fetch(m.Config.Digest),
			Open: func() (io.ReadCloser, error) {
				b, err := img.RawConfigFile()
				if err != nil {
					return nil, err
				}
				return memBlob(b)()
			},
			Reason: "fetch the image's config " + src.from() + " (the image's id is its digest) and check its digest"}),
	}
	for i, l := range m.Layers {
		if len(l.URLs) > 0 && !l.MediaType.IsDistributable() {
			return nil, fmt.Errorf("layer %s is a foreign layer (served from %s): not supported", l.Digest, l.URLs[0])
		}
		ops = append(ops, newBlobOp(blobOp{Path: s.blobPath(l.Digest), Digest: l.Digest, Fetch: fetch(l.Digest),
			Open: func() (io.ReadCloser, error) {
				layer, err := img.LayerByDigest(l.Digest)
				if err != nil {
					return nil, err
				}
				rc, err := layer.Compressed()
				if err != nil || s.Progress == nil {
					return rc, err
				}
				return &progress{ReadCloser: rc, w: s.Progress, name: l.Digest.Hex[:12], total: l.Size}, nil
			},
			Reason: fmt.Sprintf("fetch layer %d/%d %s (%s) and check its digest", i+1, len(m.Layers), src.from(), humanSize(l.Size))}))
	}
	if err := s.K.Do(ops...); err != nil {
		return nil, err
	}
	cfgFile, err := os.Open(s.blobPath(m.Config.Digest))
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(cfgFile)
	cfgFile.Close()
	if err != nil {
		return nil, fmt.Errorf("the image's config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("the image's config names %d layers, its manifest %d", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}

	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Fetched without the lock, so that pulls run side by side: an rmi's
	// sweep may have removed a blob no record named yet. Under the lock,
	// what is there stays; what is gone is fetched again.
	keep.Saved = ""
	ops[0] = keep
	if err := s.K.Do(ops...); err != nil {
		return nil, err
	}
	rec := &Record{ID: m.Config.Digest.String(), Manifest: mdigest.String(), MediaType: string(m.MediaType), Created: cfg.Created.Time}
	if old, err := s.readRecord(m.Config.Digest); err == nil {
		rec.RepoDigests = old.RepoDigests
	}
	if repo != nil {
		rd := repo.Digest(mdigest.String()).Name()
		if !contains(rec.RepoDigests, rd) {
			rec.RepoDigests = append(rec.RepoDigests, rd)
		}
	}
	if err := s.removeDeadTemps(); err != nil {
		return nil, err
	}
	var parent v1.Hash
	for i, l := range m.Layers {
		chain := cfg.RootFS.DiffIDs[i]
		if i > 0 {
			chain, _, err = v1.SHA256(strings.NewReader(parent.String() + " " + cfg.RootFS.DiffIDs[i].String()))
			if err != nil {
				return nil, err
			}
		}
		size, err := s.unpack(l.Digest, cfg.RootFS.DiffIDs[i], chain, parent, i, len(m.Layers))
		if err != nil {
			return nil, err
		}
		rec.Size += size
		rec.Layers = append(rec.Layers, Layer{Digest: l.Digest.String(), MediaType: string(l.MediaType),
			DiffID: cfg.RootFS.DiffIDs[i].String(), ChainID: chain.String(), Size: l.Size})
		parent = chain
	}
	// The tags before the record: a tag whose image has no record is not
	// seen (and the next sweep drops it), so the image appears whole and
	// tagged in one step, the record's write.
	if err := s.setTags(rec.ID, tags); err != nil {
		return nil, err
	}
	return rec, s.K.Do(kernel.WriteState{Path: s.recordPath(m.Config.Digest), Value: rec})
}

// unpack makes layer chain from its blob, once: into a temp directory,
// whiteouts converted, renamed into place; and its short link. The caller
// holds the lock. It returns the layer's size.
func (s *Store) unpack(blob, diffID, chain, parent v1.Hash, i, n int) (int64, error) {
	dir := s.layerDir(chain)
	link := filepath.Join(s.linksDir(), shortLink(chain))
	var meta layerMeta
	if err := kernel.ReadState(s.K, filepath.Join(dir, "layer.json"), &meta); err == nil {
		s.K.Log().Infof("Layer %d/%d %s is unpacked already (chain id %.19s): shared", i+1, n, diffID, chain)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, err
	} else {
		tmp := filepath.Join(s.layersDir(), ".tmp-"+strconv.Itoa(os.Getpid())+"-"+chain.Hex)
		var out extracted
		if err := s.K.Do(
			unpackOp{Blob: s.blobPath(blob), Dir: filepath.Join(tmp, "diff"), DiffID: diffID, Out: &out,
				Reason: fmt.Sprintf("unpack layer %d/%d once, into a directory named by its chain id %.19s (its own diff id and those below it), and check its diff id %.19s", i+1, n, chain, diffID)},
		); err != nil {
			s.K.Do(kernel.RemoveAll{Path: tmp, Reason: "the unpack failed: remove what it made"})
			return 0, fmt.Errorf("layer %s: %w", blob, err)
		}
		var ops []kernel.Op
		for _, o := range out.Opaques {
			ops = append(ops, whiteoutOp{Dir: filepath.Join(tmp, "diff", o), Opaque: true})
		}
		for _, w := range out.Whiteouts {
			ops = append(ops, whiteoutOp{Dir: filepath.Join(tmp, "diff", filepath.Dir(w)), Name: filepath.Base(w)})
		}
		meta = layerMeta{ChainID: chain.String(), DiffID: diffID.String(), Size: out.Size}
		if i > 0 {
			meta.Parent = parent.String()
		}
		ops = append(ops, kernel.WriteState{Path: filepath.Join(tmp, "layer.json"), Value: meta},
			renameOp{From: tmp, To: dir, Reason: "the layer is whole: put it in place"})
		if err := s.K.Do(ops...); err != nil {
			s.K.Do(kernel.RemoveAll{Path: tmp, Reason: "the unpack failed: remove what it made"})
			return 0, fmt.Errorf("layer %s: %w", blob, err)
		}
	}
	if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
		if err := s.K.Do(kernel.Mkdir{Path: s.linksDir(), Mode: 0o700, Reason: "the directory of the layers' short names"},
			kernel.Symlink{Path: link, Target: filepath.Join("..", "layers", chain.Hex, "diff"),
				Reason: "a short name for the layer, so many layers fit in overlay's mount options"}); err != nil {
			return 0, err
		}
	}
	return meta.Size, nil
}

// removeDeadTemps removes the temp directories and files that writers
// that died left in layers/ and blobs/. The caller holds the lock.
func (s *Store) removeDeadTemps() error {
	for _, dir := range []string{s.layersDir(), filepath.Join(s.Root, "blobs", "sha256")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			rest, ok := strings.CutPrefix(e.Name(), ".tmp-")
			if !ok {
				continue
			}
			pid, _, _ := strings.Cut(rest, "-")
			if _, err := os.Stat("/proc/" + pid); err == nil && pid != "" {
				continue
			}
			if err := s.K.Do(kernel.RemoveAll{Path: filepath.Join(dir, e.Name()),
				Reason: "a mydocker that died (pid " + pid + ") left this half-made: remove it"}); err != nil {
				return err
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// humanSize is a size as docker prints it (decimal units).
func humanSize(n int64) string {
	f := float64(n)
	for _, u := range []string{"B", "kB", "MB", "GB"} {
		if f < 1000 {
			if u == "B" {
				return fmt.Sprintf("%dB", n)
			}
			return fmt.Sprintf("%.3g%s", f, u)
		}
		f /= 1000
	}
	return fmt.Sprintf("%.3gTB", f)
}

// HumanSize is humanSize, for the verbs.
func HumanSize(n int64) string { return humanSize(n) }

func itoa(n int) string { return strconv.Itoa(n) }
