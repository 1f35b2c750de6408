package cgroups

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Child is one cgroup under mydocker/, by name (a container's id), as
// found in the hierarchies of a host: for system prune to tell those no
// container record owns.
type Child struct {
	ID string
	// Modified is the newest mtime of its directories: a cgroup that run
	// has just made, and not yet joined, is young.
	Modified time.Time
	// Busy: a process is in it, or in a cgroup nested in it (it cannot be
	// removed, and something still runs there).
	Busy bool
}

// Children lists the cgroups under the containers' parent (mydocker/) in
// every hierarchy of the host, each once, sorted by name.
func (h *Host) Children() ([]Child, error) {
	parent := h.Parent
	if parent == "" {
		parent = Parent
	}
	byID := map[string]*Child{}
	for _, top := range h.tops() {
		ents, err := os.ReadDir(filepath.Join(top, parent))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() || validID(e.Name()) != nil {
				continue
			}
			c := byID[e.Name()]
			if c == nil {
				c = &Child{ID: e.Name()}
				byID[e.Name()] = c
			}
			dir := filepath.Join(top, parent, e.Name())
			if fi, err := os.Stat(dir); err == nil && fi.ModTime().After(c.Modified) {
				c.Modified = fi.ModTime()
			}
			c.Busy = c.Busy || populated(dir)
		}
	}
	out := make([]Child, 0, len(byID))
	for _, c := range byID {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// tops are the host's hierarchies' mount points, once each.
func (h *Host) tops() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range h.Mounts {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if h.Unified != "" && !seen[h.Unified] {
		out = append(out, h.Unified)
	}
	sort.Strings(out)
	return out
}

// populated reports whether a process is in dir's cgroup or one nested in
// it (cgroup.procs lists a cgroup's own processes only, in v1 and v2).
func populated(dir string) bool {
	busy := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(filepath.Join(p, "cgroup.procs")); err == nil && strings.TrimSpace(string(b)) != "" {
			busy = true
			return filepath.SkipAll
		}
		return nil
	})
	return busy
}
