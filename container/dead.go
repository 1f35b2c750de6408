package container

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/cgroups"
)

// removeDead removes a container whose record is broken: c is List's dead
// entry, of which only the id (its state directory's name) is trusted.
// Everything mydocker makes for a container is named by its id, so all of
// it is found without the record: the processes in its cgroup (killed,
// with force), the cgroup, its endpoints in every network, its layer and
// its state directory. What is already gone is no error.
func (r *Runtime) removeDead(c *Config, force bool) error {
	m, err := r.cgroup(c)
	if err != nil {
		return err
	}
	if pids := cgroupProcs(m); len(pids) > 0 {
		if !force {
			return fmt.Errorf("%w: dead container %s still has %d processes in its cgroup: use rm -f", ErrRunning, ShortID(c.ID), len(pids))
		}
		for _, pid := range pids {
			if err := r.kill(pid, pidStart(pid), "the container's record is broken: kill the processes its cgroup holds"); err != nil {
				return err
			}
		}
	}
	var errs []error
	if err := m.Destroy(); err != nil {
		errs = append(errs, fmt.Errorf("remove the cgroup of container %s: %w", ShortID(c.ID), err))
	}
	// Its endpoints, whatever networks they are on: the networks' own
	// records name their owner.
	if err := r.networks().Reconcile(func(id string) bool { return id != c.ID }); err != nil {
		errs = append(errs, err)
	}
	if err := oneLine(errs...); err != nil {
		return err
	}
	return r.removeFiles(c)
}

// cgroupProcs lists the processes in a container's cgroup, in every
// hierarchy (none when it has no cgroup).
func cgroupProcs(m cgroups.Manager) []int {
	seen := map[int]bool{}
	for _, dir := range m.Paths() {
		data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				seen[pid] = true
			}
		}
	}
	pids := make([]int, 0, len(seen))
	for pid := range seen {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}
