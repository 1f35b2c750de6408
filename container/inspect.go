package container

import (
	"strconv"
	"strings"
	"time"
)

// Inspection is what `mydocker inspect` prints, shaped like docker's.
type Inspection struct {
	ID              string `json:"Id"`
	Name            string
	Image           string
	Path            string
	Args            []string
	Created         time.Time
	State           InspectState
	RestartCount    int
	Mounts          []InspectMount
	Config          InspectConfig
	HostConfig      InspectHostConfig
	NetworkSettings InspectNetworks
	LogPath         string
}

// InspectNetworks is the NetworkSettings object of inspect, as docker's:
// the primary network's address at the top (for the one-liners that read
// {{.NetworkSettings.IPAddress}}), the published ports by container port,
// each network's endpoint by network name.
type InspectNetworks struct {
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
	Ports       map[string][]PortBinding
	Networks    map[string]InspectEndpoint
}

// PortBinding is where a container port is published, as docker's.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string
}

// InspectEndpoint is one network's endpoint in inspect: docker's names,
// and the host's end of the veth and the interface inside, which docker
// does not show.
type InspectEndpoint struct {
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
	Aliases     []string `json:",omitempty"` // run's --network-alias, network connect's --alias
	Veth        string
	Ifname      string
}

// networkSettings shapes c's endpoints and ports as docker's inspect.
func networkSettings(c *Config) InspectNetworks {
	n := InspectNetworks{Ports: map[string][]PortBinding{}, Networks: map[string]InspectEndpoint{}}
	for name, ep := range c.Networks {
		e := InspectEndpoint{IPPrefixLen: ep.PrefixLen, MacAddress: ep.MAC, Veth: ep.Veth, Ifname: ep.Ifname}
		if ep.IP != nil {
			e.IPAddress = ep.IP.String()
		}
		if ep.Gateway != nil {
			e.Gateway = ep.Gateway.String()
		}
		e.Aliases = ep.Aliases
		n.Networks[name] = e
		if name == c.NetworkMode {
			n.IPAddress, n.IPPrefixLen, n.Gateway, n.MacAddress = e.IPAddress, e.IPPrefixLen, e.Gateway, e.MacAddress
		}
	}
	for _, p := range c.Ports {
		key := strconv.Itoa(p.ContainerPort) + "/" + p.Proto
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		n.Ports[key] = append(n.Ports[key], PortBinding{HostIP: ip, HostPort: strconv.Itoa(p.HostPort)})
	}
	return n
}

// InspectState is the State object of inspect.
type InspectState struct {
	Status     string
	Running    bool
	Paused     bool
	Restarting bool
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
	User        string            // -u as given, else the image's ("" is root)
	StopSignal  string            `json:",omitempty"` // --stop-signal, else the image's
	StopTimeout *int              `json:",omitempty"` // --stop-timeout
	Labels      map[string]string `json:",omitempty"` // the image's, and --label's
	// ExposedPorts are the image's and --expose's, as docker's ("80/tcp": {}).
	ExposedPorts map[string]struct{} `json:",omitempty"`
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

	// What the container may not do, as asked for (docker's names).
	CapAdd         []string
	CapDrop        []string
	Privileged     bool
	SecurityOpt    []string
	ReadonlyRootfs bool
	Devices        []DeviceMapping
	Tmpfs          map[string]string `json:",omitempty"`
	LogConfig      LogConfig         // json-file, with --log-opt's options
	ExtraHosts     []string          // --add-host, as typed

	RestartPolicy RestartPolicy // {"Name": "no"} without --restart
	Init          *bool         `json:",omitempty"` // --init (docker's: null unless given)
}

// DeviceMapping is one --device, as docker's inspect shows it.
type DeviceMapping struct {
	PathOnHost        string
	PathInContainer   string
	CgroupPermissions string
}

