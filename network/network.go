// Package network is mydocker's networking: networks (a Linux bridge, a
// subnet, NAT rules), endpoints (a veth pair into a container's network
// namespace), a bitmap IPAM, published ports and the JSON store.
//
// Files, by job: network.go (types, the Manager, create/remove/list/prune),
// connect.go (Connect), disconnect.go (Disconnect, Reconcile), check.go
// (Check: validation before a container exists), driver.go (Driver
// interface and registry), bridge.go and endpoint.go (the bridge driver),
// ipam.go (bitmap IPAM and its store), portmap.go (-p parsing, DNAT rules as
// data), firewall.go (the chain layout), hosts.go (/etc/hosts, resolv.conf),
// validate.go (names, subnets), netsetgo*.go (netsetgo: wire an existing
// process into a bridge, with the same ops and rules), ops.go and
// ops_iptables.go (the narrated kernel operations: the only code that
// changes the kernel).
//
// # How the runtime core uses it
//
//	m := network.NewManager(root, narrator)          // root = --root (/var/run/mydocker)
//	info, err := m.Connect(network.Attachment{...})  // after the container's init is started
//	                                                 // (pid known, blocked before exec), before
//	                                                 // releasing it; undone on error
//	err = m.Disconnect(info.Network, containerID)    // every teardown path; idempotent, best
//	                                                 // effort, fine when the netns is gone
//	err = m.Reconcile(func(id string) bool {...})    // frees what dead containers still hold
//
// State (on-disk formats are API):
//
//	<root>/network/network/<name>      one JSON file per network (Network below)
//	<root>/network/ipam/subnet.json    {"<subnet>": "<base64 bitmap>", ...}
//	<root>/network/lock                flock held around every read-modify-write of both
package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	seam "github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
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
	// Removing is the pid of the mydocker process tearing the endpoint
	// down, so that concurrent teardowns do not interleave (see claim).
	Removing int `json:",omitempty"`
}

// CreateOptions are `network create`'s.
type CreateOptions struct {
	Name    string
	Driver  string // "" = bridge
	Subnet  string // "" = the first free private /16 (172.17.0.0/16, 172.18.0.0/16, ...)
	Gateway string // "" = the subnet's first address
	IPRange string // "" = the whole subnet
}

// Manager does every network operation for one state root.
type Manager struct {
	dir   string // <root>/network
	n     *narrate.Narrator
	pools poolStore
}

// NewManager returns the manager of the networks under root (--root).
//
// TEMPORARY (branch seam-ctr): it adapts the kernel seam to this package's
// narrator until network/ is on the seam itself (branch seam-net).
func NewManager(root string, k seam.Kernel) *Manager {
	_, plan := k.(*seam.Plan)
	n := narrate.New(k.Log()).WithDryRun(plan)
	if plan {
		n = n.WithSubstitute("4194304", "$PID") // container.DryRunPid
	}
	return newManager(root, n)
}

// newManager is the manager on a narrator (TEMPORARY, see NewManager).
func newManager(root string, n *narrate.Narrator) *Manager {
	dir := filepath.Join(root, "network")
	return &Manager{dir: dir, n: n, pools: poolStore{path: filepath.Join(dir, "ipam", "subnet.json")}}
}

func (m *Manager) netPath(name string) string { return filepath.Join(m.dir, "network", name) }

// locked runs f holding the network lock (one lock for network files and
// IPAM, so an address and the endpoint owning it change together).
func (m *Manager) locked(f func() error) error {
	unlock, err := statefile.Lock(filepath.Join(m.dir, "lock"))
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}

func (m *Manager) load(name string) (*Network, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	nw := &Network{}
	if err := statefile.ReadJSON(m.netPath(name), nw); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("network %s: %w", name, ErrNotExist)
		}
		return nil, err
	}
	if nw.Containers == nil {
		nw.Containers = map[string]*Endpoint{}
	}
	return nw, nil
}

// save writes a network file (not in dry-run mode: then nothing is written).
func (m *Manager) save(nw *Network) error {
	if m.n.DryRun() {
		return nil
	}
	return statefile.WriteJSON(m.netPath(nw.Name), nw)
}

func (m *Manager) savePools(pools map[string]*Pool) error {
	if m.n.DryRun() {
		return nil
	}
	return m.pools.save(pools)
}

