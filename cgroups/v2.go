package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	devconfig "github.com/opencontainers/cgroups/devices/config"

	"github.com/mydocker/mydocker/internal/kernel"
)

// v2 is a container's cgroup on the unified hierarchy: one directory
// <mount>/mydocker/<id>, whose controllers exist only once they are enabled
// in the cgroup.subtree_control of every ancestor.
type v2 struct {
	k       kernel.Kernel
	fs      *kernel.CgroupFS // nil: the host's cgroupfs
	id      string
	parent  string // the shared parent's name, normally mydocker
	root    string // the cgroup2 mount point
	created bool
	about   string // the host's mode and controllers (Host.About), for the narration
	// attach puts the device program on the container's directory; nil is
	// security.ApplyDevicesV2 (tests on a fake tree record it instead).
	attach func(dir string, rules []*devconfig.Rule) error
}

func newV2(root, parent, id string, k kernel.Kernel) *v2 {
	return &v2{k: k, id: id, parent: parent, root: root}
}

func (m *v2) path() string { return filepath.Join(m.root, m.parent, m.id) }
func (m *v2) top() string  { return filepath.Join(m.root, m.parent) }

// Paths maps "" (all controllers) to the container's directory.
func (m *v2) Paths() map[string]string { return map[string]string{"": m.path()} }

// Mode says this is a v2 manager.
func (m *v2) Mode() Mode { return V2 }

func (m *v2) create() error {
	if m.created {
		return nil
	}
	err := retryVanishedParent(m.createOnce)
	m.created = err == nil
	return err
}

// createOnce makes mydocker/ and enables our controllers for its children,
// then makes mydocker/<id>. Processes live only in leaves (v2's "no internal
// processes" rule), which mydocker/ respects by never holding a task.
func (m *v2) createOnce() error {
	if err := m.k.Do(mkdir(m.fs, "the shared parent of all mydocker containers' cgroups", m.top())); err != nil {
		return err
	}
	for _, dir := range []string{m.root, m.top()} {
		if err := m.enable(dir); err != nil {
			return err
		}
	}
	return m.k.Do(mkdir(m.fs, m.about+": give the container a cgroup of its own", m.path()))
}

