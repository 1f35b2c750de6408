package network

import (
	"errors"
	"fmt"
	"net"

	"github.com/mydocker/mydocker/internal/narrate"
)

func init() {
	RegisterDriver("bridge", func(n *narrate.Narrator) Driver {
		k := newKernel(n)
		return &bridgeDriver{k: k, fw: firewall{k: k}}
	})
}

// bridgeDriver: a Linux bridge per network with the gateway address on it,
// veth pairs for endpoints, NAT and isolation in iptables (firewall.go).
type bridgeDriver struct {
	k  *kernel
	fw firewall
}

func (d *bridgeDriver) Name() string { return "bridge" }

// Create runs its steps in order; on failure it removes what it made
// (Delete skips what is missing) and returns the original error.
func (d *bridgeDriver) Create(nw *Network) (err error) {
	gw, err := nw.gatewayNet()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Delete(nw))
		}
	}()
	if err := d.k.Sysctl("net.ipv4.ip_forward", "1", "let the kernel route packets between the bridge and other interfaces (off in a fresh namespace)"); err != nil {
		return err
	}
	if err := d.k.LinkAddBridge(nw.Bridge); err != nil {
		return err
	}
	if err := d.k.AddrAdd(nw.Bridge, gw, fmt.Sprintf("the gateway address %s on the bridge: containers route through it", gw)); err != nil {
		return err
	}
	if err := d.k.Sysctl(sysctlIface("ipv4", nw.Bridge, "route_localnet"), "1",
		"allow 127.0.0.1-sourced packets (the host's connections to published ports, DNAT'd) to leave through the bridge"); err != nil {
		return err
	}
	if err := d.k.LinkSetUp(nw.Bridge, fmt.Sprintf("bring the bridge %s up", nw.Bridge)); err != nil {
		return err
	}
	if err := d.fw.ensureBase(); err != nil {
		return err
	}
	return d.fw.addNetwork(nw.Bridge, nw.Subnet)
}

// Delete removes the network's rules and its bridge (the kernel drops the
// address, routes and per-bridge sysctls with it).
func (d *bridgeDriver) Delete(nw *Network) error {
	return errors.Join(
		d.fw.removeNetwork(nw.Bridge, nw.Subnet),
		d.k.LinkDel(nw.Bridge, fmt.Sprintf("delete the bridge %s (its address and routes go with it)", nw.Bridge)),
	)
}

// gatewayNet is the gateway with the subnet's prefix, as put on the bridge.
func (nw *Network) gatewayNet() (*net.IPNet, error) {
	_, subnet, err := net.ParseCIDR(nw.Subnet)
	if err != nil {
		return nil, fmt.Errorf("network %s: subnet %q: %w", nw.Name, nw.Subnet, err)
	}
	gw := net.ParseIP(nw.Gateway).To4()
	if gw == nil {
		return nil, fmt.Errorf("network %s: gateway %q is not an IPv4 address", nw.Name, nw.Gateway)
	}
	return &net.IPNet{IP: gw, Mask: subnet.Mask}, nil
}
