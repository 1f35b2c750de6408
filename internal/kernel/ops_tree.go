package kernel

import (
	"os"
	"path/filepath"
	"strings"
)

// RemoveAll is `rm -rf PATH`: a container's layer directories (mount
// points and sources) or its state directory, once nothing is mounted
// there. It is idempotent, so always said and done; a plan forgets
// everything it had made under PATH.
type RemoveAll struct {
	Path   string
	Reason string
}

func (r RemoveAll) Why() string      { return r.Reason }
func (r RemoveAll) Command() Command { return Command{Argv: []string{"rm", "-rf", r.Path}} }
func (r RemoveAll) Apply(*Exec) error {
	return os.RemoveAll(r.Path)
}

// Plan marks the planned objects at or under Path (in the host's
// namespaces) removed.
func (r RemoveAll) Plan(p *Plan) error {
	p.forgetTree(r.Path)
	return nil
}

// forgetTree marks the planned objects and state files at or under root
// (in the host's namespaces) gone.
func (p *Plan) forgetTree(root string) {
	root = filepath.Clean(root)
	p.forgetUnder(0, root)
	for path := range p.state {
		if path == root || strings.HasPrefix(path, root+"/") {
			p.state[path] = nil
		}
	}
}
