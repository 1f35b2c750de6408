package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mydocker/mydocker/internal/statefile"
)

// record marks an op on mydocker's own state files: no kernel change, so
// it is narrated at DEBUG; a plan keeps the file in memory.
type record interface{ isRecord() }

func init() {
	existsBy["state"] = func(_ *Exec, o Object) (bool, error) {
		_, err := os.Stat(o.Name)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
}

// WriteState writes one of mydocker's state files as JSON, atomically
// (statefile.WriteJSON: temp file, rename); a Value of type []byte is
// written as it is (a binary record: a seccomp program). The caller holds
// the file's lock.
type WriteState struct {
	Path  string
	Value any
}

func (WriteState) isRecord()     {}
func (w WriteState) Why() string { return "" }
func (w WriteState) Command() Command {
	return Command{Comment: "mydocker records its state in " + w.Path}
}
func (w WriteState) Apply(*Exec) error {
	if raw, ok := w.Value.([]byte); ok {
		return statefile.WriteFile(w.Path, raw, 0o644)
	}
	return statefile.WriteJSON(w.Path, w.Value)
}
func (w WriteState) Effects() []Effect {
	return []Effect{Makes(Object{Kind: "state", Name: w.Path})}
}

// Plan keeps the file's content in the plan.
func (w WriteState) Plan(p *Plan) error {
	if raw, ok := w.Value.([]byte); ok {
		p.state[w.Path] = append([]byte{}, raw...)
		return nil
	}
	data, err := json.Marshal(w.Value)
	if err != nil {
		return fmt.Errorf("encode %s: %w", w.Path, err)
	}
	p.state[w.Path] = data
	return nil
}

// RemoveState removes one of mydocker's state files (gone already is fine).
type RemoveState struct{ Path string }

func (RemoveState) isRecord()     {}
func (r RemoveState) Why() string { return "" }
func (r RemoveState) Command() Command {
	return Command{Comment: "mydocker removes its record " + r.Path}
}
func (r RemoveState) Apply(*Exec) error {
	if err := os.Remove(r.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
func (r RemoveState) Effects() []Effect {
	return []Effect{Clears(Object{Kind: "state", Name: r.Path})}
}

// Plan drops the file from the plan.
func (r RemoveState) Plan(p *Plan) error {
	p.state[r.Path] = nil
	return nil
}

// ReadState reads a state file through k: a plan answers with what it has
// written (or os.ErrNotExist for what it removed), anything else reads the
// file. A corrupt file is an error naming it (statefile.ReadJSON). A v of
// type *[]byte gets the file as it is (WriteState's binary record).
func ReadState(k Kernel, path string, v any) error {
	raw, isRaw := v.(*[]byte)
	if p, ok := k.(*Plan); ok {
		if data, planned := p.state[path]; planned {
			if data == nil {
				return fmt.Errorf("read %s: %w", path, os.ErrNotExist)
			}
			if isRaw {
				*raw = append([]byte{}, data...)
				return nil
			}
			return json.Unmarshal(data, v)
		}
	}
	if isRaw {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		*raw = data
		return nil
	}
	return statefile.ReadJSON(path, v)
}

// StateNames lists the state files in dir (not its directories, nor
// dot-files: an atomic write's temporary), sorted: a plan adds what it has
// written there and drops what it removed.
func StateNames(k Kernel, dir string) ([]string, error) {
	seen := map[string]bool{}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			seen[e.Name()] = true
		}
	}
	if p, ok := k.(*Plan); ok {
		for path, data := range p.state {
			if filepath.Dir(path) == filepath.Clean(dir) {
				seen[filepath.Base(path)] = data != nil
			}
		}
	}
	var out []string
	for name, ok := range seen {
		if ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}
