package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"syscall"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/kv"
	"github.com/mydocker/mydocker/internal/procfs"
)

// The watcher of an overlay network on a host: `mydocker network watch
// NAME`, a process of its own (as a detached container's shim; no daemon)
// that lives while the host has containers on the network. It keeps the
// host's lease alive, follows the other hosts' subnets (their routes,
// neighbour and fdb entries on the vxlan device) and names (the local
// containers' /etc/hosts), and gives up the host's part once its last
// container is gone. Its pid and start time are in the network's record;
// a command that finds it dead starts another, which reconciles from etcd
// and the kernel. Its narration goes to <root>/network/watch/<name>.log.

// WatcherLog is where the watcher of network name logs, under root.
func WatcherLog(root, name string) string {
	return filepath.Join(root, "network", "watch", name+".log")
}

// startWatcherOp starts the watcher: a step of the seam, so that a dry
// run plans it without starting anything.
type startWatcherOp struct {
	m  *Manager
	nw *Network
}

func (o startWatcherOp) Why() string {
	return fmt.Sprintf("the watcher of network %s keeps this host's lease alive and programs the other hosts as they come and go, while this host has containers on it", o.nw.Name)
}
func (o startWatcherOp) Command() kernel.Command {
	return kernel.Command{Comment: "mydocker starts `mydocker network watch " + o.nw.Name + "` in a session of its own"}
}
func (o startWatcherOp) Apply(*kernel.Exec) error {
	root := filepath.Dir(o.m.dir)
	logPath := WatcherLog(root, o.nw.Name)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return err
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"mydocker", "--root", root, "network", "watch", o.nw.Name},
		Env:  os.Environ(),
		Dir:  "/",
		// Never our caller's stdout or stderr: it outlives us, and whoever
		// reads our output would wait for it.
		Stdout: log, Stderr: log,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the watcher of network %s: %w", o.nw.Name, err)
	}
	o.nw.Overlay.WatcherPid = cmd.Process.Pid
	o.nw.Overlay.WatcherStart, _ = procfs.StartTime(cmd.Process.Pid)
	return cmd.Process.Release()
}
func (o startWatcherOp) Plan(*kernel.Plan) error { return nil }

// startWatcher (under the lock) starts the network's watcher and records it.
func (m *Manager) startWatcher(nw *Network) error {
	if err := m.k.Do(startWatcherOp{m, nw}); err != nil {
		return err
	}
	return m.k.Do(m.record(nw))
}

// ensureWatcher (under the lock) starts the watcher again if it died.
func (m *Manager) ensureWatcher(nw *Network) error {
	o := nw.Overlay
	if o.WatcherPid == os.Getpid() || (o.WatcherPid != 0 && procfs.Alive(o.WatcherPid, o.WatcherStart)) {
		return nil
	}
	m.k.Log().Warnf("network %s: its watcher is gone: starting another", nw.Name)
	c, err := dialKV(o.KV)
	if err != nil {
		return err
	}
	// Nobody kept the lease alive meanwhile: it may have ended, and with
	// it the host subnet's key.
	ctx, cancel := readCtx()
	v, _, found, err := c.Get(ctx, subnetKey(nw.Name, mustCIDR(nw.Subnet)))
	cancel()
	if err != nil {
		return err
	}
	var l SubnetLease
	if !found || json.Unmarshal(v, &l) != nil || l.PublicIP != o.Advertise {
		m.k.Log().Warnf("network %s: this host's lease on %s has ended: leasing it again", nw.Name, nw.Subnet)
		if err := m.relet(c, nw); err != nil {
			return err
		}
	}
	return m.startWatcher(nw)
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(32, 32)}
	}
	return n
}

// errLeaseAlive: the host's lease turned out alive after all.
var errLeaseAlive = errors.New("the lease is alive")

