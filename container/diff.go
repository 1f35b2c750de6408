package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mydocker/mydocker/internal/archive"
)

// Change is one line of `mydocker diff`: A added, C changed, D deleted,
// and the path as the container sees it.
type Change struct {
	Kind byte
	Path string
}

func (c Change) String() string { return string(c.Kind) + " " + c.Path }

// Diff lists what a container changed in its root filesystem, as docker
// diff: its overlay upper directory read against its image, running or
// stopped. A whiteout is a deletion; a path the image has is a change;
// a directory is listed when something under it is (or it is new, or
// opaque). What the runtime itself made there (the mount points of
// /etc/hosts and its kin, volumes, tmpfs, /proc, /sys, /dev) is not the
// container's change, and is left out.
func (r *Runtime) Diff(ref string) ([]Change, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	upper := filepath.Join(r.Paths.LayerDir(c.ID), "upper")
	if _, err := os.Stat(upper); errors.Is(err, os.ErrNotExist) {
		return nil, nil // never started: nothing changed
	}
	skip := append(commitSkip(c), "proc", "sys", "dev")
	for dst := range c.Tmpfs {
		skip = append(skip, strings.TrimPrefix(filepath.Clean(dst), "/"))
	}
	layers := lowerLayers(c)
	var out []Change
	var walk func(rel string) (bool, error)
	// walk lists the changes under upper/rel and says whether there were any.
	walk = func(rel string) (bool, error) {
		ents, err := os.ReadDir(filepath.Join(upper, rel))
		if err != nil {
			return false, fmt.Errorf("diff of %s: %w", c.Name, err)
		}
		any := false
		for _, e := range ents {
			p := filepath.ToSlash(filepath.Join(rel, e.Name()))
			if skip.Has(p) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // gone meanwhile (a running container)
			}
			full := filepath.Join(upper, p)
			switch {
			case archive.IsWhiteout(info):
				out = append(out, Change{'D', "/" + p})
			case !inLower(layers, p):
				out = append(out, Change{'A', "/" + p})
				if e.IsDir() {
					if _, err := walk(p); err != nil {
						return false, err
					}
				}
			case e.IsDir():
				changed, err := walk(p)
				if err != nil {
					return false, err
				}
				if !changed && !archive.IsOpaque(full) {
					continue
				}
				out = append(out, Change{'C', "/" + p})
			default:
				out = append(out, Change{'C', "/" + p})
			}
			any = true
		}
		return any, nil
	}
	if _, err := walk(""); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// lowerLayers are the directories of c's image, top first: a flat image's
// one, or a layered image's layers through the store's short links.
func lowerLayers(c *Config) []string {
	var out []string
	for _, l := range strings.Split(c.ImagePath, ":") {
		if c.ImageLowerFrom != "" {
			l = filepath.Join(c.ImageLowerFrom, l)
		}
		out = append(out, l)
	}
	return out
}

// inLower says whether the image has path rel: the top-most layer that
// has it decides (a whiteout there hides it).
func inLower(layers []string, rel string) bool {
	for _, l := range layers {
		info, err := os.Lstat(filepath.Join(l, rel))
		if err == nil {
			return !archive.IsWhiteout(info)
		}
	}
	return false
}
