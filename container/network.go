package container

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/network"
)

// networks is the network manager for this state root.
func (r *Runtime) networks() *network.Manager { return network.NewManager(r.Paths.Root, r.K) }

// Networks is the network manager, for `mydocker network`.
func (r *Runtime) Networks() *network.Manager { return r.networks() }

// usesNetwork reports whether the container joins a mydocker network (not
// --net none or host).
func (c *Config) usesNetwork() bool {
	return c.NetworkMode != NetworkNone && c.NetworkMode != NetworkHost && c.NetworkMode != ""
}

// publishExposed adds, for -P, a mapping to a free host port for each port
// the image exposes ("80/tcp") that no -p publishes already; on --net none
// or host there is nothing to publish them on.
func publishExposed(mode string, exposed map[string]struct{}, ports []network.PortMapping) ([]network.PortMapping, error) {
	var keys []string
	for k := range exposed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pm, err := network.ParsePortMapping(k)
		if err != nil {
			return nil, fmt.Errorf("the image exposes %q: %w", k, err)
		}
		mapped := false
		for _, p := range ports {
			mapped = mapped || p.ContainerPort == pm.ContainerPort && p.Proto == pm.Proto
		}
		if mapped {
			continue
		}
		if mode == NetworkNone || mode == NetworkHost {
			return nil, fmt.Errorf("--net %s: -P needs a network (bridge or a created one) to publish %s on", mode, k)
		}
		ports = append(ports, pm)
	}
	return ports, nil
}

// exposePorts is the image's exposed ports with --expose's added, as
// docker's keys ("80/tcp"): PORT[/PROTO] or a range START-END[/PROTO].
func exposePorts(image map[string]struct{}, flags []string) (map[string]struct{}, error) {
	if len(flags) == 0 {
		return image, nil
	}
	out := make(map[string]struct{}, len(image)+len(flags))
	for k := range image {
		out[k] = struct{}{}
	}
	for _, f := range flags {
		spec, proto, _ := strings.Cut(f, "/")
		if proto == "" {
			proto = "tcp"
		}
		lo, hi, isRange := strings.Cut(spec, "-")
		first, err1 := strconv.ParseUint(lo, 10, 16)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || first == 0 || last < first || proto != "tcp" && proto != "udp" {
			return nil, fmt.Errorf("invalid --expose %q: want PORT[/tcp|udp] or START-END[/tcp|udp], ports 1-65535", f)
		}
		for p := first; p <= last; p++ {
			out[strconv.FormatUint(p, 10)+"/"+proto] = struct{}{}
		}
	}
	return out, nil
}

// checkNetworkOptions refuses, before anything is created, a network that
// does not exist (the default "bridge" is created on first use) and
// options that make no sense without one.
func (r *Runtime) checkNetworkOptions(o RunOptions) (ports []network.PortMapping, ip net.IP, err error) {
	if ports, err = network.ParsePortMappings(o.Publish); err != nil {
		return nil, nil, err
	}
	if o.IP != "" {
		if ip = net.ParseIP(o.IP).To4(); ip == nil {
			return nil, nil, fmt.Errorf("invalid --ip %q: not an IPv4 address", o.IP)
		}
	}
	switch o.Network {
	case NetworkNone, NetworkHost:
		if len(ports) > 0 || ip != nil {
			return nil, nil, fmt.Errorf("--net %s: -p and --ip need a network (bridge or a created one)", o.Network)
		}
		return nil, nil, nil
	}
	if err := r.networks().Check(o.Network, ip, ports); err != nil {
		return nil, nil, err
	}
	return ports, ip, nil
}

// connectNetworkInfo connects the container's init to its network, with
// its /etc files in dir; it records nothing in the container's state (the
// caller does, for inspect and teardown). The network package undoes its
// own steps on failure.
func (r *Runtime) connectNetworkInfo(c *Config, pid int, dir string) (*network.EndpointInfo, error) {
	return r.networks().Connect(network.Attachment{
		Network: c.NetworkMode, Container: c.ID, Name: c.Name, Hostname: c.Hostname, Pid: pid,
		IP: net.ParseIP(c.RequestedIP), Ports: c.Ports, DNS: c.DNS,
		HostsPath: filepath.Join(dir, "hosts"), ResolvConfPath: filepath.Join(dir, "resolv.conf"),
		Aliases: c.Aliases, ExtraHosts: c.ExtraHosts,
	})
}

func (r *Runtime) recordEndpoint(id, name string, info *network.EndpointInfo) error {
	_, err := r.store().Update(id, func(c *Config) error {
		c.setEndpoint(name, info)
		return nil
	})
	return err
}

// setEndpoint records c's endpoint on network name (nil: forgets it).
func (c *Config) setEndpoint(name string, info *network.EndpointInfo) {
	if info == nil {
		delete(c.Networks, name)
		return
	}
	if c.Networks == nil {
		c.Networks = map[string]*network.EndpointInfo{}
	}
	c.Networks[name] = info
}

// disconnectNetworks releases every endpoint of the container: its IP, veth
// and port rules. Idempotent and best effort (the netns may be gone).
func (r *Runtime) disconnectNetworks(c *Config) error {
	names := map[string]bool{}
	if c.usesNetwork() {
		names[c.NetworkMode] = true
	}
	for n := range c.Networks {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var errs []error
	m := r.networks()
	for _, n := range sorted {
		errs = append(errs, m.Disconnect(n, c.ID))
	}
	return oneLine(errs...)
}

// ConnectNetwork is `network connect NET CONTAINER`: a running container
// joins one more network.
func (r *Runtime) ConnectNetwork(netName, ref string, ip net.IP, aliases []string) (*network.EndpointInfo, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	if !c.IsRunning() {
		return nil, fmt.Errorf("container %s is not running", c.Name)
	}
	r.letContainer(c)
	if c.NetworkMode == NetworkHost {
		return nil, fmt.Errorf("container %s uses the host's network", c.Name)
	}
	if err := checkAliases(netName, aliases); err != nil {
		return nil, err
	}
	dir := r.Paths.StateDir(c.ID)
	info, err := r.networks().Connect(network.Attachment{
		Network: netName, Container: c.ID, Name: c.Name, Hostname: c.Hostname, Pid: c.Pid, IP: ip, DNS: c.DNS,
		HostsPath: filepath.Join(dir, "hosts"), Aliases: aliases,
	})
	if err != nil {
		return nil, err
	}
	return info, r.recordEndpoint(c.ID, info.Network, info)
}

// DisconnectNetwork is `network disconnect NET CONTAINER`.
func (r *Runtime) DisconnectNetwork(netName, ref string) error {
	c, err := r.store().Get(ref)
	if err != nil {
		return err
	}
	r.letContainer(c)
	if err := r.networks().Disconnect(netName, c.ID); err != nil {
		return err
	}
	return r.recordEndpoint(c.ID, netName, nil)
}

// ContainerAlive tells network reconcile/prune whether a container id
// still holds its endpoints: it exists and is starting (its creation not
// abandoned) or running. It reads the one record without the store lock
// and settles nothing, so the network code may call it under its own lock.
func (r *Runtime) ContainerAlive(id string) bool {
	c, err := r.store().load(id)
	if errors.Is(err, ErrNotExist) {
		return false
	}
	if err != nil {
		return true // a broken record: keep its endpoints rather than guess (rm removes them)
	}
	switch c.Status {
	case StatusCreated:
		return c.ownerAlive() || processAlive(c.Pid, c.PidStart)
	case StatusRunning:
		return processAlive(c.Pid, c.PidStart)
	}
	return false
}
