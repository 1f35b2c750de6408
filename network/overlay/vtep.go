package overlay

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kernel"
)

// VTEPOps make this host's vxlan device for a network: dev, with the
// network's vni, sending from local (the advertise address) over the
// underlay link; its MTU is underlayMTU less Overhead; its address the
// host subnet's network address as a /32 (no subnet route: the bridge has
// the host subnet; this address is what the peers' onlink routes point
// at, and what their neighbour entries map to its MAC).
func VTEPOps(dev string, vni int, hostSubnet *net.IPNet, local net.IP, underlay string, underlayMTU int) []kernel.Op {
	vtep := &net.IPNet{IP: hostSubnet.IP.Mask(hostSubnet.Mask).To4(), Mask: net.CIDRMask(32, 32)}
	return []kernel.Op{
		kernel.VxlanAdd{Name: dev, VNI: vni, Local: local.To4(), Dev: underlay, Port: kernel.VxlanPort, MTU: MTU(underlayMTU), MAC: VtepMAC(hostSubnet),
			Reason: fmt.Sprintf("create the vxlan device %s (VNI %d): it wraps the frames for other hosts' containers in UDP from %s to port %d over %s; nolearning: its peers come from etcd, never from traffic",
				dev, vni, local, kernel.VxlanPort, underlay)},
		kernel.AddrAdd{Dev: dev, Addr: vtep,
			Reason: fmt.Sprintf("give %s the address %s, the network address of this host's subnet %s: the other hosts route that subnet via it", dev, vtep, hostSubnet)},
		kernel.LinkSetUp{Name: dev, Reason: fmt.Sprintf("bring the vxlan device %s up", dev)},
	}
}

// VTEPDel deletes the vxlan device; its address, routes, neighbour and fdb
// entries go with it. Skipped when it is gone already.
func VTEPDel(dev string) kernel.Op {
	return kernel.LinkDel{Name: dev, Reason: fmt.Sprintf("delete the vxlan device %s (its routes to the other hosts, neighbour and fdb entries go with it)", dev)}
}

// UnderlayFor is the link that holds the advertise address local, and its
// MTU: the vxlan device sends over it.
func UnderlayFor(local net.IP) (dev string, mtu int, err error) {
	links, err := netlink.LinkList()
	if err != nil {
		return "", 0, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return "", 0, fmt.Errorf("addresses of %s: %w", l.Attrs().Name, err)
		}
		for _, a := range addrs {
			if a.IP.Equal(local) {
				return l.Attrs().Name, l.Attrs().MTU, nil
			}
		}
	}
	return "", 0, fmt.Errorf("no interface of this host has the advertise address %s", local)
}

// CheckVTEP says how the device dev differs from what VTEPOps (with the
// same arguments) makes: "" when it is that device, else one line (the
// first difference). A device left by a crash half made, or made for
// another VNI, address or underlay, is deleted (VTEPDel) and made again;
// one that is right is kept, and with it the traffic of the containers
// already on the network. As flannel's vxlanLinksIncompat. Reads only.
func CheckVTEP(dev string, vni int, hostSubnet *net.IPNet, local net.IP, underlay string, underlayMTU int) (string, error) {
	l, err := netlink.LinkByName(dev)
	if err != nil {
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return "no device " + dev, nil
		}
		return "", fmt.Errorf("read the vxlan device %s: %w", dev, err)
	}
	vx, ok := l.(*netlink.Vxlan)
	if !ok {
		return fmt.Sprintf("%s is a %s device, not vxlan", dev, l.Type()), nil
	}
	under, err := netlink.LinkByName(underlay)
	if err != nil {
		return "", fmt.Errorf("read the underlay %s: %w", underlay, err)
	}
	vtep := &net.IPNet{IP: hostSubnet.IP.Mask(hostSubnet.Mask).To4(), Mask: net.CIDRMask(32, 32)}
	switch {
	case vx.VxlanId != vni:
		return fmt.Sprintf("%s has VNI %d, not %d", dev, vx.VxlanId, vni), nil
	case !vx.SrcAddr.Equal(local):
		return fmt.Sprintf("%s sends from %s, not %s", dev, vx.SrcAddr, local), nil
	case vx.VtepDevIndex != under.Attrs().Index:
		return fmt.Sprintf("%s is not on the underlay %s", dev, underlay), nil
	case vx.Port != kernel.VxlanPort:
		return fmt.Sprintf("%s sends to port %d, not %d", dev, vx.Port, kernel.VxlanPort), nil
	case vx.Learning:
		return fmt.Sprintf("%s learns its fdb from traffic", dev), nil
	case vx.MTU != MTU(underlayMTU):
		return fmt.Sprintf("%s has the MTU %d, not %d", dev, vx.MTU, MTU(underlayMTU)), nil
	case vx.HardwareAddr.String() != VtepMAC(hostSubnet).String():
		return fmt.Sprintf("%s has the MAC %s, not %s", dev, vx.HardwareAddr, VtepMAC(hostSubnet)), nil
	case vx.Flags&net.FlagUp == 0:
		return dev + " is down", nil
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return "", fmt.Errorf("addresses of %s: %w", dev, err)
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != vtep.String() {
		var have []string
		for _, a := range addrs {
			have = append(have, a.IPNet.String())
		}
		return fmt.Sprintf("%s has the addresses [%s], not %s", dev, strings.Join(have, " "), vtep), nil
	}
	return "", nil
}
