package network

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/mydocker/mydocker/internal/names"
)

// checkHostPorts refuses a host port some process of the host already
// listens on: the DNAT rule would silently steal its traffic. (Ports
// published by other containers are checked against the store in reserve.)
func checkHostPorts(ports []PortMapping) error {
	for _, p := range ports {
		if p.HostPort == 0 {
			continue // connect picks a free one
		}
		addr := net.JoinHostPort(p.HostIP, fmt.Sprint(p.HostPort))
		var err error
		if p.Proto == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp4", addr); err == nil {
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp4", addr); err == nil {
				l.Close()
			}
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("publish %s: %w: a process of the host listens on it", p, ErrPortAllocated)
		}
	}
	return nil
}

// Check validates a future attachment without changing anything, so `run`
// can refuse bad input before it creates a container: the network exists
// (the default one may be missing: it is created on first use), --ip lies
// in its subnet and is free, published ports are free. Connect checks all
// of it again under the lock.
func (m *Manager) Check(netName string, ip net.IP, ports []PortMapping) error {
	if netName == "" {
		netName = DefaultNetwork
	}
	if err := checkHostPorts(ports); err != nil {
		return err
	}
	return m.locked(func() error {
		all, err := m.loadAll()
		if err != nil {
			return err
		}
		if err := portsFree(all, ports); err != nil {
			return err
		}
		var nw *Network
		for _, o := range all {
			if o.Name == netName {
				nw = o
			}
		}
		if nw == nil {
			if netName == DefaultNetwork {
				return nil
			}
			if err := ValidateName(netName); err != nil {
				return err
			}
			if _, def, err := clusterDef(netName); err != nil || def != nil {
				return err // an overlay network: joined at connect
			}
			return fmt.Errorf("network %s: %w", netName, ErrNotExist)
		}
		if ip == nil {
			return nil
		}
		_, subnet, _ := net.ParseCIDR(nw.Subnet)
		if !subnet.Contains(ip) {
			return fmt.Errorf("--ip %s is not in subnet %s of network %s: %w", ip, subnet, nw.Name, ErrIPOutOfRange)
		}
		if ip.Equal(net.ParseIP(nw.Gateway)) {
			return fmt.Errorf("--ip %s is the gateway of network %s: %w", ip, nw.Name, ErrIPInUse)
		}
		for _, ep := range nw.Containers {
			if ep.IP == ip.String() {
				return fmt.Errorf("--ip %s is in use by container %s: %w", ip, names.ShortID(ep.ID), ErrIPInUse)
			}
		}
		return nil
	})
}