// enable turns on, for dir's children, those of our controllers that dir
// has and has not enabled yet, in one write ("+cpu +memory").
func (m *v2) enable(dir string) error {
	avail, err := readString(filepath.Join(dir, "cgroup.controllers"))
	if errors.Is(err, os.ErrNotExist) && dir != m.root {
		if planned, _ := m.k.Exists(cgroupObj(dir)); planned {
			// A plan's mydocker/, not made: it would get (at most) the
			// root's controllers.
			avail, err = readString(filepath.Join(m.root, "cgroup.controllers"))
		}
	}
	if err != nil {
		return err
	}
	on, err := readString(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var add []string
	for _, c := range v2Controllers {
		if slices.Contains(strings.Fields(avail), c) && !slices.Contains(strings.Fields(on), c) {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	return m.k.Do(write(m.fs, "let the cgroups below "+dir+" use these controllers", dir, "cgroup.subtree_control", strings.Join(add, " ")))
}

// Apply puts pid in the container's cgroup; its children are born there.
func (m *v2) Apply(pid int) error {
	if err := m.create(); err != nil {
		return err
	}
	return m.k.Do(write(m.fs, "move the container's process into its cgroup (its children will be born there)", m.path(), "cgroup.procs", strconv.Itoa(pid)))
}

// Set writes the limits in r (zero fields are left as they are), then
// attaches the device program of its rules (docker's allowlist when r has
// none; r may be nil).
func (m *v2) Set(r *Resources) error {
	if err := m.create(); err != nil {
		return err
	}
	if r != nil {
		if err := m.setLimits(r); err != nil {
			return err
		}
	}
	return m.k.Do(deviceProgram{dir: m.path(), rules: deviceRules(r), attach: m.attach})
}

func (m *v2) Update(r *Resources) error { return m.setLimits(r) }

func (m *v2) setLimits(r *Resources) error {
	if err := m.requireAll(r); err != nil {
		return err
	}
	swap, writeSwap := swapMax(r)
	if writeSwap && !m.accountsSwap() {
		if !r.defaultSwap() {
			return fmt.Errorf("--memory-swap cannot be honoured: the kernel does not account swap (no memory.swap.max in %s; swapaccount=0?)", m.top())
		}
		m.k.Log().Warnf("the kernel does not account swap (no memory.swap.max): docker's default --memory-swap (twice --memory) is not applied")
		writeSwap = false
	}
	if r.Memory > 0 {
		if err := m.k.Do(write(m.fs, "cap the container's memory; above it the kernel reclaims, then OOM-kills inside the cgroup", m.path(), "memory.max", itoa(r.Memory))); err != nil {
			return err
		}
	}
	if writeSwap {
		if err := m.k.Do(write(m.fs, "cap its swap (v2 counts swap alone: --memory-swap minus --memory)", m.path(), "memory.swap.max", swap)); err != nil {
			return err
		}
	}
	if w := sharesToWeight(r.CPUShares); w != 0 {
		if err := m.k.Do(write(m.fs, fmt.Sprintf("relative CPU weight (cpu-shares %d on v1's scale)", r.CPUShares), m.path(), "cpu.weight", utoa(w))); err != nil {
			return err
		}
	}
	if v, ok := cpuMax(r); ok {
		if err := m.k.Do(write(m.fs, cpuMaxWhy(r), m.path(), "cpu.max", v)); err != nil {
			return err
		}
	}
	if r.CpusetCpus != "" {
		if err := m.k.Do(write(m.fs, "pin the container to these CPUs", m.path(), "cpuset.cpus", r.CpusetCpus)); err != nil {
			return err
		}
	}
	if r.CpusetMems != "" {
		if err := m.k.Do(write(m.fs, "allocate the container's memory only on these NUMA nodes", m.path(), "cpuset.mems", r.CpusetMems)); err != nil {
			return err
		}
	}
	if v, ok := pidsMax(r.PidsLimit); ok {
		if err := m.k.Do(write(m.fs, "cap the number of tasks (fork fails with EAGAIN beyond it)", m.path(), "pids.max", v)); err != nil {
			return err
		}
	}
	return nil
}

// requireAll refuses limits this host cannot honour: each needs its
// controller in the hierarchy's cgroup.controllers (what a parent can
// enable for its children), or writing its file would fail with a bare
// "no such file", or worse, be skipped.
func (m *v2) requireAll(r *Resources) error {
	quota, period := cfsQuotaPeriod(r)
	for _, need := range []struct {
		on         bool
		flag, ctrl string
	}{
		{r.Memory > 0 || r.MemorySwap != 0, "--memory", "memory"},
		{r.CPUShares != 0 || quota != 0 || period != 0, "CPU limits (--cpus, --cpu-shares, --cpu-quota)", "cpu"},
		{r.CpusetCpus != "" || r.CpusetMems != "", "--cpuset-cpus/--cpuset-mems", "cpuset"},
		{r.PidsLimit != 0, "--pids-limit", "pids"},
	} {
		if !need.on {
			continue
		}
		file := filepath.Join(m.root, "cgroup.controllers")
		avail, err := readString(file)
		if err != nil {
			return err
		}
		if !slices.Contains(strings.Fields(avail), need.ctrl) {
			return fmt.Errorf("%s cannot be honoured: this cgroup v2 host does not offer the %s controller (%s: %q)", need.flag, need.ctrl, file, avail)
		}
	}
	return nil
}

// accountsSwap says whether the kernel counts swap per cgroup: the
// memory controller's cgroups then have memory.swap.max. A plan, whose
// mydocker/ may not exist yet, assumes it does.
func (m *v2) accountsSwap() bool {
	if _, err := os.Stat(filepath.Join(m.top(), "memory.max")); err != nil {
		return true
	}
	_, err := os.Stat(filepath.Join(m.top(), "memory.swap.max"))
	return err == nil
}

// cpuMaxWhy says what cpu.max's "QUOTA PERIOD" allows, in figures.
func cpuMaxWhy(r *Resources) string { return quotaWhy(cfsQuotaPeriod(r)) }

// quotaWhy says what a CFS quota allows, in figures; a period of 0 is
// left as it is, the kernel's default.
func quotaWhy(quota int64, period uint64) string {
	if period == 0 {
		period = DefaultCPUPeriod
	}
	if quota <= 0 {
		return fmt.Sprintf("no cap on CPU time, counted in periods of %d µs", period)
	}
	return fmt.Sprintf("allow %d µs of CPU time every %d µs (%.2f CPUs)", quota, period, float64(quota)/float64(period))
}

// Stats reads the container's usage.
func (m *v2) Stats() (*Stats, error) {
	dir := m.path()
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("cgroup of %s: %w", m.id, ErrNotExist)
	}
	st := &Stats{}
	if v, err := readUint(filepath.Join(dir, "memory.current")); err == nil {
		if inactive, ok, _ := readKeyed(filepath.Join(dir, "memory.stat"), "inactive_file"); ok && inactive < v {
			v -= inactive
		}
		st.MemoryUsage = v
	}
	if v, err := readUint(filepath.Join(dir, "memory.max")); err == nil {
		st.MemoryLimit = v
	}
	if v, ok, err := readKeyed(filepath.Join(dir, "cpu.stat"), "usage_usec"); err == nil && ok {
		st.CPUUsageNs = v * 1000
	}
	if v, err := readUint(filepath.Join(dir, "pids.current")); err == nil {
		st.Pids = v
	}
	st.OOMKilled = oomKilledV2(dir)
	return st, nil
}

// OOMKilled implements Manager.
func (m *v2) OOMKilled() (bool, error) {
	dir := m.path()
	if _, err := os.Stat(dir); err != nil {
		return false, fmt.Errorf("cgroup of %s: %w", m.id, ErrNotExist)
	}
	return oomKilledV2(dir), nil
}

// oomKilledV2 reads memory.events' count of OOM kills.
func oomKilledV2(dir string) bool {
	v, ok, err := readKeyed(filepath.Join(dir, "memory.events"), "oom_kill")
	return err == nil && ok && v > 0
}

// Destroy removes the container's cgroup (its tasks must have exited). The
// shared mydocker/ parent stays: see Manager.Destroy.
func (m *v2) Destroy() error {
	err := m.k.Do(removeTree(m.k, m.fs, "the container is gone: remove its cgroup", m.path(), time.Now().Add(destroyGrace))...)
	m.created = false
	return err
}
