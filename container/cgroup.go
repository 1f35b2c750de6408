package container

import (
	"errors"
	"fmt"

	"github.com/mydocker/mydocker/cgroups"
)

// The container's cgroup is named by its full id in every hierarchy:
// /sys/fs/cgroup/<controller>/mydocker/<id> on v1, /sys/fs/cgroup/mydocker/<id>
// on v2. Every container gets one, limits or not, so that stats can read it.

// cgroup is the container's cgroup manager (v1 or v2, as the host has).
func (r *Runtime) cgroup(c *Config) (cgroups.Manager, error) {
	m, err := cgroups.New(c.ID, r.K)
	if err != nil {
		return nil, fmt.Errorf("cgroup of container %s: %w", c.Name, err)
	}
	return m, nil
}

// makeCgroup makes the container's cgroup with its limits and device rules,
// before its init exists: the init joins it at once (joinCgroup).
func (r *Runtime) makeCgroup(c *Config) (cgroups.Manager, error) {
	m, err := r.cgroup(c)
	if err != nil {
		return nil, err
	}
	if err := m.Set(c.Resources); err != nil {
		return nil, fmt.Errorf("set the limits of container %s: %w", c.Name, err)
	}
	return m, nil
}

// joinCgroup moves the init, still blocked before the go signal, into the
// container's cgroup: the command starts limited. On a cgroup v1 host the
// first write to a cgroup.procs waits for an RCU grace period (the kernel's
// cgroup_threadgroup_rwsem taken for writing), 5 to 25 ms here: the init
// joins right after it is cloned, so that wait overlaps its start.
func joinCgroup(c *Config, m cgroups.Manager, pid int) error {
	if err := m.Apply(pid); err != nil {
		return fmt.Errorf("put container %s in its cgroup: %w", c.Name, err)
	}
	return nil
}

// releaseCgroup records whether the OOM killer struck (the cgroup's counters
// are the only witness, and they go with it), then removes the cgroup.
func (r *Runtime) releaseCgroup(c *Config) error {
	m, err := r.cgroup(c)
	if err != nil {
		return err
	}
	if oom, err := m.OOMKilled(); err == nil && oom && !c.OOMKilled {
		_, err := r.store().Update(c.ID, func(c *Config) error {
			c.OOMKilled = true
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotExist) {
			return fmt.Errorf("record the OOM kill of container %s: %w", c.Name, err)
		}
		c.OOMKilled = true
	}
	if err := m.Destroy(); err != nil {
		return fmt.Errorf("remove the cgroup of container %s: %w", c.Name, err)
	}
	return nil
}
