package container

import (
	"time"

	"github.com/mydocker/mydocker/cgroups"
)

// Inspection is what `mydocker inspect` prints, shaped like docker's.
type Inspection struct {
	ID         string `json:"Id"`
	Name       string
	Image      string
	Path       string
	Args       []string
	Created    time.Time
	State      InspectState
	Mounts     []Mount
	Config     InspectConfig
	HostConfig InspectHostConfig
	LogPath    string
}

// InspectState is the State object of inspect.
type InspectState struct {
	Status     string
	Running    bool
	Pid        int
	OOMKilled  bool
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// InspectConfig is the Config object of inspect.
type InspectConfig struct {
	Hostname    string
	Env         []string
	Cmd         []string
	Image       string
	WorkingDir  string
	Tty         bool
	OpenStdin   bool
	NetworkMode string
	AutoRemove  bool
}

// InspectHostConfig is the HostConfig object of inspect: the resource
// limits, under docker's names (0 = no limit).
type InspectHostConfig struct {
	Memory     int64
	MemorySwap int64
	NanoCpus   int64
	CpuShares  uint64
	CpuPeriod  uint64
	CpuQuota   int64
	CpusetCpus string
	CpusetMems string
	PidsLimit  int64
}

func hostConfig(r *cgroups.Resources) InspectHostConfig {
	if r == nil {
		return InspectHostConfig{}
	}
	return InspectHostConfig{
		Memory: r.Memory, MemorySwap: r.MemorySwap, NanoCpus: r.NanoCPUs, CpuShares: r.CPUShares,
		CpuPeriod: r.CPUPeriod, CpuQuota: r.CPUQuota, CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems,
		PidsLimit: r.PidsLimit,
	}
}

// Inspect renders the container for `mydocker inspect`.
func (c *Config) Inspect() Inspection {
	running := c.IsRunning()
	pid := 0
	if running {
		pid = c.Pid
	}
	return Inspection{
		ID: c.ID, Name: c.Name, Image: c.Image, Path: c.Cmd[0], Args: c.Cmd[1:], Created: c.Created,
		State: InspectState{
			Status: c.State(), Running: running, Pid: pid, OOMKilled: c.OOMKilled, ExitCode: c.ExitCode, Error: c.Error,
			StartedAt: c.Started, FinishedAt: c.Finished,
		},
		Mounts: c.Mounts,
		Config: InspectConfig{
			Hostname: c.Hostname, Env: containerEnv(c), Cmd: c.Cmd, Image: c.Image, WorkingDir: c.WorkingDir,
			Tty: c.Tty, OpenStdin: c.OpenStdin, NetworkMode: c.NetworkMode, AutoRemove: c.AutoRemove,
		},
		HostConfig: hostConfig(c.Resources),
	}
}
