package kernel

import (
	"os"
	"path/filepath"
)

// RemoveAll is `rm -rf PATH`: a container's layer directories (mount
// points and sources) or its state directory, once nothing is mounted
// there. Gone already is fine (skipped).
type RemoveAll struct {
	Path   string
	Reason string
}

func (r RemoveAll) Why() string      { return r.Reason }
func (r RemoveAll) Command() Command { return Command{Argv: []string{"rm", "-rf", r.Path}} }
func (r RemoveAll) Apply(*Exec) error {
	return os.RemoveAll(r.Path)
}
func (r RemoveAll) Effects() []Effect {
	return []Effect{Clears(Object{Kind: "dir", Name: filepath.Clean(r.Path)})}
}
