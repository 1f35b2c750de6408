package netsetgo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/network"
)

// Forget drops every record after a reboot. What the records name (the
// veths, the bridges netsetgo made, the rules it appended) died with the
// old boot, and a wiring's pid may now be another process, even one with
// the same start time: the kernel is not touched (a link of that name now
// is someone else's), only the records go.
func (s *Wirer) Forget() error {
	return network.Locked(s.root, func() error {
		var errs []error
		for _, dir := range []string{s.dir(), filepath.Join(s.dir(), "bridges")} {
			ents, err := os.ReadDir(dir)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, e := range ents {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
					errs = append(errs, s.k.Do(kernel.RemoveState{Path: filepath.Join(dir, e.Name())}))
				}
			}
		}
		return errors.Join(errs...)
	})
}