// deviceMapping reads --device HOST[:CONTAINER][:rwm] as docker records it.
func deviceMapping(spec string) DeviceMapping {
	parts := strings.Split(spec, ":")
	d := DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
	switch {
	case len(parts) == 3:
		d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
	case len(parts) == 2 && strings.HasPrefix(parts[1], "/"):
		d.PathInContainer = parts[1]
	case len(parts) == 2:
		d.CgroupPermissions = parts[1]
	}
	return d
}

func hostConfig(c *Config) InspectHostConfig {
	h := InspectHostConfig{ReadonlyRootfs: c.ReadonlyRootfs, Tmpfs: c.Tmpfs, Devices: []DeviceMapping{}, LogConfig: LogConfig{Type: LogDriverJSONFile, Config: map[string]string{}},
		ExtraHosts: c.ExtraHosts}
	if c.LogConfig != nil {
		h.LogConfig = *c.LogConfig
	}
	h.RestartPolicy = RestartPolicy{Name: RestartNo}
	if c.RestartPolicy != nil {
		h.RestartPolicy = *c.RestartPolicy
	}
	if c.Init {
		h.Init = &c.Init
	}
	if s := c.Security; s != nil {
		h.CapAdd, h.CapDrop, h.Privileged, h.SecurityOpt = s.Flags.CapAdd, s.Flags.CapDrop, s.Privileged, s.Flags.SecurityOpt
		for _, d := range s.Flags.Devices {
			h.Devices = append(h.Devices, deviceMapping(d))
		}
	}
	r := c.Resources
	if r == nil {
		return h
	}
	h.Memory, h.MemorySwap, h.NanoCpus, h.CpuShares = r.Memory, r.MemorySwap, r.NanoCPUs, r.CPUShares
	h.CpuPeriod, h.CpuQuota, h.CpusetCpus, h.CpusetMems, h.PidsLimit = r.CPUPeriod, r.CPUQuota, r.CpusetCpus, r.CpusetMems, r.PidsLimit
	return h
}

// Inspect renders the container for `mydocker inspect`.
func (c *Config) Inspect() Inspection {
	// docker says Running while a restart policy waits out its back-off
	// (.State.Restarting beside it), so scripts testing Running do not
	// take a restarting container for a stopped one.
	running := c.IsRunning()
	pid := 0
	if running {
		pid = c.Pid
	}
	status := c.State()
	if running && c.Paused {
		status = "paused"
	}
	return Inspection{
		ID: c.ID, Name: c.Name, Image: imageOf(c), Path: c.Cmd[0], Args: c.Cmd[1:], Created: c.Created,
		State: InspectState{
			Status: status, Running: running || c.restarting(), Paused: running && c.Paused, Restarting: c.restarting(), Pid: pid, OOMKilled: c.OOMKilled, ExitCode: c.ExitCode, Error: c.Error,
			StartedAt: c.Started, FinishedAt: c.Finished,
		},
		RestartCount:    c.RestartCount,
		Mounts:          inspectMounts(c),
		NetworkSettings: networkSettings(c),
		Config: InspectConfig{
			Hostname: c.Hostname, Env: containerEnv(c), Cmd: c.Cmd, Image: c.Image, WorkingDir: c.WorkingDir,
			Tty: c.Tty, OpenStdin: c.OpenStdin, NetworkMode: c.NetworkMode, AutoRemove: c.AutoRemove,
			User: user(c), StopSignal: c.StopSignal, StopTimeout: c.StopTimeout, Labels: c.Labels, ExposedPorts: c.ExposedPorts,
		},
		HostConfig: hostConfig(c),
	}
}

// imageOf is the top-level Image of inspect: the image's id, as docker's,
// for an image of the store; a flat image has no id but its name.
func imageOf(c *Config) string {
	if c.ImageID != "" {
		return c.ImageID
	}
	return c.Image
}

func user(c *Config) string {
	if c.Security == nil {
		return ""
	}
	return c.Security.Flags.User
}
