package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
)

// timed logs, at debug level, how long an operation took.
func (m *Manager) timed(what string, start time.Time) {
	m.k.Log().Debugf("network %s took %v", what, time.Since(start).Round(10*time.Microsecond))
}

// Attachment is what the runtime core knows about a container it connects.
type Attachment struct {
	Network   string // "" = DefaultNetwork ("bridge", created on first use)
	Container string // the container id
	Name      string // the container's name (in the others' /etc/hosts)
	Hostname  string
	Pid       int    // a process in the container's network namespace (its init)
	IP        net.IP // --ip; nil = the next free address
	Ports     []PortMapping
	DNS       []string // --dns; empty = the host's nameservers
	// Files in the container's state dir that the core bind-mounts onto
	// /etc/hosts and /etc/resolv.conf; written here, and the hosts file is
	// rewritten in place (the bind mount pins the inode) when other
	// containers join or leave the network. Empty: not written.
	HostsPath, ResolvConfPath string
	// Aliases are --network-alias: more names of the container, in the
	// /etc/hosts of the containers of this network as its name is.
	Aliases []string
	// ExtraHosts are --add-host NAME:IP, its own /etc/hosts' extra lines;
	// IP host-gateway is this network's gateway.
	ExtraHosts []string
}

// EndpointInfo is what Connect made, for the container's state and inspect.
type EndpointInfo struct {
	Network   string
	IP        net.IP
	PrefixLen int
	Gateway   net.IP
	MAC       string
	Veth      string        // host end
	Ifname    string        // inside the container
	Ports     []PortMapping `json:",omitempty"`
	Aliases   []string      `json:",omitempty"` // --network-alias, --alias
}

// Connect attaches a container to a network: an address from the IPAM, the
// veth pair into the namespace of a.Pid, published ports, /etc/hosts and
// resolv.conf. On any failure what was done is undone and the error returned.
func (m *Manager) Connect(a Attachment) (*EndpointInfo, error) {
	defer m.timed("connect", time.Now())
	if a.Network == "" {
		a.Network = DefaultNetwork
	}
	if err := ValidateContainerID(a.Container); err != nil {
		return nil, err
	}
	if a.Pid <= 0 {
		return nil, fmt.Errorf("connect %s to %s: no container process (pid %d)", names.ShortID(a.Container), a.Network, a.Pid)
	}
	if err := checkHostPorts(a.Ports); err != nil {
		return nil, err
	}
	var resolv []byte
	if a.ResolvConfPath != "" {
		host, _ := os.ReadFile("/etc/resolv.conf")
		var err error
		if resolv, err = resolvConfContent(host, a.DNS); err != nil {
			return nil, err
		}
	}

	var nw *Network
	var ep *Endpoint
	err := m.locked(func() (err error) { nw, ep, err = m.reserve(a); return err })
	if err != nil {
		return nil, fmt.Errorf("connect %s to network %s: %w", names.ShortID(a.Container), a.Network, err)
	}
	var u Undo
	u.Add(func() error { return m.locked(func() error { return m.release(a.Network, a.Container) }) })

	drv, err := m.driver(nw.Driver)
	if err != nil {
		return nil, u.Run(err)
	}
	err = drv.Connect(nw, ep, a.Pid)
	kernel.Release(m.k, a.Pid) // an open handle would keep the namespace alive after the container
	if err != nil {
		return nil, u.Run(fmt.Errorf("connect %s to network %s: %w", names.ShortID(a.Container), a.Network, err))
	}
	u.Add(func() error { return drv.Disconnect(nw, ep) })

	if a.ResolvConfPath != "" {
		if err := m.k.Do(kernel.WriteFile{Path: a.ResolvConfPath, Content: string(resolv), Create: true,
			Reason: "the container's /etc/resolv.conf (bound from this file, rewritten in place): the network's nameservers"}); err != nil {
			return nil, u.Run(err)
		}
	}
	err = m.locked(func() error {
		cur, err := m.load(nw.Name)
		if err != nil {
			return err
		}
		if rec := cur.Containers[a.Container]; rec != nil && rec.Ifname != ep.Ifname {
			rec.Ifname = ep.Ifname // not eth0: the container is on another network already
			if err := m.k.Do(m.record(cur)); err != nil {
				return err
			}
		}
		nw = cur
		all, err := m.loadAll()
		if err != nil {
			return err
		}
		return m.writeHosts(cur, all, a.Container)
	})
	if err != nil {
		return nil, u.Run(err)
	}
	gw := net.ParseIP(nw.Gateway).To4()
	_, subnet, _ := net.ParseCIDR(nw.Subnet)
	ones, _ := subnet.Mask.Size()
	kernel.Report(m.k, "container %s connected to network %s: %s on %s", names.ShortID(a.Container), nw.Name, ep.IP, ep.Ifname)
	return &EndpointInfo{Network: nw.Name, IP: net.ParseIP(ep.IP).To4(), PrefixLen: ones, Gateway: gw,
		MAC: ep.MAC, Veth: ep.Veth, Ifname: ep.Ifname, Ports: ep.Ports, Aliases: ep.Aliases}, nil
}

