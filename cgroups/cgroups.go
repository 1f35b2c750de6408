// Package cgroups puts a container in its own cgroup and applies its limits,
// behind one Manager for cgroup v1 and v2 (chosen at run time by what the
// host has mounted).
package cgroups

import devconfig "github.com/opencontainers/cgroups/devices/config"

// Resources are the limits of one container; zero values mean "no limit".
type Resources struct {
	Memory     int64  `json:",omitempty"` // bytes
	MemorySwap int64  `json:",omitempty"` // bytes, memory+swap; -1 unlimited
	CPUShares  uint64 `json:",omitempty"`
	CPUPeriod  uint64 `json:",omitempty"` // microseconds
	CPUQuota   int64  `json:",omitempty"` // microseconds per period
	NanoCPUs   int64  `json:",omitempty"` // --cpus in billionths of a CPU (docker's NanoCpus)
	CpusetCpus string `json:",omitempty"`
	CpusetMems string `json:",omitempty"`
	PidsLimit  int64  `json:",omitempty"` // -1 unlimited
	// Devices is the container's device cgroup, in the order its rules
	// reach the kernel: docker's allowlist (which starts by denying every
	// device) and the --device rules after it, or --privileged's "a *:*
	// rwm". None (a config written before there were device rules) is
	// docker's allowlist: a container never gets every device by default.
	Devices []*devconfig.Rule `json:",omitempty"`
}

// Stats is what `mydocker stats` shows.
type Stats struct {
	MemoryUsage uint64
	MemoryLimit uint64
	CPUUsageNs  uint64 // total CPU time used, nanoseconds
	Pids        uint64
	OOMKilled   bool // the OOM killer killed a process of this cgroup
}

// Manager is one container's cgroup: a directory of its own in every
// hierarchy the host has.
type Manager interface {
	// Apply creates the cgroup (if needed) and moves pid into it.
	Apply(pid int) error
	// Set writes the limits and the device rules (docker's allowlist when
	// r has none; r may be nil).
	Set(r *Resources) error
	// Update writes the limits of r to a cgroup that exists, leaving its
	// device rules as they are (`update` on a running container).
	Update(r *Resources) error
	// Stats reads usage and limits.
	Stats() (*Stats, error)
	// OOMKilled says whether the OOM killer struck in the cgroup: Stats'
	// OOMKilled alone, for a teardown that needs nothing else.
	OOMKilled() (bool, error)
	// Freeze stops every process of the cgroup at once (frozen), or
	// lets them go on, and returns when the freezer says it is done.
	Freeze(frozen bool) error
	// Destroy removes the cgroup; it is not an error if it is already gone.
	// The shared mydocker/ parent stays, empty, as docker's docker/ does:
	// making it again (and copying the cpuset down on v1) would cost every
	// container start several milliseconds.
	Destroy() error
	// Paths maps each v1 hierarchy's names (its controllers, or
	// name=NAME) to the container's directory in it, and "" to its
	// directory in the cgroup2 hierarchy (a v2 host's, or a hybrid
	// host's); for inspect and for tests.
	Paths() map[string]string
	// Mode says which kind of hierarchy this manager drives.
	Mode() Mode
}
