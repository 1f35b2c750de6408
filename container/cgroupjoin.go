package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/joinprime"
)

// cgroupProcsToJoin returns the cgroup.procs files an exec must write its
// pid to, to be in the same cgroups as the container's pid 1: one per
// hierarchy where pid 1's cgroup differs from ours. The container has a
// cgroup of its own in every hierarchy (each v1 one, named ones like
// name=systemd, and a hybrid host's cgroup2: see cgroups.Host), so an exec
// joins all of them, and its device rules with them. A container that has
// no cgroup of its own somewhere (one started before it had) has nothing
// to join there.
func cgroupProcsToJoin(pid int) ([]string, error) {
	theirs, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, err
	}
	ours, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	mounts, err := cgroups.ReadMounts()
	if err != nil {
		return nil, err
	}
	return cgroupProcsFiles(parseProcCgroup(string(theirs)), parseProcCgroup(string(ours)), mounts)
}

// cgroupLine is one line of /proc/<pid>/cgroup: "4:memory:/mydocker/abc".
// Controllers is empty for the v2 hierarchy ("0::/path").
type cgroupLine struct {
	Hierarchy, Controllers, Path string
}

func parseProcCgroup(data string) []cgroupLine {
	var out []cgroupLine
	for _, l := range strings.Split(data, "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		out = append(out, cgroupLine{parts[0], parts[1], parts[2]})
	}
	return out
}

// cgroupProcsFiles maps the hierarchies where theirs differs from ours to
// the cgroup.procs file of their cgroup under a mount of that hierarchy.
// A hierarchy mounted nowhere here cannot be joined, and is skipped.
func cgroupProcsFiles(theirs, ours []cgroupLine, mounts []cgroups.Mount) ([]string, error) {
	mine := map[string]string{}
	for _, l := range ours {
		mine[l.Hierarchy+":"+l.Controllers] = l.Path
	}
	var out []string
	for _, l := range theirs {
		if p, ok := mine[l.Hierarchy+":"+l.Controllers]; ok && p == l.Path {
			continue
		}
		m, ok := findCgroupMount(l, mounts)
		if !ok {
			continue
		}
		rel := l.Path
		if m.Root != "/" {
			if rel != m.Root && !strings.HasPrefix(rel, m.Root+"/") {
				return nil, fmt.Errorf("cgroup %s of hierarchy %s is outside its mount at %s (root %s)", l.Path, l.Controllers, m.Point, m.Root)
			}
			rel = strings.TrimPrefix(rel, m.Root)
		}
		out = append(out, filepath.Join(m.Point, rel, "cgroup.procs"))
	}
	return out, nil
}

func findCgroupMount(l cgroupLine, mounts []cgroups.Mount) (cgroups.Mount, bool) {
	for _, m := range mounts {
		if l.Controllers == "" {
			if l.Hierarchy == "0" && m.FSType == "cgroup2" {
				return m, true
			}
			continue
		}
		if m.FSType != "cgroup" {
			continue
		}
		all := true
		for _, c := range strings.Split(l.Controllers, ",") {
			if !hasString(m.Options, c) {
				all = false
				break
			}
		}
		if all {
			return m, true
		}
	}
	return cgroups.Mount{}, false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// primeCgroupJoin starts the grace period of the join start() is about to
// make (package joinprime), unless this process's constructor did already
// (r.JoinPrimed, for the start it was run for; a shim's restarts prime
// their own), and never on a plan.
func (r *Runtime) primeCgroupJoin() {
	primed := r.JoinPrimed
	r.JoinPrimed = false
	if _, plan := r.K.(*kernel.Plan); plan || primed {
		return
	}
	joinprime.Prime()
}
