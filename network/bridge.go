package network

import (
	"errors"
	"fmt"
	"net"

	"github.com/mydocker/mydocker/internal/kernel"
)

func init() {
	RegisterDriver("bridge", func(k kernel.Kernel, root string) Driver {
		return &bridgeDriver{k: k, fw: Firewall{k: k, root: root}}
	})
}

// bridgeDriver: a Linux bridge per network with the gateway address on it,
// veth pairs for endpoints, NAT and isolation in iptables (firewall.go).
type bridgeDriver struct {
	k  kernel.Kernel
	fw Firewall
}

func (d *bridgeDriver) Name() string { return "bridge" }

// The bridge driver's named steps; netsetgo (network/netsetgo) wires a
// process with the same.

// IPForward lets the host route between the bridge and the world.
func IPForward() kernel.Sysctl {
	return kernel.Sysctl{Key: "net.ipv4.ip_forward", Value: "1",
		Reason: "let the kernel route packets between the bridge and other interfaces (off in a fresh namespace)"}
}

// BridgeAdd creates the bridge.
func BridgeAdd(name string) kernel.BridgeAdd {
	return kernel.BridgeAdd{Name: name, Reason: fmt.Sprintf("create the bridge %q: the virtual switch the network's containers plug into", name)}
}

// LinkUp brings a link of the host up; what is "the bridge" or "the host end".
func LinkUp(what, name string) kernel.LinkSetUp {
	return kernel.LinkSetUp{Name: name, Reason: fmt.Sprintf("bring %s %s up", what, name)}
}

// VethPair is the veth pair of an endpoint, its peer born in the namespace
// of pid (a nil mac: the kernel picks the peer's).
func VethPair(host, peer string, mac net.HardwareAddr, pid int) kernel.VethAdd {
	return kernel.VethAdd{Host: host, Peer: peer, MAC: mac, Pid: pid,
		Reason: fmt.Sprintf("create a veth pair (a virtual cable): %s stays on the host, %s is born in the netns of pid %d", host, peer, pid)}
}

// PlugIn puts the host end of a veth pair on the bridge.
func PlugIn(veth, bridge string) kernel.LinkSetMaster {
	return kernel.LinkSetMaster{Name: veth, Master: bridge, Reason: fmt.Sprintf("plug %s into the bridge %s", veth, bridge)}
}

// PeerSteps are the steps inside the namespace of pid, for its end ifname
// of a veth pair: its address, the link and lo up, and (unless the
// namespace has one) the default route via gw. who is "container" or
// "process": whose namespace it is.
func PeerSteps(pid int, ifname string, addr *net.IPNet, gw net.IP, withRoute bool, who string) []kernel.Op {
	ops := []kernel.Op{
		kernel.AddrAdd{In: pid, Dev: ifname, Addr: addr, Reason: fmt.Sprintf("give the %s's %s its address %s", who, ifname, addr)},
		kernel.LinkSetUp{In: pid, Name: ifname, Reason: fmt.Sprintf("bring the %s's %s up", who, ifname)},
		kernel.LinkSetUp{In: pid, Name: "lo", Reason: fmt.Sprintf("bring the %s's loopback up (a new network namespace starts with lo down)", who)},
	}
	if withRoute {
		ops = append(ops, kernel.RouteAddDefault{In: pid, Gw: gw, Dev: ifname,
			Reason: fmt.Sprintf("send everything outside the subnet to the gateway %s (the bridge)", gw)})
	}
	return ops
}

// Create runs its steps in order; on failure it removes what it made
// (delete skips what is missing) and returns the original error.
func (d *bridgeDriver) Create(nw *Network) error { return d.create(nw, nil) }

// create makes the bridge, then the steps extra (an overlay network's
// vxlan device), then the network's rules (nw.rules).
func (d *bridgeDriver) create(nw *Network, extra []kernel.Op) (err error) {
	gw, err := nw.gatewayNet()
	if err != nil {
		return err
	}
	rules := rulesNone // until the rules' restore is tried; then a rollback reads the kernel
	defer func() {
		if err != nil {
			err = errors.Join(err, d.delete(nw, rules))
		}
	}()
	if err := d.k.Do(IPForward()); err != nil {
		return err
	}
	if err := d.k.Do(BridgeAdd(nw.Bridge)); err != nil {
		return err
	}
	if err := d.k.Do(kernel.AddrAdd{Dev: nw.Bridge, Addr: gw,
		Reason: fmt.Sprintf("the gateway address %s on the bridge: containers route through it", gw)}); err != nil {
		return err
	}
	if err := d.k.Do(kernel.Sysctl{Key: kernel.SysctlIface("ipv4", nw.Bridge, "route_localnet"), Value: "1",
		Reason: "allow 127.0.0.1-sourced packets (the host's connections to published ports, DNAT'd) to leave through the bridge"}); err != nil {
		return err
	}
	if err := d.k.Do(LinkUp("the bridge", nw.Bridge)); err != nil {
		return err
	}
	if err := d.k.Do(extra...); err != nil {
		return err
	}
	rules = rulesUnknown
	return d.fw.addNetworkRules(nw.Name, nw.rules())
}

// Delete removes the network's rules, and mydocker's base chains if no
// other record uses them (one restore), and at the same time its bridge
// (the kernel drops the address, routes and per-bridge sysctls with it).
func (d *bridgeDriver) Delete(nw *Network) error { return d.delete(nw, rulesRecorded) }

// What a delete knows of the network's rules.
type rulesKnown int

const (
	rulesNone     rulesKnown = iota // never tried: nothing to remove
	rulesUnknown                    // tried, and failed: read the kernel
	rulesRecorded                   // as the records say (read if that fails)
)

// delete is Delete, given what is known of the network's rules.
func (d *bridgeDriver) delete(nw *Network, rules rulesKnown) error {
	del := kernel.LinkDel{Name: nw.Bridge, Reason: fmt.Sprintf("delete the bridge %s (its address and routes go with it)", nw.Bridge)}
	if rules == rulesNone {
		return d.k.Do(del)
	}
	// The rules name the bridge, they do not need it: both go at once.
	return d.fw.removeNetworkRules(nw.Name, nw.rules(), rules == rulesRecorded, del)
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
