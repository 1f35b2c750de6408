package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/kernel"
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

// setCgroup makes the container's cgroup m with its limits and device
// rules, before its init is in it: the init joins it at once (joinCgroup),
// or is born in it (v2).
func (r *Runtime) setCgroup(c *Config, m cgroups.Manager) error {
	if err := m.Set(c.Resources); err != nil {
		return fmt.Errorf("set the limits of container %s: %w", c.Name, err)
	}
	return nil
}

// joinCgroup moves the init, still blocked before the go signal, into the
// container's cgroup: the command starts limited. On a cgroup v1 host the
// first write to a cgroup.procs waits for an RCU grace period (the kernel's
// cgroup_threadgroup_rwsem taken for writing), 5 to 25 ms here: the init
// joins right after it is cloned, so that wait overlaps its start. An init
// cloned into its cgroup (bornIn, v2) is only checked there, and the step
// narrated as a shell would take it.
func (r *Runtime) joinCgroup(c *Config, m cgroups.Manager, pid int, bornIn bool) error {
	if bornIn {
		return r.K.Do(bornInCgroup{dir: m.Paths()[""], pid: pid})
	}
	if err := m.Apply(pid); err != nil {
		return fmt.Errorf("put container %s in its cgroup: %w", c.Name, err)
	}
	return nil
}

// bornInCgroup is the join of an init cloned into its cgroup: nothing to
// do but check that it is there. It is narrated as the write a shell would
// make, so that a script moves the init there as this did.
type bornInCgroup struct {
	dir string
	pid int
}

func (b bornInCgroup) Why() string {
	return "the init was born in its cgroup (clone3 with CLONE_INTO_CGROUP, as runc and crun do on cgroup v2: no write, so no wait for the lock one takes); a shell moves it there"
}
func (b bornInCgroup) Command() kernel.Command {
	return kernel.Command{Shell: []string{"echo", strconv.Itoa(b.pid), ">", filepath.Join(b.dir, "cgroup.procs")}}
}
func (b bornInCgroup) Apply(*kernel.Exec) error {
	procs, err := os.ReadFile(filepath.Join(b.dir, "cgroup.procs"))
	if err != nil {
		return fmt.Errorf("check that the init is in its cgroup: %w", err)
	}
	if !slices.Contains(strings.Fields(string(procs)), strconv.Itoa(b.pid)) {
		return fmt.Errorf("the init (pid %d) was cloned into %s but is not there", b.pid, b.dir)
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
