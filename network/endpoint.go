package network

import (
	"errors"
	"fmt"
	"hash/crc32"
	"net"
)

// vethName names the host end of an endpoint's veth pair from the container
// id: "veth" + 7 characters of the id (what a reader recognises) + 4 hex
// digits hashed from the whole id and the network = 15 characters, the
// kernel's limit (IFNAMSIZ-1). The hash keeps apart one container on two
// networks, and ids sharing their first characters.
func vethName(containerID, network string) string {
	id := containerID
	if len(id) > 7 {
		id = id[:7]
	}
	return fmt.Sprintf("veth%s%04x", id, crc32.ChecksumIEEE([]byte(network+"/"+containerID))&0xffff)
}

// macFor derives the container side's MAC from its IPv4 address, as docker
// does (02:42 + the address): locally administered, unique per network, and
// the same when the narrated commands are replayed.
func macFor(ip net.IP) net.HardwareAddr {
	ip4 := ip.To4()
	return net.HardwareAddr{0x02, 0x42, ip4[0], ip4[1], ip4[2], ip4[3]}
}

// containerIfname picks the first free ethN inside the namespace of pid
// (eth0 unless the container is already on another network), and reports
// whether the namespace has a default route already (then the first network
// keeps it).
func containerIfname(nk *nsKernel) (string, bool) {
	names, hasDefault, err := nk.linkNames()
	if err != nil {
		return "eth0", false
	}
	for i := 0; ; i++ {
		if n := fmt.Sprintf("eth%d", i); !names[n] {
			return n, hasDefault
		}
	}
}

// Connect wires an endpoint: the veth pair with its peer in the namespace of
// pid, the host end on the bridge and up, then inside the container the
// address, the link up, lo up, the default route; then published ports. On
// failure what was made is removed and the original error returned.
func (d *bridgeDriver) Connect(nw *Network, ep *Endpoint, pid int) (err error) {
	gw, err := nw.gatewayNet()
	if err != nil {
		return err
	}
	ip := net.ParseIP(ep.IP).To4()
	addr := &net.IPNet{IP: ip, Mask: gw.Mask}
	mac, err := net.ParseMAC(ep.MAC)
	if err != nil {
		return fmt.Errorf("endpoint %s: mac %q: %w", ep.ID, ep.MAC, err)
	}
	// One netlink handle in the container's namespace for every step there.
	nk := d.k.InNetns(pid)
	defer nk.Close()
	// A read, done in a dry run too, so that its plan for a container on
	// another network already says eth1 and no second default route (a dry
	// `run` has no namespace yet: eth0 and a default route, as it will be).
	var hasDefault bool
	ep.Ifname, hasDefault = containerIfname(nk)

	if err := d.k.LinkAddVeth(ep.Veth, ep.Ifname, mac, pid); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Disconnect(nw, ep))
		}
	}()
	if err := d.k.LinkSetMaster(ep.Veth, nw.Bridge); err != nil {
		return err
	}
	if len(ep.Ports) > 0 {
		if err := d.k.LinkSetHairpin(ep.Veth); err != nil {
			return err
		}
	}
	if err := d.k.LinkSetUp(ep.Veth, fmt.Sprintf("bring the host end %s up", ep.Veth)); err != nil {
		return err
	}

	if err := nk.AddrAdd(ep.Ifname, addr); err != nil {
		return err
	}
	if err := nk.LinkSetUp(ep.Ifname, fmt.Sprintf("bring the container's %s up", ep.Ifname)); err != nil {
		return err
	}
	if err := nk.LinkSetUp("lo", "bring the container's loopback up (a new network namespace starts with lo down)"); err != nil {
		return err
	}
	if !hasDefault {
		if err := nk.RouteAddDefault(gw.IP, ep.Ifname); err != nil {
			return err
		}
	}
	if err := hookErr("connect:ports"); err != nil {
		return err
	}
	return d.fw.addPorts(ep.ID, ip, ep.Ports)
}

// Disconnect deletes the port rules and the veth pair (deleting one end
// deletes both; when the container's namespace is gone the kernel has
// deleted them already and this skips them).
func (d *bridgeDriver) Disconnect(nw *Network, ep *Endpoint) error {
	return errors.Join(
		d.fw.removePorts(ep.ID, net.ParseIP(ep.IP).To4(), ep.Ports),
		d.k.LinkDel(ep.Veth, fmt.Sprintf("delete the veth pair %s (both ends go)", ep.Veth)),
	)
}

// testHook, when set by a test, is called at named points and may fail the
// operation there (to check rollback).
var testHook func(point string) error

func hookErr(point string) error {
	if testHook != nil {
		return testHook(point)
	}
	return nil
}
