// Package network is mydocker's networking: networks (a Linux bridge, a
// subnet, NAT rules), endpoints (a veth pair into a container's network
// namespace), a bitmap IPAM, published ports and the JSON store.
//
// Files, by job: network.go (types, the Manager, create/remove/list/prune),
// connect.go (Connect), disconnect.go (Disconnect, Reconcile), check.go
// (Check: validation before a container exists), driver.go (Driver
// interface and registry), bridge.go and endpoint.go (the bridge driver and
// its named steps), ipam.go (bitmap IPAM and its store), portmap.go (-p
// parsing, DNAT rules as data), firewall.go (the chain layout, and the base
// chains kept while rules are in them), firewall_restore.go (each change as
// one iptables-restore, from the records, reading the kernel where they
// disagree), hosts.go (/etc/hosts, resolv.conf),
// validate.go (names, subnets); overlay networks over several hosts
// sharing an etcd (doc/overlay.md): cluster.go (--kv, --advertise-addr),
// overlay.go (the etcd layout, the rules), overlay_kv.go (create, ls,
// inspect, rm in etcd), overlay_join.go (a host's part: the driver, join
// and leave), overlay_watch.go (the watcher process), with the vxlan
// device and peers in network/overlay. Package network/netsetgo wires an existing
// process into a bridge with the same steps and rules. Every change to
// the kernel, and every write of a state file, is an op of
// internal/kernel handed to the Manager's kernel.Kernel: narrated and done,
// or only planned (--dry-run, and tests without root).
//
// # How the runtime core uses it
//
//	m := network.NewManager(root, k)                 // root = --root (/var/run/mydocker), k the seam
//	info, err := m.Connect(network.Attachment{...})  // after the container's init is started
//	                                                 // (pid known, blocked before exec), before
//	                                                 // releasing it; undone on error
//	err = m.Disconnect(info.Network, containerID)    // every teardown path; idempotent, best
//	                                                 // effort, fine when the netns is gone
//	err = m.Reconcile(func(id string) bool {...})    // frees what dead containers still hold
//
// State (on-disk formats are API):
//
//	<root>/network/network/<name>      one JSON file per network (Network below):
//	                                   its subnet, gateway and endpoints, the one
//	                                   record of who holds which address
//	<root>/network/lock                flock held around every read-modify-write
//
// # Crash safety
//
// Any mydocker process may be killed at any instant. A network's file is
// written, marked State "creating" (or "removing"), before its bridge and
// rules are made (or removed), and marked done (or deleted) after. The
// lock is held throughout, so a command that meets a marked record under
// the lock knows its writer died, and removes what the record names (see
// load). An address is allocated and freed by one atomic write of the
// network's file, keyed by its owner: the IPAM bitmap is derived from that
// file (poolOf), never stored beside it. (Until 2026-11 the bitmaps were
// also kept in <root>/network/ipam/subnet.json: a file that could disagree
// with the networks'; it is no longer read, and `system prune` removes it.)
package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
)

// Errors callers branch on.
var (
	ErrNotExist      = errors.New("no such network")
	ErrExists        = errors.New("network already exists")
	ErrPoolOverlap   = errors.New("subnet overlaps")
	ErrInUse         = errors.New("network has active endpoints")
	ErrPortAllocated = errors.New("port is already allocated")
)

// Default network: what a container gets without --net, as docker's.
const (
	DefaultNetwork = "bridge"
	DefaultBridge  = "mydocker0"
)

// Network is the JSON in <root>/network/network/<name>.
type Network struct {
	Name       string
	IpRange    string // the seed's name and format: gateway/prefix,, "192.168.0.1/24"
	Driver     string
	Subnet     string // "192.168.0.0/24"
	Gateway    string // "192.168.0.1"
	Bridge     string // the bridge device (the name, except mydocker0 for "bridge")
	AllocRange string `json:",omitempty"` // --ip-range: where containers' addresses come from
	Created    time.Time
	Containers map[string]*Endpoint // by container id
	// State is "creating" or "removing" while a command changes the
	// kernel for the network (see the package doc), "" once it is made.
	State string `json:",omitempty"`
	// Overlay is an overlay network's part on this host (overlay.go);
	// nil for a bridge network.
	Overlay *OverlayState `json:",omitempty"`
}

// Endpoint is a container's attachment to a network, as recorded.
type Endpoint struct {
	ID             string
	Name           string `json:",omitempty"`
	Hostname       string `json:",omitempty"`
	IP             string
	MAC            string
	Veth           string        // host end
	Ifname         string        // inside the container: eth0, eth1...
	Pid            int           `json:",omitempty"`
	Ports          []PortMapping `json:",omitempty"`
	HostsPath      string        `json:",omitempty"`
	ResolvConfPath string        `json:",omitempty"`
	// Aliases (--network-alias) are names of the container on this
	// network besides its name; ExtraHosts (--add-host) are "NAME:IP" lines
	// of its own /etc/hosts, host-gateway resolved to the gateway.
	Aliases    []string `json:",omitempty"`
	ExtraHosts []string `json:",omitempty"`
	// Removing is the pid of the mydocker process tearing the endpoint
	// down, with its start time (a reused pid is not it), so that
	// concurrent teardowns do not interleave (see claim).
	Removing      int    `json:",omitempty"`
	RemovingStart uint64 `json:",omitempty"`
}

