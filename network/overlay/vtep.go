package overlay

import (
	"fmt"
	"net"

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
