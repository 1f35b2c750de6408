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

// applyCgroup writes the container's limits and moves its init, still
// blocked before the go signal, into its cgroup: the command starts limited.
func (r *Runtime) applyCgroup(c *Config, pid int) error {
	m, err := r.cgroup(c)
	if err != nil {
		return err
	}
	if err := m.Set(c.Resources); err != nil {
		return fmt.Errorf("set the limits of container %s: %w", c.Name, err)
	}
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
	if st, err := m.Stats(); err == nil && st.OOMKilled && !c.OOMKilled {
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