// relet (under the lock) grants the host a new lease and leases its
// subnet again with it (its containers have their addresses from it), and
// records the lease. errSubnetTaken: another host has the subnet now.
func (m *Manager) relet(c *kv.Client, nw *Network) error {
	// The block's key lives as long as the lease it is bound to: still
	// there and ours, the old lease is alive (etcd was slow to say so).
	ctx, cancel := readCtx()
	v, _, found, err := c.Get(ctx, subnetKey(nw.Name, mustCIDR(nw.Subnet)))
	cancel()
	if err != nil {
		return err
	}
	if found {
		var l SubnetLease
		if json.Unmarshal(v, &l) == nil && l.PublicIP == nw.Overlay.Advertise {
			return errLeaseAlive
		}
		return fmt.Errorf("network %s: this host's subnet %s %w", nw.Name, nw.Subnet, errSubnetTaken)
	}
	def, err := readDef(c, nw.Name)
	if err != nil {
		return err
	}
	if def == nil {
		return fmt.Errorf("network %s is gone from etcd", nw.Name)
	}
	var lease kv.LeaseID
	if err := m.k.Do(kv.LeaseGrant{C: c, TTL: time.Duration(def.TTL) * time.Second, ID: &lease,
		Reason: fmt.Sprintf("a new lease for this host's part of network %s (the last one has ended)", nw.Name)}); err != nil {
		return err
	}
	if _, err := m.leaseSubnet(c, def, lease, net.ParseIP(nw.Overlay.Advertise), mustCIDR(nw.Subnet)); err != nil {
		return errors.Join(err, m.k.Do(kv.LeaseRevoke{C: c, ID: lease, Reason: "the host subnet could not be leased again: give the lease back"}))
	}
	nw.Overlay.Lease = lease
	return m.k.Do(m.record(nw))
}

// watcher is one run of `mydocker network watch`.
type watcher struct {
	m         *Manager
	name      string
	c         *kv.Client
	subnets   map[string][]byte // etcd's subnets/<name>/
	endpoints map[string][]byte // etcd's endpoints/<name>/
	wake      <-chan os.Signal  // a local container came or goes (overlay_wake.go)
}

// Watch is the watcher of network name on this host (its record must say
// so: its WatcherPid is this process, once the starter has recorded it).
// It returns once the host has left the network, or on SIGTERM.
func (m *Manager) Watch(name string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Listening for wakes first: one before (ignored by default) is met
	// by the reconcile every start does.
	wake := make(chan os.Signal, 1)
	signal.Notify(wake, wakeSignal)
	defer signal.Stop(wake)
	var nw *Network
	// This host's part only, never etcd's view of the network.
	err := m.locked(func() (err error) { nw, err = m.load(name); return err })
	if err != nil {
		return err
	}
	if nw.Overlay == nil || nw.State != "" {
		return fmt.Errorf("network %s: not an overlay network joined by this host", name)
	}
	w := &watcher{m: m, name: name, wake: wake}
	// etcd may be down: keep trying (the kernel keeps the containers
	// talking meanwhile), until the host leaves.
	for {
		if w.c, err = kv.Dial(nw.Overlay.KV); err == nil {
			break
		}
		m.k.Log().Warnf("network %s: %v (retrying)", name, err)
		if !w.sleep(ctx, time.Second) {
			return nil
		}
	}
	defer w.c.Close()
	return w.run(ctx, nw.Overlay.Lease)
}

// sleep waits d, and reports whether the watcher should go on.
func (w *watcher) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
	}
	more, err := w.needed()
	if err != nil {
		w.m.k.Log().Warnf("network %s: %v", w.name, err)
	}
	return more
}

func (w *watcher) run(ctx context.Context, lease kv.LeaseID) error {
	lost, err := w.c.KeepAlive(ctx, lease)
	if err != nil {
		w.m.k.Log().Warnf("network %s: %v", w.name, err)
		if lost, err = w.relet(ctx); err != nil || lost == nil {
			return err
		}
	}
	subs := w.c.Watch(ctx, subnetsPrefix(w.name), 0)
	eps := w.c.Watch(ctx, endpointsPrefix(w.name), 0)
	w.subnets, w.endpoints = map[string][]byte{}, map[string][]byte{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-subs:
			apply(w.subnets, e)
			w.logErr(w.peers())
		case e := <-eps:
			apply(w.endpoints, e)
			w.logErr(w.names())
		case <-w.wake:
			w.logErr(w.names())
		case <-lost:
			if ctx.Err() != nil {
				return nil
			}
			w.m.k.Log().Warnf("network %s: this host's lease %s is lost (etcd unreachable for its TTL, or it expired)", w.name, lease)
			if lost, err = w.relet(ctx); err != nil || lost == nil {
				return err
			}
		case <-tick.C:
			more, err := w.needed()
			w.logErr(err)
			if !more {
				return nil
			}
			w.logErr(w.names())
		}
	}
}

func (w *watcher) logErr(err error) {
	if err != nil {
		w.m.k.Log().Warnf("network %s: %v", w.name, err)
	}
}

// apply is an etcd change to the set m.
func apply(m map[string][]byte, e kv.Event) {
	switch {
	case e.Resync:
		for k := range m {
			delete(m, k)
		}
		for k, v := range e.All {
			m[k] = v
		}
	case e.Deleted:
		delete(m, e.Key)
	default:
		m[e.Key] = e.Value
	}
}

