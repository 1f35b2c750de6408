package container

import (
	"errors"
	"fmt"

	"github.com/mydocker/mydocker/cgroups"
)

// UpdateOptions are `update`'s flags.
type UpdateOptions struct {
	Limits  cgroups.Flags // only the limits given change
	Restart string        // --restart; "" keeps the policy
}

// Update changes a container's limits and restart policy, as docker update
// does. The record changes first, so a stopped container gets them at its
// next start and a shim deciding on a restart reads the new policy; then a
// running container's cgroup files are written. If the kernel refuses a
// value, the record goes back to what it was and its limits are written
// again.
func (r *Runtime) Update(ref string, o UpdateOptions) (*Config, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	if !o.Limits.Given() && o.Restart == "" {
		return c, cgroups.ErrNoUpdate
	}
	var policy *RestartPolicy
	if o.Restart != "" {
		if policy, err = ParseRestartPolicy(o.Restart); err != nil {
			return c, err
		}
		if policy.Name == RestartNo {
			policy = nil
		} else if c.AutoRemove {
			return c, errors.New("restart policy cannot be updated because AutoRemove is enabled for the container")
		}
	}
	var old cgroups.Resources
	var oldPolicy *RestartPolicy
	c, err = r.store().Update(c.ID, func(c *Config) error {
		if c.Resources != nil {
			old = *c.Resources
		}
		oldPolicy = c.RestartPolicy
		if o.Limits.Given() {
			next, err := o.Limits.Update(old, cgroups.ThisHostCPUs())
			if err != nil {
				return err
			}
			c.Resources = next
		}
		if o.Restart != "" {
			c.RestartPolicy = policy
		}
		return nil
	})
	if err != nil || !o.Limits.Given() || !c.IsRunning() {
		return c, err
	}
	r.letContainer(c)
	m, err := r.cgroup(c)
	if err == nil {
		err = m.Update(c.Resources)
	}
	if err != nil {
		if m != nil {
			_ = m.Update(&old)
		}
		_, _ = r.store().Update(c.ID, func(c *Config) error {
			c.Resources, c.RestartPolicy = &old, oldPolicy
			return nil
		})
		return c, fmt.Errorf("update container %s: %w", c.Name, err)
	}
	return c, nil
}