// reserve (under the lock) checks the request, allocates the address and
// records the endpoint, so the address always has an owner on disk.
func (m *Manager) reserve(a Attachment) (*Network, *Endpoint, error) {
	nw, err := m.load(a.Network)
	if errors.Is(err, ErrNotExist) && a.Network == DefaultNetwork {
		nw, err = m.create(CreateOptions{Name: DefaultNetwork})
	} else if errors.Is(err, ErrNotExist) {
		nw, err = m.join(a.Network, err) // an overlay network, its first container here
	} else if err == nil && nw.Overlay != nil {
		err = m.ensureWatcher(nw)
	}
	if err != nil {
		return nil, nil, err
	}
	if _, ok := nw.Containers[a.Container]; ok {
		return nil, nil, fmt.Errorf("container %s is already connected to network %s", names.ShortID(a.Container), nw.Name)
	}
	all, err := m.loadAll()
	if err != nil {
		return nil, nil, err
	}
	if err := portsFree(all, a.Ports); err != nil {
		return nil, nil, err
	}
	ports, err := pickHostPorts(all, a.Ports)
	if err != nil {
		return nil, nil, err
	}
	if err := m.remake(nw); err != nil {
		return nil, nil, err
	}
	pool, err := poolOf(nw)
	if err != nil {
		return nil, nil, err
	}
	owner := "container " + names.ShortID(a.Container)
	var ip net.IP
	if a.IP != nil {
		if err := pool.Reserve(a.IP, owner); err != nil {
			return nil, nil, err
		}
		ip = a.IP.To4()
	} else {
		var within *net.IPNet
		if nw.AllocRange != "" {
			_, within, _ = net.ParseCIDR(nw.AllocRange)
		}
		if ip, err = pool.Allocate(owner, within); err != nil {
			return nil, nil, err
		}
	}
	ep := &Endpoint{
		ID: a.Container, Name: a.Name, Hostname: a.Hostname, IP: ip.String(), MAC: macFor(ip).String(),
		Veth: vethName(a.Container, nw.Name), Ifname: "eth0", Pid: a.Pid, Ports: ports,
		HostsPath: a.HostsPath, ResolvConfPath: a.ResolvConfPath,
		Aliases: a.Aliases, ExtraHosts: ResolveExtraHosts(a.ExtraHosts, nw.Gateway),
	}
	// One write allocates the address and names its owner.
	nw.Containers[a.Container] = ep
	if err := m.k.Do(m.record(nw)); err != nil {
		return nil, nil, err
	}
	copyEP := *ep
	return nw, &copyEP, nil
}

// release (under the lock) forgets an endpoint, which frees its address:
// only the endpoint recorded for id, so an address is freed by its owner
// alone. Missing network or endpoint: nothing to do.
func (m *Manager) release(network, id string) error {
	nw, err := m.load(network)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if nw.Containers[id] == nil {
		return nil
	}
	delete(nw.Containers, id)
	return m.k.Do(m.record(nw))
}