// local reads the network's record (under the lock, in f).
func (w *watcher) local(f func(nw *Network) error) error {
	return w.m.locked(func() error {
		nw, err := w.m.load(w.name)
		if err != nil {
			return err
		}
		if nw.Overlay == nil {
			return fmt.Errorf("network %s is no overlay network any more", w.name)
		}
		return f(nw)
	})
}

// needed reports whether the host still has containers on the network and
// this process is its watcher; with none left (their last disconnect was
// cut short) it leaves the network itself.
func (w *watcher) needed() (bool, error) {
	more := false
	err := w.local(func(nw *Network) error {
		if nw.Overlay.WatcherPid != 0 && nw.Overlay.WatcherPid != os.Getpid() {
			return nil // another watcher took over
		}
		if len(nw.Containers) == 0 {
			return w.m.leave(nw)
		}
		more = true
		return nil
	})
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	return more, err
}

// peers programs the vxlan device from the subnets etcd has.
func (w *watcher) peers() error {
	return w.local(func(nw *Network) error { return programPeers(w.m.k, nw, w.subnets) })
}

// names keeps the other hosts' names in the local containers' /etc/hosts,
// and this host's names in etcd as its containers are (a name that could
// not be removed, or put again after a new lease).
func (w *watcher) names() error {
	return w.local(func(nw *Network) error {
		var errs []error
		_, mine, _ := net.ParseCIDR(nw.Subnet)
		for key, v := range w.endpoints {
			id := key[len(endpointsPrefix(nw.Name)):]
			var e ClusterEndpoint
			if json.Unmarshal(v, &e) != nil || !mine.Contains(net.ParseIP(e.IP)) || (nw.Containers[id] != nil && nw.Containers[id].Removing == 0) {
				continue
			}
			errs = append(errs, w.m.k.Do(kv.Delete{C: w.c, Key: key, Reason: fmt.Sprintf("the container %s has left network %s: its name goes", id, nw.Name)}))
		}
		for _, id := range byAddress(nw.Containers) {
			if _, ok := w.endpoints[endpointKey(nw.Name, id)]; !ok && nw.Containers[id].Removing == 0 {
				errs = append(errs, w.m.k.Do(endpointPut(w.c, nw, nw.Containers[id])))
			}
		}
		remote := remoteOf(nw, w.endpoints)
		if reflect.DeepEqual(remote, nw.Overlay.Remote) || (len(remote) == 0 && len(nw.Overlay.Remote) == 0) {
			return errors.Join(errs...)
		}
		nw.Overlay.Remote = remote
		if err := w.m.k.Do(w.m.record(nw)); err != nil {
			return errors.Join(append(errs, err)...)
		}
		all, err := w.m.loadAll()
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		return errors.Join(append(errs, w.m.writeHosts(nw, all, ""))...)
	})
}

// relet gets this host a lease again, once etcd answers, and with it the
// same host subnet (its containers have their addresses from it) and its
// names. The subnet taken by another host meanwhile: the host stops using
// it (its peers go) and the watcher ends, with an error in its log.
func (w *watcher) relet(ctx context.Context) (<-chan struct{}, error) {
	for {
		var nw *Network
		if err := w.local(func(n *Network) error { nw = n; return nil }); err != nil {
			return nil, err
		}
		// The old lease may have outlived an etcd restart.
		if lost, err := w.c.KeepAlive(ctx, nw.Overlay.Lease); err == nil {
			return lost, nil
		}
		lost, err := w.newLease(ctx)
		if err == nil {
			return lost, nil
		}
		if errors.Is(err, errLeaseAlive) {
			err = fmt.Errorf("lease %s still holds the block: keeping it alive again", nw.Overlay.Lease)
		} else if errors.Is(err, errSubnetTaken) {
			w.m.k.Log().Errorf("%v: this host stops using it", err)
			w.logErr(w.local(func(nw *Network) error { return programPeers(w.m.k, nw, nil) }))
			return nil, err
		}
		w.m.k.Log().Warnf("network %s: %v (retrying)", w.name, err)
		if !w.sleep(ctx, time.Second) {
			return nil, nil
		}
	}
}

// newLease leases the host's subnet again with a new lease (relet), and
// keeps that alive; the names follow (names, on the next tick).
func (w *watcher) newLease(ctx context.Context) (<-chan struct{}, error) {
	var lease kv.LeaseID
	err := w.local(func(nw *Network) error {
		if err := w.m.relet(w.c, nw); err != nil {
			return err
		}
		lease = nw.Overlay.Lease
		for id := range nw.Containers { // ours were bound to the old lease: put again
			delete(w.endpoints, endpointKey(w.name, id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w.c.KeepAlive(ctx, lease)
}
