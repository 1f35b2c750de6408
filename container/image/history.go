package image

import (
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/internal/kernel"
)

// HistoryEntry is one line of `history`, as docker's: a step of the
// image's config history, newest first, with the size of the layer it
// made (0 for a step that made none).
type HistoryEntry struct {
	ID        string // the image's id on the newest step, "" ("<missing>") below
	Created   time.Time
	CreatedBy string
	Size      int64 // bytes of the files of its layer, unpacked
	Comment   string
}

// History is the image's history, newest first. A config without history
// (some tools write none) gives one line per layer, as docker shows.
func (s *Store) History(ref string) ([]HistoryEntry, error) {
	im, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.configOf(im.Record)
	if err != nil {
		return nil, err
	}
	steps := cfg.History
	if len(steps) == 0 {
		for range im.Layers {
			steps = append(steps, v1.History{Created: v1.Time{Time: im.Created}})
		}
	}
	var out []HistoryEntry
	layer := 0
	for _, h := range steps {
		e := HistoryEntry{Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment}
		if !h.EmptyLayer && layer < len(im.Layers) {
			e.Size = s.layerSize(im.Layers[layer].ChainID)
			layer++
		}
		out = append([]HistoryEntry{e}, out...)
	}
	if len(out) > 0 {
		out[0].ID = im.ID
	}
	return out, nil
}

// layerSize is the unpacked size layer.json records (0 if unreadable).
func (s *Store) layerSize(chainID string) int64 {
	chain, err := v1.NewHash(chainID)
	if err != nil {
		return 0
	}
	var meta layerMeta
	if err := kernel.ReadState(s.K, filepath.Join(s.layerDir(chain), "layer.json"), &meta); err != nil {
		return 0
	}
	return meta.Size
}
