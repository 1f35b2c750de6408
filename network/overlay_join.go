package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/kv"
	"github.com/mydocker/mydocker/internal/names"
	"github.com/mydocker/mydocker/internal/procfs"
	"github.com/mydocker/mydocker/network/overlay"
)

func init() {
	RegisterDriver("overlay", func(k kernel.Kernel, root string) Driver {
		return &overlayDriver{bridgeDriver: bridgeDriver{k: k, fw: Firewall{k: k, root: root}}}
	})
}

// overlayDriver is a host's part of an overlay network: a bridge
// network's (bridge, gateway, veths, NAT, -p) over the host subnet it
// leased, plus the vxlan device to the other hosts, and the etcd keys of
// its lease and its containers. The peers are the watcher's
// (overlay_watch.go).
type overlayDriver struct{ bridgeDriver }

func (d *overlayDriver) Name() string { return "overlay" }

// Create makes the bridge, the vxlan device, then the rules.
func (d *overlayDriver) Create(nw *Network) error {
	o := nw.Overlay
	_, hostSubnet, err := net.ParseCIDR(nw.Subnet)
	if err != nil {
		return fmt.Errorf("network %s: subnet %q: %w", nw.Name, nw.Subnet, err)
	}
	return d.create(nw, overlay.VTEPOps(o.Device, o.VNI, hostSubnet, net.ParseIP(o.Advertise), o.Underlay, o.UnderlayMTU))
}

// Delete removes this host's part: the rules and the bridge, the vxlan
// device (with every peer's entries), and, when the host leaves (the
// record is marked "removing"; not when remake builds the kernel side
// again), the watcher and the lease (with it etcd drops the host subnet
// and the names bound to it). Unreachable etcd: the lease ends by itself
// after its TTL, as the host's would if it died.
func (d *overlayDriver) Delete(nw *Network) error {
	o := nw.Overlay
	errs := []error{d.bridgeDriver.Delete(nw), d.k.Do(overlay.VTEPDel(o.Device))}
	if nw.State != stateRemoving {
		return errors.Join(errs...)
	}
	if o.WatcherPid != 0 && o.WatcherPid != os.Getpid() && procfs.Alive(o.WatcherPid, o.WatcherStart) {
		errs = append(errs, d.k.Do(kernel.Signal{Pid: o.WatcherPid, Sig: syscall.SIGTERM,
			Reason: fmt.Sprintf("end the watcher of network %s: this host has no container on it any more", nw.Name)}))
	}
	if o.Lease != 0 {
		c, err := dialKV(o.KV)
		if err == nil {
			err = d.k.Do(kv.LeaseRevoke{C: c, ID: o.Lease,
				Reason: fmt.Sprintf("give up this host's lease: its host subnet %s and its names in network %s go with it", nw.Subnet, nw.Name)})
		}
		if err != nil {
			d.k.Log().Warnf("network %s: %v (the lease ends by itself within %d s)", nw.Name, err, o.TTL)
		}
	}
	return errors.Join(errs...)
}

// Connect is a bridge network's, then the container's name in etcd, bound
// to this host's lease, for the other hosts' /etc/hosts: put by the
// watcher, woken (overlay_wake.go), or here when no watcher is alive.
func (d *overlayDriver) Connect(nw *Network, ep *Endpoint, pid int) error {
	if err := d.bridgeDriver.Connect(nw, ep, pid); err != nil {
		return err
	}
	if byWatcher(nw) {
		return d.k.Do(wakeWatcher(nw, ep, "publishes"))
	}
	c, err := dialKV(nw.Overlay.KV)
	if err == nil {
		err = d.k.Do(endpointPut(c, nw, ep))
	}
	if err != nil {
		return errors.Join(err, d.bridgeDriver.Disconnect(nw, ep))
	}
	return nil
}

// endpointPut is the op publishing a local endpoint in etcd.
func endpointPut(c *kv.Client, nw *Network, ep *Endpoint) kernel.Op {
	host, _ := os.Hostname()
	name := ep.Name
	if name == "" {
		name = ep.Hostname
	}
	v, _ := json.Marshal(ClusterEndpoint{Name: name, Aliases: ep.Aliases, IP: ep.IP, Host: host})
	return kv.Put{C: c, Key: endpointKey(nw.Name, ep.ID), Value: v, Lease: nw.Overlay.Lease,
		Reason: fmt.Sprintf("publish container %s's name and address on network %s, bound to this host's lease: the other hosts' containers resolve it", names.ShortID(ep.ID), nw.Name)}
}

