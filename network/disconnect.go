package network

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
	"github.com/mydocker/mydocker/internal/procfs"
)

// Disconnect detaches a container from a network: port rules, veth pair,
// address, and the others' /etc/hosts. Idempotent and best effort: it goes
// on past pieces already gone (a container whose namespace died has lost
// its veth already) and returns every error joined.
func (m *Manager) Disconnect(network, containerID string) error {
	defer m.timed("disconnect", time.Now())
	nw, ep, err := m.claim(network, containerID)
	if errors.Is(err, ErrNotExist) || (err == nil && ep == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	if drv, err := m.driver(nw.Driver); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, drv.Disconnect(nw, ep))
	}
	errs = append(errs, m.locked(func() error { return m.forget(network, containerID) }))
	if nw.Overlay != nil {
		errs = append(errs, m.locked(func() error { return m.leaveIfUnused(network) }))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("disconnect %s from network %s: %w", names.ShortID(containerID), network, err)
	}
	kernel.Report(m.k, "container %s disconnected from network %s", names.ShortID(containerID), network)
	return nil
}

// forget (under the lock) rewrites the /etc/hosts files as they are
// without the endpoint (the network's other containers', and the
// container's own when it stays on another network), then forgets the
// endpoint, which frees its address: last, so that a disconnect killed
// before it is done again whole by the next. Missing network or endpoint:
// nothing to do.
func (m *Manager) forget(network, id string) error {
	nw, err := m.load(network)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil || nw.Containers[id] == nil {
		return err
	}
	all, err := m.loadAll()
	if err != nil {
		return err
	}
	delete(nw.Containers, id)
	for i, o := range all {
		if o.Name == nw.Name {
			all[i] = nw // as it will be
		}
	}
	if err := m.writeHosts(nw, all, ""); err != nil {
		return err
	}
	for _, o := range all {
		if e := o.Containers[id]; e != nil && e.HostsPath != "" {
			if err := m.writeHostsOf(e, all, peerLists{}); err != nil {
				return err
			}
			break
		}
	}
	return m.k.Do(m.record(nw))
}

// claim marks the endpoint as being torn down by this process, so that two
// teardowns of one container (its shim and `rm -f`, say) do not interleave:
// the second waits for the first to finish (then finds nothing to do), or
// takes over when the first died half way. It returns a nil endpoint when
// there is nothing (left) to tear down.
func (m *Manager) claim(network, containerID string) (*Network, *Endpoint, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var nw *Network
		var ep *Endpoint
		wait := false
		err := m.locked(func() error {
			var err error
			if nw, err = m.load(network); err != nil {
				return err
			}
			if ep = nw.Containers[containerID]; ep == nil {
				return nil
			}
			if ep.Removing != 0 && ep.Removing != os.Getpid() && procfs.Alive(ep.Removing, ep.RemovingStart) && time.Now().Before(deadline) {
				wait = true
				return nil
			}
			ep.Removing = os.Getpid()
			ep.RemovingStart, _ = procfs.StartTime(ep.Removing)
			return m.k.Do(m.record(nw))
		})
		if err != nil || !wait {
			return nw, ep, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Reconcile frees what containers that no longer exist still hold (their
// endpoints: rules, veth, address). For startup, prune and after a reboot.
func (m *Manager) Reconcile(alive func(containerID string) bool) error {
	all, err := m.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, nw := range all {
		for id := range nw.Containers {
			if !alive(id) {
				errs = append(errs, m.Disconnect(nw.Name, id))
			}
		}
	}
	return errors.Join(errs...)
}
