package cgroups

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout names the host's cgroup mode as users know it: "unified" (a
// cgroup2 hierarchy only: Debian 12, Ubuntu 22.04 and later, Fedora),
// "hybrid" (v1 controllers, with a cgroup2 beside them) or "v1".
func (h *Host) Layout() string {
	switch {
	case h.Mode == V2:
		return "unified"
	case h.Unified != "":
		return "hybrid"
	}
	return "v1"
}

// Controllers are the controllers this host offers a container's cgroup:
// on v2 the root's cgroup.controllers (what mydocker/ can enable), on v1
// the mounted hierarchies' controllers (named ones such as name=systemd
// carry none), sorted.
func (h *Host) Controllers() []string {
	if h.Mode == V2 {
		b, _ := os.ReadFile(filepath.Join(h.Unified, "cgroup.controllers"))
		out := strings.Fields(string(b))
		slices.Sort(out)
		return out
	}
	var out []string
	for n := range h.Mounts {
		if !strings.HasPrefix(n, "name=") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// About says, in one phrase, which mode the host is in and which
// controllers a container can use: the narration's first cgroup step and
// info both say it.
func (h *Host) About() string {
	cs := strings.Join(h.Controllers(), " ")
	if cs == "" {
		cs = "none"
	}
	switch h.Layout() {
	case "unified":
		return "this host is cgroup v2, unified (one cgroup2 hierarchy at " + h.Unified + "), with the controllers " + cs
	case "hybrid":
		return "this host is cgroup v1, hybrid (v1 controllers, and a cgroup2 at " + h.Unified + " for the device program), with the controllers " + cs
	}
	return "this host is cgroup v1, with the controllers " + cs
}
