package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/kernel"
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

// PrimeCgroupJoin makes a coming join of a cgroup quick. Writing a pid to
// a cgroup.procs file takes the kernel's cgroup_threadgroup_rwsem for
// writing, and the first writer after a quiet spell waits for an RCU grace
// period (rcu_sync_enter), 5 to 30 ms on these hosts. A writer that comes
// within about one grace period of the last one does not wait. So this
// starts in the background a write that changes nothing (this process's
// pid into its own cgroup, in the first hierarchy it is in): the grace
// period passes while the caller prepares the container, and the join
// finds the lock warm (measured: the join's write 7.8 ms cold, 0.1 ms
// within 10 ms of another). The waiting writer holds the cgroup_mutex, so
// a mkdir in any hierarchy waits behind it too: the container's cgroup is
// made late, once the init is started. Not narrated: it changes nothing.
// Errors are ignored: it only ever saves time. The verbs that start a
// container or join one call it first thing (cmd), before their flags are
// even parsed. A start (starts) on a cgroup v2 host clones its init into
// its cgroup, with no write to wait for: there it primes nothing, which
// would only hold up the mkdir of that cgroup.
func PrimeCgroupJoin(starts bool) {
	go func() {
		if h, err := cgroups.DetectHost(); starts && (err != nil || h.Mode == cgroups.V2) {
			return
		}
		ours, err := os.ReadFile("/proc/self/cgroup")
		if err != nil {
			return
		}
		mounts, err := cgroups.ReadMounts()
		if err != nil {
			return
		}
		files, err := cgroupProcsFiles(parseProcCgroup(string(ours)), nil, mounts)
		if err != nil || len(files) == 0 {
			return
		}
		_ = os.WriteFile(files[0], []byte(strconv.Itoa(os.Getpid())), 0)
	}()
}

// primeCgroupJoin primes the join of the container start() is about to
// make, unless this process primed it already (r.JoinPrimed, for the start
// it was run for; a shim's restarts prime their own), and never on a plan.
func (r *Runtime) primeCgroupJoin() {
	primed := r.JoinPrimed
	r.JoinPrimed = false
	if _, plan := r.K.(*kernel.Plan); plan || primed {
		return
	}
	PrimeCgroupJoin(true)
}