// CreateOptions are `network create`'s.
type CreateOptions struct {
	Name    string
	Driver  string // "" = bridge
	Subnet  string // "" = the first free private /16 (172.17.0.0/16, 172.18.0.0/16, ...)
	Gateway string // "" = the subnet's first address
	IPRange string // "" = the whole subnet
	// Driver "overlay" only: the size of each host's share of Subnet
	// (0 = /24), and the TTL of a host's lease in etcd (0 = 20 s).
	HostSubnetSize int
	KVTTL          time.Duration
}

// Manager does every network operation for one state root.
type Manager struct {
	dir string // <root>/network
	k   kernel.Kernel
}

// NewManager returns the manager of the networks under root (--root),
// changing the kernel and its state files through k.
func NewManager(root string, k kernel.Kernel) *Manager {
	dir := filepath.Join(root, "network")
	return &Manager{dir: dir, k: k}
}

// driver is the named driver, for this manager's kernel and state root.
func (m *Manager) driver(name string) (Driver, error) {
	return getDriver(name, m.k, filepath.Dir(m.dir))
}

func (m *Manager) netPath(name string) string { return filepath.Join(m.dir, "network", name) }

// locked runs f holding the network lock (one lock for network files and
// IPAM, so an address and the endpoint owning it change together).
func (m *Manager) locked(f func() error) error {
	return Locked(filepath.Dir(m.dir), f)
}

// Locked runs f holding the network lock of the state root: the lock
// around network files, IPAM, netsetgo's records and mydocker's base
// chains (so they are never created and removed at once).
func Locked(root string, f func() error) error {
	unlock, err := statefile.Lock(filepath.Join(root, "network", "lock"))
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}

// load reads and checks a network's file (under the lock). A record left
// "creating" or "removing" by a command that died is finished here: what
// it names is removed, and the network does not exist.
func (m *Manager) load(name string) (*Network, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	path := m.netPath(name)
	var nw *Network
	if err := kernel.ReadState(m.k, path, &nw); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("network %s: %w", name, ErrNotExist)
		}
		return nil, err
	}
	if nw == nil {
		return nil, statefile.Corrupt(path, errors.New("null"))
	}
	if err := nw.check(name); err != nil {
		return nil, statefile.Corrupt(path, err)
	}
	if nw.Containers == nil {
		nw.Containers = map[string]*Endpoint{}
	}
	if nw.State != "" {
		if err := m.abandoned(nw); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("network %s: %w", name, ErrNotExist)
	}
	return nw, nil
}

// abandoned finishes a record whose command died while it was creating or
// removing the network: both end with the network gone, as its bridge and
// rules may be half made (teardown skips what is missing).
func (m *Manager) abandoned(nw *Network) error {
	m.k.Log().Warnf("network %s was left %s by a mydocker command that died: removing what its record names", nw.Name, nw.State)
	if nw.State != stateRemoving {
		nw.State = stateRemoving
		if err := m.k.Do(m.record(nw)); err != nil {
			return err
		}
	}
	return m.teardown(nw)
}

// teardown removes a network marked "removing": its bridge and rules, then
// its file, the last trace of it.
func (m *Manager) teardown(nw *Network) error {
	drv, err := m.driver(nw.Driver)
	if err != nil {
		return err
	}
	if err := drv.Delete(nw); err != nil {
		return fmt.Errorf("remove network %s: %w", nw.Name, err)
	}
	return m.k.Do(kernel.RemoveState{Path: m.netPath(nw.Name)})
}

// record is the op writing a network's file.
func (m *Manager) record(nw *Network) kernel.Op {
	return kernel.WriteState{Path: m.netPath(nw.Name), Value: nw}
}

