package container

import "time"

// Inspection is what `mydocker inspect` prints, shaped like docker's.
type Inspection struct {
	ID      string `json:"Id"`
	Name    string
	Image   string
	Path    string
	Args    []string
	Created time.Time
	State   InspectState
	Mounts  []Mount
	Config  InspectConfig
	LogPath string
}

// InspectState is the State object of inspect.
type InspectState struct {
	Status     string
	Running    bool
	Pid        int
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
			Status: c.State(), Running: running, Pid: pid, ExitCode: c.ExitCode, Error: c.Error,
			StartedAt: c.Started, FinishedAt: c.Finished,
		},
		Mounts: c.Mounts,
		Config: InspectConfig{
			Hostname: c.Hostname, Env: containerEnv(c), Cmd: c.Cmd, Image: c.Image, WorkingDir: c.WorkingDir,
			Tty: c.Tty, OpenStdin: c.OpenStdin, NetworkMode: c.NetworkMode, AutoRemove: c.AutoRemove,
		},
	}
}
