package kernel

import (
	"path/filepath"
	"strings"
)

// forgetUnder marks removed what the plan had made at or under root, in
// the namespaces of pid in (0: the host's): a directory removed with what
// it held.
func (p *Plan) forgetUnder(in int, root string) {
	root = filepath.Clean(root)
	for o, has := range p.model {
		if has && o.In == in && (o.Name == root || strings.HasPrefix(o.Name, root+"/")) {
			p.model[o] = false
		}
	}
}

// Gone tells the plan that process pid has exited, and its namespaces
// with it (a container's init is pid 1 of its pid namespace, the last
// holder of its mount namespace): what was made in them goes too.
func (p *Plan) Gone(pid int) {
	for o, has := range p.model {
		if has && o.In == pid {
			p.model[o] = false
		}
	}
}