// Disconnect takes the container's name out of etcd (unreachable: the
// watcher does it later, or the lease's end), then is a bridge network's.
// While other local containers stay, the live watcher takes the name out
// (the endpoint is marked Removing); the last one dials: it leaves.
func (d *overlayDriver) Disconnect(nw *Network, ep *Endpoint) error {
	if len(nw.Containers) > 1 && byWatcher(nw) {
		return errors.Join(d.k.Do(wakeWatcher(nw, ep, "deletes")), d.bridgeDriver.Disconnect(nw, ep))
	}
	c, err := dialKV(nw.Overlay.KV)
	if err == nil {
		err = d.k.Do(kv.Delete{C: c, Key: endpointKey(nw.Name, ep.ID),
			Reason: fmt.Sprintf("container %s leaves network %s: its name goes from etcd", names.ShortID(ep.ID), nw.Name)})
	}
	if err != nil {
		d.k.Log().Warnf("network %s: %v (the watcher removes the name once etcd answers)", nw.Name, err)
	}
	return d.bridgeDriver.Disconnect(nw, ep)
}

// join makes (under the lock) this host's part of an overlay network
// defined in etcd, at its first local endpoint: a lease, a host subnet
// bound to it, the record (marked), the bridge, vxlan device and rules,
// the peers, the record done, the watcher. notExist is returned when etcd
// has no such network (or there is no --kv).
func (m *Manager) join(name string, notExist error) (*Network, error) {
	c, def, err := clusterDef(name)
	if err != nil || def == nil {
		if err == nil {
			err = notExist
		}
		return nil, err
	}
	cl := currentCluster()
	adv, err := advertiseAddr(cl)
	if err != nil {
		return nil, err
	}
	underlay, mtu, err := overlay.UnderlayFor(adv)
	if err != nil {
		return nil, err
	}
	if has, err := m.k.Exists(kernel.LinkObj(0, name)); err != nil {
		return nil, err
	} else if has {
		return nil, fmt.Errorf("network %s: a network interface named %s already exists", name, name)
	}
	var lease kv.LeaseID
	if err := m.k.Do(kv.LeaseGrant{C: c, TTL: time.Duration(def.TTL) * time.Second, ID: &lease,
		Reason: fmt.Sprintf("a lease of %d s for this host's part of network %s, kept alive by its watcher: if this host dies, etcd drops its subnet and names", def.TTL, name)}); err != nil {
		return nil, err
	}
	revoke := func() error {
		return m.k.Do(kv.LeaseRevoke{C: c, ID: lease, Reason: fmt.Sprintf("joining network %s failed: give the lease back", name)})
	}
	hostSubnet, err := m.leaseSubnet(c, def, lease, adv, nil)
	if err != nil {
		return nil, errors.Join(err, revoke())
	}
	gw := make(net.IP, 4)
	copy(gw, hostSubnet.IP.To4())
	gw[3]++
	nw := &Network{Name: name, Driver: "overlay", Subnet: hostSubnet.String(), Gateway: gw.String(), Bridge: name,
		IpRange: (&net.IPNet{IP: gw, Mask: hostSubnet.Mask}).String(), Created: def.Created,
		Containers: map[string]*Endpoint{}, State: stateCreating,
		Overlay: &OverlayState{Subnet: def.Subnet, HostSubnetSize: def.HostSubnetSize, VNI: def.VNI, TTL: def.TTL,
			KV: cl.KV, Advertise: adv.String(), Underlay: underlay, UnderlayMTU: mtu, Device: overlay.DeviceName(name), Lease: lease}}
	// Recorded first, marked: a command killed from here on leaves a
	// record that the next one finishes (load: abandoned).
	if err := m.k.Do(m.record(nw)); err != nil {
		return nil, errors.Join(err, revoke())
	}
	if err := m.joinKernel(c, nw); err != nil {
		return nil, errors.Join(fmt.Errorf("join network %s: %w", name, err), m.leave(nw))
	}
	kernel.Report(m.k, "network %s joined: this host's subnet %s (of %s), gateway %s, bridge %s, vxlan %s (VNI %d) from %s over %s",
		name, nw.Subnet, def.Subnet, nw.Gateway, nw.Bridge, nw.Overlay.Device, def.VNI, adv, underlay)
	return nw, nil
}

// joinKernel is join's second half: the bridge, vxlan device and rules,
// the peers and names known now, the watcher, the record done.
func (m *Manager) joinKernel(c *kv.Client, nw *Network) error {
	drv, err := m.driver(nw.Driver)
	if err != nil {
		return err
	}
	if err := drv.Create(nw); err != nil {
		return err
	}
	ctx, cancel := readCtx()
	defer cancel()
	subnets, _, err := c.List(ctx, subnetsPrefix(nw.Name))
	if err != nil {
		return err
	}
	if err := programPeers(m.k, nw, subnets); err != nil {
		return err
	}
	eps, _, err := c.List(ctx, endpointsPrefix(nw.Name))
	if err != nil {
		return err
	}
	nw.Overlay.Remote = remoteOf(nw, eps)
	// The watcher first, then the record done with its pid: a command
	// killed in between leaves the record marked, which the next command
	// (or the watcher itself, meeting it) finishes.
	if err := m.k.Do(startWatcherOp{m, nw}); err != nil {
		return err
	}
	nw.State = ""
	return m.k.Do(m.record(nw))
}