// loadAll reads every network (under the lock). A corrupt file is skipped
// with a warning naming it, so that one broken network never breaks the
// others; `network rm` removes it.
func (m *Manager) loadAll() ([]*Network, error) {
	names, err := kernel.StateNames(m.k, filepath.Join(m.dir, "network"))
	if err != nil {
		return nil, err
	}
	var out []*Network
	for _, name := range names {
		nw, err := m.load(name)
		switch {
		case errors.Is(err, ErrNotExist):
			continue // removed, or finished just now
		case errors.Is(err, statefile.ErrCorrupt):
			m.k.Log().Warnf("%v (skipped; `mydocker network rm %s` removes it)", err, name)
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, nw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// List returns every network, sorted by name.
func (m *Manager) List() ([]*Network, error) {
	var out []*Network
	err := m.locked(func() (err error) { out, err = m.loadAll(); return err })
	return out, err
}

// Inspect returns one network.
func (m *Manager) Inspect(name string) (*Network, error) {
	var nw *Network
	err := m.locked(func() (err error) { nw, err = m.load(name); return err })
	if errors.Is(err, ErrNotExist) {
		return inspectOverlay(name, err) // defined in etcd, no part here
	}
	return nw, err
}

// Create validates opts, then builds the network: IPAM entry (gateway
// reserved), bridge and rules through the driver, network file. Bad input
// creates nothing; a failed step undoes the earlier ones.
func (m *Manager) Create(opts CreateOptions) (*Network, error) {
	var nw *Network
	err := m.locked(func() (err error) { nw, err = m.create(opts); return err })
	return nw, err
}

func (m *Manager) create(opts CreateOptions) (*Network, error) {
	if opts.Driver == "" {
		opts.Driver = "bridge"
	}
	if opts.Driver == "overlay" {
		return m.createOverlay(opts)
	}
	if err := ValidateName(opts.Name); err != nil {
		return nil, err
	}
	bridge := opts.Name
	if opts.Name == DefaultNetwork {
		bridge = DefaultBridge
	}
	drv, err := m.driver(opts.Driver)
	if err != nil {
		return nil, err
	}
	if _, err := m.load(opts.Name); err == nil {
		return nil, fmt.Errorf("network %s: %w", opts.Name, ErrExists)
	} else if !errors.Is(err, ErrNotExist) {
		return nil, err
	}
	others, err := m.loadAll()
	if err != nil {
		return nil, err
	}
	if has, err := m.k.Exists(kernel.LinkObj(0, bridge)); err != nil {
		return nil, err
	} else if has {
		return nil, fmt.Errorf("network %s: a network interface named %s already exists", opts.Name, bridge)
	}
	nw, err := plan(opts, bridge, others)
	if err != nil {
		return nil, err
	}
	// Recorded first, marked: whatever happens next, a later command finds
	// the bridge and rules named here.
	nw.State = stateCreating
	if err := m.k.Do(m.record(nw)); err != nil {
		return nil, err
	}
	if err := drv.Create(nw); err != nil {
		return nil, errors.Join(fmt.Errorf("create network %s: %w", nw.Name, err), m.k.Do(kernel.RemoveState{Path: m.netPath(nw.Name)}))
	}
	nw.State = ""
	if err := m.k.Do(m.record(nw)); err != nil {
		return nil, errors.Join(err, m.teardown(nw))
	}
	kernel.Report(m.k, "network %s created: subnet %s, gateway %s, bridge %s", nw.Name, nw.Subnet, nw.Gateway, nw.Bridge)
	return nw, nil
}

// Remove deletes networks: refused while containers are attached;
// afterwards no bridge, no rule and no file is left. A corrupt file is
// removed too, and what no record names then (see Sweep).
func (m *Manager) Remove(names ...string) error {
	var errs []error
	for _, name := range names {
		errs = append(errs, m.locked(func() error { return m.remove(name) }))
	}
	return errors.Join(errs...)
}

func (m *Manager) remove(name string) error {
	nw, err := m.load(name)
	if errors.Is(err, statefile.ErrCorrupt) {
		// What it had in the kernel is found by its names and comments.
		m.k.Log().Warnf("%v: removing it", err)
		if err := m.k.Do(kernel.RemoveState{Path: m.netPath(name)}); err != nil {
			return err
		}
		_, err := m.sweep()
		return err
	}
	if errors.Is(err, ErrNotExist) {
		return m.removeOverlay(name, nil, err) // defined in etcd, no part here
	}
	if err != nil {
		return err
	}
	if nw.Overlay != nil {
		return m.removeOverlay(name, nw, nil)
	}
	if len(nw.Containers) > 0 {
		return inUse(name, nw.Containers)
	}
	nw.State = stateRemoving
	if err := m.k.Do(m.record(nw)); err != nil {
		return err
	}
	if err := m.teardown(nw); err != nil {
		return err
	}
	kernel.Report(m.k, "network %s removed", name)
	return nil
}

// Prune removes the networks no container is attached to; it returns their
// names. (Call Reconcile first to drop endpoints of dead containers.)
func (m *Manager) Prune() ([]string, error) {
	all, err := m.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, nw := range all {
		if len(nw.Containers) > 0 || nw.Overlay != nil {
			continue // an overlay network is the cluster's: `network rm` removes it
		}
		err := m.locked(func() error { return m.remove(nw.Name) })
		if err != nil && !errors.Is(err, ErrInUse) && !errors.Is(err, ErrNotExist) {
			errs = append(errs, err)
		} else if err == nil {
			removed = append(removed, nw.Name)
		}
	}
	return removed, errors.Join(errs...)
}

// Undo is a rollback stack: each step registers its undo once it
// succeeded; Run undoes in reverse and returns the original error joined
// with any error of the undo steps.
type Undo []func() error

// Add registers the undo of a step that succeeded.
func (u *Undo) Add(f func() error) { *u = append(*u, f) }

// Run undoes the steps, last first.
func (u Undo) Run(err error) error {
	errs := []error{err}
	for i := len(u) - 1; i >= 0; i-- {
		if e := u[i](); e != nil {
			errs = append(errs, fmt.Errorf("rollback: %w", e))
		}
	}
	return errors.Join(errs...)
}
