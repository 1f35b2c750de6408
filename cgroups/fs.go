package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	devconfig "github.com/opencontainers/cgroups/devices/config"

	"github.com/mydocker/mydocker/internal/kernel"
)

// v1 is a container's cgroup on cgroup v1: one directory mydocker/<id> in
// every mounted hierarchy (and in the cgroup2 beside them on a hybrid
// host), every one holding the container's tasks.
type v1 struct {
	k       kernel.Kernel
	fs      *kernel.CgroupFS // nil: the host's cgroupfs
	id      string
	parent  string            // the shared parent's name, normally mydocker
	mounts  map[string]string // hierarchy name (a controller, or name=NAME) -> its mount point
	unified string            // a hybrid host's cgroup2 mount point, or ""
	created bool
	about   string // the host's mode and controllers (Host.About), for the narration
	// attach puts a device program on a cgroup2 directory; nil is
	// security.ApplyDevicesV2 (tests on a fake tree record it instead).
	attach func(dir string, rules []*devconfig.Rule) error
}

func newV1(mounts map[string]string, unified, parent, id string, k kernel.Kernel) *v1 {
	return &v1{k: k, id: id, parent: parent, mounts: mounts, unified: unified}
}

// path is the container's directory in the hierarchy named c.
func (m *v1) path(c string) string { return filepath.Join(m.mounts[c], m.parent, m.id) }

// unifiedPath is its directory in a hybrid host's cgroup2.
func (m *v1) unifiedPath() string { return filepath.Join(m.unified, m.parent, m.id) }

func (m *v1) has(c string) bool { _, ok := m.mounts[c]; return ok }

