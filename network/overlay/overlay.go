// Package overlay is the kernel side of an overlay network on one host:
// the vxlan device (the VTEP) and, for every other host of the network,
// the three entries that send its containers' packets there. It knows
// nothing of etcd: the driver reads the hosts' leases and hands them here
// as Peers.
//
// The data path is flannel's vxlan backend (L3). A container on h1 sends
// to 10.200.2.5, a container of h2; its packet reaches h1 through the
// bridge, and h1 routes it:
//
//	10.200.2.0/24 via 10.200.2.0 dev vx-ov1 onlink      the route: h2's subnet is behind its VTEP
//	10.200.2.0 lladdr 0e:76:0a:c8:02:00 nud permanent   the neighbour: that VTEP's MAC, without ARP
//	0e:76:0a:c8:02:00 dev vx-ov1 dst 10.99.0.12         the fdb: frames for that MAC go to h2's address
//
// vx-ov1 wraps the Ethernet frame in UDP to 10.99.0.12:4789 with the
// network's VNI; h2's vx-ov1 unwraps it (its MAC is the frame's
// destination) and routes the packet to its bridge. The vxlan device is
// not on the bridge: only routed packets cross, so no broadcast, ARP or
// unknown unicast ever floods the underlay, and nolearning keeps the fdb
// what etcd says.
//
// Every change is a kernel op (narrated as iproute2), so a dry run plans
// it and a script replays it. PeerOps is pure: the caller reads what the
// kernel has (ReadPeers), what etcd has, and does the difference.
//
// On a host: UnderlayFor(advertise) gives the underlay link and its MTU;
// CheckVTEP says whether the device is already as VTEPOps makes it from
// them (VTEPOps takes the underlay's MTU and gives the device, as the
// caller gives the containers' veths, MTU(underlayMTU)); VTEPDel removes
// it with every entry on it.
package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
)

// Overhead is what VXLAN over IPv4 adds to a frame: outer IPv4 (20), UDP
// (8), VXLAN (8) and the inner Ethernet header (14). The vxlan device and
// the containers' veths get the underlay's MTU less this, so a full-size
// packet still fits one underlay frame, unfragmented.
const Overhead = 50

// MTU is the MTU of the overlay's links over an underlay of underlayMTU.
func MTU(underlayMTU int) int { return underlayMTU - Overhead }

// Peer is another host of the network, as this host programs it.
type Peer struct {
	Subnet   *net.IPNet       // its host subnet
	VTEP     net.IP           // its vxlan device's address: the subnet's network address
	MAC      net.HardwareAddr // its vxlan device's MAC
	PublicIP net.IP           // its advertise address, where the UDP goes
	Host     string           // its name, for the narration ("" if unknown)
}

// NewPeer is the peer whose host leased subnet and advertises publicIP:
// its VTEP address and MAC follow from the subnet.
func NewPeer(subnet *net.IPNet, publicIP net.IP, host string) Peer {
	return Peer{Subnet: subnet, VTEP: subnet.IP.Mask(subnet.Mask).To4(), MAC: VtepMAC(subnet), PublicIP: publicIP.To4(), Host: host}
}

func (p Peer) String() string {
	who := "the host at " + p.PublicIP.String()
	if p.Host != "" {
		who = "host " + p.Host
	}
	if p.Subnet == nil {
		return who
	}
	return fmt.Sprintf("%s (subnet %s)", who, p.Subnet)
}

// VtepMAC is the MAC of the vxlan device of the host that leased
// hostSubnet: 0e:76 ("v"), then the subnet's network address. Derived,
// not random, so every host computes a peer's from its lease, a
// re-created device keeps it, and a replayed script makes the same one.
// 0e: a locally administered unicast address, never a vendor's; distinct
// from the containers' 02:42:<ip>.
func VtepMAC(hostSubnet *net.IPNet) net.HardwareAddr {
	ip := hostSubnet.IP.Mask(hostSubnet.Mask).To4()
	if ip == nil {
		ip = net.IPv4zero.To4()
	}
	return net.HardwareAddr{0x0e, 0x76, ip[0], ip[1], ip[2], ip[3]}
}

// DeviceName is the vxlan device of a network: "vx-" and the name when it
// has at most 12 characters (an interface name has at most 15). A longer
// name gives "vx--", its first 4 characters and 7 hex digits of its
// SHA-256: a network name starts with a letter or digit, so the two forms
// never meet.
func DeviceName(network string) string {
	if len(network) <= 12 {
		return "vx-" + network
	}
	sum := sha256.Sum256([]byte(network))
	return "vx--" + network[:4] + hex.EncodeToString(sum[:])[:7]
}
