package network

import (
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/network/overlay"
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
// keeps it). It asks the seam, so a plan answers from what it planned (a
// dry `run` has no namespace yet: eth0 and a default route, as it will be).
func containerIfname(k kernel.Kernel, pid int) (string, bool) {
	hasDefault, err := k.Exists(kernel.DefaultRoute(pid))
	if err != nil {
		return "eth0", false
	}
	for i := 0; ; i++ {
		n := fmt.Sprintf("eth%d", i)
		if has, err := k.Exists(kernel.LinkObj(pid, n)); err != nil || !has {
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
	var hasDefault bool
	ep.Ifname, hasDefault = containerIfname(d.k, pid)

	veth := VethPair(ep.Veth, ep.Ifname, mac, pid)
	if nw.Overlay != nil { // room for the vxlan header in the underlay's frames
		veth.MTU = overlay.MTU(nw.Overlay.UnderlayMTU)
	}
	if err := d.k.Do(veth); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Disconnect(nw, ep))
		}
	}()
	if err := d.k.Do(PlugIn(ep.Veth, nw.Bridge)); err != nil {
		return err
	}
	if len(ep.Ports) > 0 {
		if err := d.k.Do(kernel.LinkSetHairpin{Name: ep.Veth,
			Reason: fmt.Sprintf("hairpin mode on %s: the bridge may send a frame back out of the port it came in on, so the container reaches its own published ports", ep.Veth)}); err != nil {
			return err
		}
	}
	if err := d.k.Do(LinkUp("the host end", ep.Veth)); err != nil {
		return err
	}
	if err := d.k.Do(PeerSteps(pid, ep.Ifname, addr, gw.IP, !hasDefault, "container")...); err != nil {
		return err
	}
	if nw.Overlay != nil && hasDefault { // another network has the default route
		_, whole, err := net.ParseCIDR(nw.Overlay.Subnet)
		if err != nil {
			return fmt.Errorf("network %s: subnet %q: %w", nw.Name, nw.Overlay.Subnet, err)
		}
		if err := d.k.Do(kernel.RouteAdd{In: pid, Dst: whole, Gw: gw.IP, Dev: ep.Ifname,
			Reason: fmt.Sprintf("reach the containers of network %s on the other hosts (%s) through its gateway %s", nw.Name, whole, gw.IP)}); err != nil {
			return err
		}
	}
	if err := hookErr("connect:ports"); err != nil {
		return err
	}
	return d.fw.addPorts(ep.ID, ip, ep.Ports)
}

// Disconnect deletes the port rules, then the veth pair (deleting one end
// deletes both). A container whose processes are gone has its network
// namespace, and the veth pair with it, deleted by the kernel in the
// background: Disconnect waits for that (awaitVethGone), and the deletion
// is then skipped, so the log says the same on every run and a script
// replayed from it never deletes a link that is going by itself.
func (d *bridgeDriver) Disconnect(nw *Network, ep *Endpoint) error {
	// The port rules name the container's address, not its veth.
	err := d.fw.removePorts(ep.ID, net.ParseIP(ep.IP).To4(), ep.Ports)
	awaitVethGone(d.k, ep.Pid, ep.Veth)
	return errors.Join(err, d.k.Do(kernel.LinkDel{Name: ep.Veth, Peer: ep.Ifname, PeerIn: ep.Pid, Reason: fmt.Sprintf("delete the veth pair %s (both ends go)", ep.Veth)}))
}

// awaitVethGone waits, for a second at most, until the kernel has deleted
// the veth of a container whose init is gone (5 to 12 ms after its exit
// here: the namespace's cleanup waits for RCU grace periods). Only a read,
// every half millisecond (a netlink request of a few microseconds): a
// namespace that something else still holds (a bind mount) keeps the veth,
// which is then deleted as any other.
func awaitVethGone(w kernel.World, pid int, veth string) {
	if pid <= 0 || unix.Kill(pid, 0) != unix.ESRCH {
		return
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Microsecond) {
		if has, err := w.Exists(kernel.LinkObj(0, veth)); err != nil || !has {
			return
		}
	}
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