// leaseSubnet leases a host subnet of def for this host: the first free
// one (prefer: that one only), created only if absent, bound to lease, so
// hosts racing for one get distinct ones.
func (m *Manager) leaseSubnet(c *kv.Client, def *OverlayDef, lease kv.LeaseID, adv net.IP, prefer *net.IPNet) (*net.IPNet, error) {
	ctx, cancel := readCtx()
	taken, _, err := c.List(ctx, subnetsPrefix(def.Name))
	cancel()
	if err != nil {
		return nil, err
	}
	_, whole, err := net.ParseCIDR(def.Subnet)
	if err != nil {
		return nil, fmt.Errorf("etcd network %s: subnet %q: %w", def.Name, def.Subnet, err)
	}
	n := hostSubnets(whole, def.HostSubnetSize)
	if prefer != nil {
		n = 1
	}
	host, _ := os.Hostname()
	for i := 0; i < n; i++ {
		s := hostSubnet(whole, def.HostSubnetSize, i)
		if prefer != nil {
			s = prefer
		}
		key := subnetKey(def.Name, s)
		if _, ok := taken[key]; ok {
			continue
		}
		v, _ := json.Marshal(SubnetLease{Host: host, PublicIP: adv.String(), VtepMAC: overlay.VtepMAC(s).String()})
		err := m.k.Do(kv.CreateIfAbsent{C: c, Puts: []kv.Put{{Key: key, Value: v, Lease: lease}},
			Reason: fmt.Sprintf("lease the host subnet %s of network %s for this host (%s), if no host has it: its containers get addresses from it", s, def.Name, adv)})
		if errors.Is(err, kv.ErrExists) {
			continue // another host was quicker: the next one
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	if prefer != nil {
		return nil, fmt.Errorf("network %s: this host's subnet %s %w", def.Name, prefer, errSubnetTaken)
	}
	return nil, fmt.Errorf("network %s: every host subnet (/%d) of %s is leased", def.Name, def.HostSubnetSize, def.Subnet)
}

// errSubnetTaken: the host subnet a host had is another's now.
var errSubnetTaken = errors.New("is leased by another host now")

// leave removes (under the lock) this host's part of an overlay network:
// marked, then torn down, then the record goes.
func (m *Manager) leave(nw *Network) error {
	nw.State = stateRemoving
	if err := m.k.Do(m.record(nw)); err != nil {
		return err
	}
	if err := m.teardown(nw); err != nil {
		return err
	}
	if err := m.k.Do(kernel.RemoveState{Path: WatcherLog(filepath.Dir(m.dir), nw.Name)}); err != nil {
		return err
	}
	kernel.Report(m.k, "network %s left: this host has no container on it", nw.Name)
	return nil
}

// leaveIfUnused (under the lock) leaves an overlay network once this host
// has no container on it, and restarts a killed watcher while it has.
func (m *Manager) leaveIfUnused(name string) error {
	nw, err := m.load(name)
	if errors.Is(err, ErrNotExist) || (err == nil && nw.Overlay == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(nw.Containers) == 0 {
		return m.leave(nw)
	}
	return m.ensureWatcher(nw)
}

// programPeers makes the vxlan device's peers those of subnets (etcd's
// subnets/<name>/ keys), this host's own excepted: what the kernel has
// (ReadPeers) against what etcd says (PeerOps).
func programPeers(k kernel.Kernel, nw *Network, subnets map[string][]byte) error {
	var want []overlay.Peer
	for key, v := range subnets {
		p, err := peerOf(key, v)
		if err != nil {
			k.Log().Warnf("network %s: %v (skipped)", nw.Name, err)
			continue
		}
		if p.Subnet.String() == nw.Subnet {
			continue // ours
		}
		want = append(want, p)
	}
	have, err := overlay.ReadPeers(nw.Overlay.Device)
	if errors.Is(err, overlay.ErrNoDevice) {
		have = nil // a plan: the device is only planned
	} else if err != nil {
		return err
	}
	return k.Do(overlay.PeerOps(nw.Overlay.Device, have, want)...)
}

// remoteOf are the endpoints of eps (etcd's endpoints/<name>/ keys) on
// other hosts: those outside this host's subnet.
func remoteOf(nw *Network, eps map[string][]byte) map[string]*Endpoint {
	_, mine, _ := net.ParseCIDR(nw.Subnet)
	out := map[string]*Endpoint{}
	for key, v := range eps {
		var e ClusterEndpoint
		if json.Unmarshal(v, &e) != nil {
			continue
		}
		ip := net.ParseIP(e.IP)
		id := key[len(endpointsPrefix(nw.Name)):]
		if ip == nil || mine == nil || mine.Contains(ip) || ValidateContainerID(id) != nil {
			continue
		}
		out[id] = &Endpoint{ID: id, Name: e.Name, Aliases: e.Aliases, IP: ip.String()}
	}
	return out
}