// remake builds again the kernel side of a recorded network whose bridge
// is gone: after a reboot (the state kept, the links and rules not), or
// when someone deleted it. Its stale rules go first, so none is doubled.
func (m *Manager) remake(nw *Network) error {
	if has, err := m.k.Exists(kernel.LinkObj(0, nw.Bridge)); err != nil || has {
		return err
	}
	m.k.Log().Warnf("network %s: its bridge %s is gone (a reboot?): making it again", nw.Name, nw.Bridge)
	drv, err := m.driver(nw.Driver)
	if err != nil {
		return err
	}
	if err := drv.Delete(nw); err != nil {
		return err
	}
	if err := drv.Create(nw); err != nil {
		return fmt.Errorf("make network %s again: %w", nw.Name, err)
	}
	return nil
}

// writeHosts writes /etc/hosts of every endpoint of the network that has a
// hosts file (the one of `self` must succeed; the others are best effort:
// their container may be going away). A container on several networks
// sees the containers of all of them, so its file is built from every
// network it is on.
func (m *Manager) writeHosts(nw *Network, all []*Network, self string) error {
	lists := peerLists{}
	for _, ep := range lists.of(nw) {
		id := ep.ID
		if ep.HostsPath == "" {
			continue
		}
		err := m.writeHostsOf(ep, all, lists)
		if err != nil && id == self {
			return err
		}
		if err != nil {
			m.k.Log().Debugf("update hosts of container %s: %v", names.ShortID(id), err)
		}
	}
	return nil
}

// writeHostsOf writes the /etc/hosts of the container of ep: itself (by
// ep's address), then the containers of every network of all it is on, in
// the order of lists.
func (m *Manager) writeHostsOf(ep *Endpoint, all []*Network, lists peerLists) error {
	var peers []*Endpoint
	for _, o := range all {
		if o.Containers[ep.ID] == nil {
			continue
		}
		peers = append(peers, lists.of(o)...)
		if o.Overlay != nil { // and those of the network's other hosts
			for _, id := range byAddress(o.Overlay.Remote) {
				peers = append(peers, o.Overlay.Remote[id])
			}
		}
	}
	return m.k.Do(kernel.WriteFile{Path: ep.HostsPath, Content: string(hostsContent(ep, peers)), Create: true,
		Reason: fmt.Sprintf("the /etc/hosts of container %s (bound from this file, rewritten in place): the names on its networks", names.ShortID(ep.ID))})
}

// peerLists are the endpoints of each network (by name) by address, made
// once for all the /etc/hosts files a change rewrites: each file lists
// every peer, so sorting them again for each is quadratic.
type peerLists map[string][]*Endpoint

func (l peerLists) of(nw *Network) []*Endpoint {
	if eps, ok := l[nw.Name]; ok {
		return eps
	}
	ids := byAddress(nw.Containers)
	eps := make([]*Endpoint, len(ids))
	for i, id := range ids {
		eps[i] = nw.Containers[id]
	}
	l[nw.Name] = eps
	return eps
}

// byAddress lists the ids of the endpoints in m.
func byAddress(m map[string]*Endpoint) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	// By address, the order they were handed out in: ids are random, and
	// the files (and the narration writing them) read the same every run.
	key := make(map[string]string, len(m)) // parsed once, not at each comparison
	for id, ep := range m {
		key[id] = string(net.ParseIP(ep.IP).To16()) + id
	}
	sort.Slice(ids, func(i, j int) bool { return key[ids[i]] < key[ids[j]] })
	return ids
}

// Rename gives container id's endpoints a new name, on every network it is
// on, and rewrites the /etc/hosts of the containers there: the records
// first, the files derived from them after (always: a rename cut short is
// finished by another). It reports whether any endpoint had another name.
func (m *Manager) Rename(id, name string) (changed bool, err error) {
	err = m.locked(func() error {
		all, err := m.loadAll()
		if err != nil {
			return err
		}
		var on []*Network
		for _, nw := range all {
			ep := nw.Containers[id]
			if ep == nil {
				continue
			}
			on = append(on, nw)
			if ep.Name == name {
				continue
			}
			ep.Name = name
			if err := m.k.Do(m.record(nw)); err != nil {
				return err
			}
			changed = true
		}
		// Every time: the files of a rename cut short after its records
		// are written by the next one.
		for _, nw := range on {
			if err := m.writeHosts(nw, all, id); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}