func (m *Manager) loadAll() ([]*Network, error) {
	ents, err := os.ReadDir(filepath.Join(m.dir, "network"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []*Network
	for _, e := range ents {
		if e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		nw, err := m.load(e.Name())
		if err != nil {
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
	if err := ValidateName(opts.Name); err != nil {
		return nil, err
	}
	bridge := opts.Name
	if opts.Name == DefaultNetwork {
		bridge = DefaultBridge
	}
	drv, err := getDriver(opts.Driver, m.n)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(m.netPath(opts.Name)); err == nil {
		return nil, fmt.Errorf("network %s: %w", opts.Name, ErrExists)
	}
	others, err := m.loadAll()
	if err != nil {
		return nil, err
	}
	if err := checkInterfaceFree(bridge); err != nil {
		return nil, err
	}
	nw, pool, err := plan(opts, bridge, others)
	if err != nil {
		return nil, err
	}
	pools, err := m.pools.load()
	if err != nil {
		return nil, err
	}
	if _, taken := pools[nw.Subnet]; taken {
		return nil, fmt.Errorf("subnet %s: %w an address pool already in use", nw.Subnet, ErrPoolOverlap)
	}

	var u undo
	pools[nw.Subnet] = pool
	if err := m.savePools(pools); err != nil {
		return nil, err
	}
	u.add(func() error { delete(pools, nw.Subnet); return m.savePools(pools) })
	if err := drv.Create(nw); err != nil {
		if held, _ := m.netsetgoHoldsRules(); len(others) == 0 && !held {
			err = errors.Join(err, firewall{k: newKernel(m.n)}.removeBase())
		}
		return nil, u.run(fmt.Errorf("create network %s: %w", nw.Name, err))
	}
	u.add(func() error { return drv.Delete(nw) })
	if err := m.save(nw); err != nil {
		return nil, u.run(err)
	}
	m.report("network %s created: subnet %s, gateway %s, bridge %s", nw.Name, nw.Subnet, nw.Gateway, nw.Bridge)
	return nw, nil
}

// Remove deletes networks: refused while containers are attached;
// afterwards no bridge, no rule and no IPAM entry is left.
func (m *Manager) Remove(names ...string) error {
	var errs []error
	for _, name := range names {
		errs = append(errs, m.locked(func() error { return m.remove(name) }))
	}
	return errors.Join(errs...)
}

func (m *Manager) remove(name string) error {
	nw, err := m.load(name)
	if err != nil {
		return err
	}
	if len(nw.Containers) > 0 {
		ids := make([]string, 0, len(nw.Containers))
		for id := range nw.Containers {
			ids = append(ids, shortID(id))
		}
		sort.Strings(ids)
		return fmt.Errorf("network %s: %w: %v", name, ErrInUse, ids)
	}
	drv, err := getDriver(nw.Driver, m.n)
	if err != nil {
		return err
	}
	errs := []error{drv.Delete(nw)}
	pools, err := m.pools.load()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	delete(pools, nw.Subnet)
	errs = append(errs, m.savePools(pools))
	if !m.n.DryRun() {
		if err := os.Remove(m.netPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	// The last network takes mydocker's chains with it, unless netsetgo
	// bridges have rules in them (in a dry run, this network's file is
	// still there: it does not count).
	errs = append(errs, m.removeBaseIfUnused(name))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	m.report("network %s removed", name)
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
		if len(nw.Containers) > 0 {
			continue
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

// report logs the outcome of an operation (in dry-run mode: what would
// have been done).
func (m *Manager) report(format string, args ...any) {
	if m.n.DryRun() {
		format = "dry run, nothing changed: " + format
	}
	m.n.Log().WithField("source", callerSource()).Infof(format, args...)
}

// undo is a rollback stack: each step registers its undo once it succeeded;
// run undoes in reverse and returns the original error joined with any
// error of the undo steps.
type undo []func() error

func (u *undo) add(f func() error) { *u = append(*u, f) }

func (u undo) run(err error) error {
	errs := []error{err}
	for i := len(u) - 1; i >= 0; i-- {
		if e := u[i](); e != nil {
			errs = append(errs, fmt.Errorf("rollback: %w", e))
		}
	}
	return errors.Join(errs...)
}
