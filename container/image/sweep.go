package image

import (
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/internal/kernel"
)

// sweep removes what no image record names: tags, layers (each renamed out of
// place first, so a half-removed layer is never used), their short links,
// blobs, and the temp files of writers that died. The caller holds the
// lock. A record that does not read keeps everything (it may name them).
func (s *Store) sweep() error {
	broken := false
	recs, err := s.records(func(err error) { broken = true; s.K.Log().Warn(err) })
	if err != nil || broken {
		return err
	}
	if err := s.removeDeadTemps(); err != nil {
		return err
	}
	layers, blobs, ids := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		ids[r.ID] = true
		blobs[r.ID], blobs[r.Manifest] = true, true
		for _, l := range r.Layers {
			layers[strings.TrimPrefix(l.ChainID, "sha256:")] = true
			blobs[l.Digest] = true
		}
	}
	repos, err := s.readRepos()
	if err != nil {
		return err
	}
	dangling := false
	for t, id := range repos.Tags {
		if !ids[id] {
			delete(repos.Tags, t) // a pull cut short between its tags and its record
			dangling = true
		}
	}
	if dangling {
		if err := s.K.Do(kernel.WriteState{Path: s.reposPath(), Value: repos}); err != nil {
			return err
		}
	}
	links, _ := os.ReadDir(s.linksDir())
	for _, e := range links {
		target, err := os.Readlink(filepath.Join(s.linksDir(), e.Name()))
		if err != nil || !layers[filepath.Base(filepath.Dir(target))] {
			if err := s.K.Do(kernel.RemoveAll{Path: filepath.Join(s.linksDir(), e.Name()), Reason: "no image uses this layer any more: its short name goes"}); err != nil {
				return err
			}
		}
	}
	ents, _ := os.ReadDir(s.layersDir())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || layers[e.Name()] {
			continue
		}
		gone := filepath.Join(s.layersDir(), ".tmp-"+itoa(os.Getpid())+"-rm-"+e.Name())
		if err := s.K.Do(
			renameOp{From: filepath.Join(s.layersDir(), e.Name()), To: gone, Reason: "no image uses layer " + e.Name()[:12] + " any more: move it out of place, then remove it"},
			kernel.RemoveAll{Path: gone},
		); err != nil {
			return err
		}
	}
	bents, _ := os.ReadDir(filepath.Join(s.Root, "blobs", "sha256"))
	for _, e := range bents {
		if h, err := v1.NewHash("sha256:" + e.Name()); err != nil || blobs[h.String()] {
			continue
		}
		if err := s.K.Do(kernel.RemoveState{Path: filepath.Join(s.Root, "blobs", "sha256", e.Name())}); err != nil {
			return err
		}
	}
	return nil
}