// names are the hierarchies' names: v1Controllers' first, in their order,
// then the others (blkio, name=systemd, ...) sorted.
func (m *v1) names() []string {
	var out, rest []string
	for _, c := range v1Controllers {
		if m.has(c) {
			out = append(out, c)
		}
	}
	for c := range m.mounts {
		if !slices.Contains(v1Controllers, c) {
			rest = append(rest, c)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// dirs are the container's directories, once each (controllers mounted
// together, the usual "cpu,cpuacct", share one), the cgroup2's last.
func (m *v1) dirs() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range m.names() {
		if p := m.path(c); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if m.unified != "" {
		out = append(out, m.unifiedPath())
	}
	return out
}

// Paths maps each hierarchy's names to the container's directory in it,
// and "" to its directory in a hybrid host's cgroup2.
func (m *v1) Paths() map[string]string {
	out := map[string]string{}
	for c := range m.mounts {
		out[c] = m.path(c)
	}
	if m.unified != "" {
		out[""] = m.unifiedPath()
	}
	return out
}

// Mode says this is a v1 manager.
func (m *v1) Mode() Mode { return V1 }

// create makes mydocker/<id> in every hierarchy. A concurrent Destroy of the
// last other container can remove the shared mydocker/ between our mkdir and
// our writes (ENOENT): then the whole step is simply done again.
func (m *v1) create() error {
	if m.created {
		return nil
	}
	err := retryVanishedParent(m.createOnce)
	m.created = err == nil
	return err
}

func (m *v1) createOnce() error {
	var ops []kernel.Op
	why := m.about + ": give the container a cgroup of its own in every hierarchy, under the shared mydocker/ parent: its cgroup namespace will show none of the host's"
	for _, d := range m.dirs() {
		ops = append(ops, mkdir(m.fs, why, d))
		why = ""
	}
	if err := m.k.Do(ops...); err != nil {
		return err
	}
	if !m.has("cpuset") {
		return nil
	}
	// A new v1 cpuset starts with no CPUs and no memory nodes, and the kernel
	// refuses to put a task in it (ENOSPC) until both are set: copy them down
	// from the parent, top first, as the child must stay inside its parent.
	root := m.mounts["cpuset"]
	parent := filepath.Join(root, m.parent)
	why = "a new v1 cpuset has no CPUs or memory nodes and can hold no task: copy its parent's"
	for _, step := range [][2]string{{root, parent}, {parent, m.path("cpuset")}} {
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if cur, err := readString(filepath.Join(step[1], f)); err == nil && cur != "" {
				continue // (set already: nothing said, so the why goes with the first copy made)
			}
			if err := m.k.Do(kernel.CgroupCopy{From: filepath.Join(step[0], f), To: filepath.Join(step[1], f), Reason: why, FS: m.fs}); err != nil {
				return err
			}
			why = "" // said once
		}
	}
	return nil
}

// Apply puts pid in the container's cgroup in every hierarchy. Its children
// are born there too.
func (m *v1) Apply(pid int) error {
	if err := m.create(); err != nil {
		return err
	}
	why := "move the container's process into its cgroup in each hierarchy (its children will be born there)"
	var ops []kernel.Op
	for _, d := range m.dirs() {
		ops = append(ops, write(m.fs, why, d, "cgroup.procs", strconv.Itoa(pid)))
		why = ""
	}
	return m.k.Do(ops...)
}

// Set writes the limits in r (zero fields are left as they are) and the
// device rules (docker's allowlist when r has none; r may be nil).
func (m *v1) Set(r *Resources) error {
	if err := m.create(); err != nil {
		return err
	}
	if r != nil {
		if err := m.setLimits(r); err != nil {
			return err
		}
	}
	return m.setDevices(deviceRules(r))
}

func (m *v1) Update(r *Resources) error { return m.setLimits(r) }

func (m *v1) setLimits(r *Resources) error {
	if err := m.setMemory(r); err != nil {
		return err
	}
	if err := m.setCPU(r); err != nil {
		return err
	}
	if err := m.setCpuset(r); err != nil {
		return err
	}
	if v, ok := pidsMax(r.PidsLimit); ok {
		if !m.has("pids") {
			return errors.New("--pids-limit needs the pids cgroup controller, which is not mounted")
		}
		return m.k.Do(write(m.fs, "cap the number of tasks (fork fails with EAGAIN beyond it)", m.path("pids"), "pids.max", v))
	}
	return nil
}

// setDevices sets the devices controller to rules, and on a hybrid host
// also attaches the device program to the container's cgroup2 directory.
// With neither, nothing can restrict devices here: said, not hidden.
func (m *v1) setDevices(rules []*devconfig.Rule) error {
	var ops []kernel.Op
	if m.has("devices") {
		v1ops, err := devicesV1(m.fs, m.path("devices"), rules)
		if err != nil {
			return err
		}
		ops = append(ops, v1ops...)
	}
	if m.unified != "" {
		ops = append(ops, deviceProgram{dir: m.unifiedPath(), rules: rules, attach: m.attach})
	}
	if len(ops) == 0 {
		m.k.Log().Warnf("no devices cgroup controller and no cgroup2 hierarchy: the container's device rules cannot be applied")
		return nil
	}
	return m.k.Do(ops...)
}

// setMemory writes memory.limit_in_bytes and memory.memsw.limit_in_bytes.
// The kernel keeps limit <= memsw at every moment, so when memsw grows it is
// written first, and when it shrinks (a new cgroup starts unlimited) last.
func (m *v1) setMemory(r *Resources) error {
	if r.Memory == 0 && r.MemorySwap == 0 {
		return nil
	}
	if !m.has("memory") {
		return errors.New("--memory needs the memory cgroup controller, which is not mounted")
	}
	dir := m.path("memory")
	writeMem := func() error {
		if r.Memory == 0 {
			return nil
		}
		return m.k.Do(write(m.fs, "cap the container's memory; above it the kernel reclaims, then OOM-kills inside the cgroup", dir, "memory.limit_in_bytes", itoa(r.Memory)))
	}
	if r.MemorySwap == 0 {
		return writeMem()
	}
	// The hierarchy's root has memsw files exactly when the kernel
	// accounts swap (CONFIG_MEMCG_SWAP and swapaccount=1).
	if _, err := os.Stat(filepath.Join(m.mounts["memory"], "memory.memsw.limit_in_bytes")); err != nil {
		if !r.defaultSwap() {
			return fmt.Errorf("--memory-swap cannot be honoured: the kernel does not account swap (no memory.memsw.* files in %s; swapaccount=0?)", m.mounts["memory"])
		}
		m.k.Log().Warnf("the kernel does not account swap (no memory.memsw.* files): docker's default --memory-swap (twice --memory) is not applied")
		return writeMem()
	}
	writeSwap := func() error {
		return m.k.Do(write(m.fs, "cap memory+swap together (-1 = no limit)", dir, "memory.memsw.limit_in_bytes", itoa(r.MemorySwap)))
	}
	cur, err := readUint(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
	if err != nil {
		cur = unlimitedV1 // not made yet (a plan): a new cgroup starts unlimited
	}
	if r.MemorySwap == -1 || uint64(r.MemorySwap) >= cur {
		if err := writeSwap(); err != nil {
			return err
		}
		return writeMem()
	}
	if err := writeMem(); err != nil {
		return err
	}
	return writeSwap()
}

func (m *v1) setCPU(r *Resources) error {
	quota, period := cfsQuotaPeriod(r)
	if r.CPUShares == 0 && quota == 0 && period == 0 {
		return nil
	}
	if !m.has("cpu") {
		return errors.New("CPU limits need the cpu cgroup controller, which is not mounted")
	}
	dir := m.path("cpu")
	if r.CPUShares != 0 {
		if err := m.k.Do(write(m.fs, "relative CPU weight against other cgroups when the CPUs are busy (default 1024)", dir, "cpu.shares", utoa(r.CPUShares))); err != nil {
			return err
		}
	}
	if period != 0 {
		if err := m.k.Do(write(m.fs, "the CFS bandwidth period, in microseconds", dir, "cpu.cfs_period_us", utoa(period))); err != nil {
			return err
		}
	}
	if quota != 0 {
		if err := m.k.Do(write(m.fs, quotaWhy(quota, period), dir, "cpu.cfs_quota_us", itoa(quota))); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1) setCpuset(r *Resources) error {
	if r.CpusetCpus == "" && r.CpusetMems == "" {
		return nil
	}
	if !m.has("cpuset") {
		return errors.New("--cpuset-cpus/--cpuset-mems need the cpuset cgroup controller, which is not mounted")
	}
	dir := m.path("cpuset")
	if r.CpusetCpus != "" {
		if err := m.k.Do(write(m.fs, "pin the container to these CPUs", dir, "cpuset.cpus", r.CpusetCpus)); err != nil {
			return err
		}
	}
	if r.CpusetMems != "" {
		if err := m.k.Do(write(m.fs, "allocate the container's memory only on these NUMA nodes", dir, "cpuset.mems", r.CpusetMems)); err != nil {
			return err
		}
	}
	return nil
}

// Stats reads the container's usage. The memory figure leaves out the
// inactive page cache, as docker does, since the kernel drops it first.
func (m *v1) Stats() (*Stats, error) {
	st := &Stats{}
	if m.has("memory") {
		dir := m.path("memory")
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("cgroup of %s: %w", m.id, ErrNotExist)
		}
		usage, err := readUint(filepath.Join(dir, "memory.usage_in_bytes"))
		if err != nil {
			return nil, err
		}
		if inactive, ok, _ := readKeyed(filepath.Join(dir, "memory.stat"), "total_inactive_file"); ok && inactive < usage {
			usage -= inactive
		}
		st.MemoryUsage = usage
		if lim, err := readUint(filepath.Join(dir, "memory.limit_in_bytes")); err == nil && lim < unlimitedV1 {
			st.MemoryLimit = lim
		}
		st.OOMKilled = oomKilledV1(dir)
	}
	if m.has("cpuacct") {
		if v, err := readUint(filepath.Join(m.path("cpuacct"), "cpuacct.usage")); err == nil {
			st.CPUUsageNs = v
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if m.has("pids") {
		if v, err := readUint(filepath.Join(m.path("pids"), "pids.current")); err == nil {
			st.Pids = v
		}
	}
	return st, nil
}

// OOMKilled implements Manager.
func (m *v1) OOMKilled() (bool, error) {
	if !m.has("memory") {
		return false, nil
	}
	dir := m.path("memory")
	if _, err := os.Stat(dir); err != nil {
		return false, fmt.Errorf("cgroup of %s: %w", m.id, ErrNotExist)
	}
	return oomKilledV1(dir), nil
}

// oomKilledV1 reads a v1 memory cgroup's sign of an OOM kill: oom_kill
// counts kills since kernel 4.13; on older kernels, a hit of the limit
// (failcnt) is the best sign there is.
func oomKilledV1(dir string) bool {
	if n, ok, err := readKeyed(filepath.Join(dir, "memory.oom_control"), "oom_kill"); err == nil && ok {
		return n > 0
	}
	n, err := readUint(filepath.Join(dir, "memory.failcnt"))
	return err == nil && n > 0
}

// Destroy removes the container's cgroup from every hierarchy (its tasks
// must have exited), then the shared mydocker/ parents nobody uses any more.
func (m *v1) Destroy() error {
	var errs []error
	deadline := time.Now().Add(destroyGrace)
	why := "the container is gone: remove its cgroup from each hierarchy"
	for _, d := range m.dirs() {
		ops := removeTree(m.k, m.fs, why, d, deadline)
		if len(ops) > 0 {
			why = ""
		}
		if err := m.k.Do(ops...); err != nil {
			errs = append(errs, err)
		}
	}
	m.created = false
	return errors.Join(errs...)
}
