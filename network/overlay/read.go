package overlay

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoDevice is ReadPeers' error when the vxlan device does not exist.
var ErrNoDevice = errors.New("no such vxlan device")

// ReadPeers lists the peers programmed on the vxlan device dev, from the
// kernel: each route via a gateway (a peer's subnet and VTEP), joined with
// the permanent neighbour entry of that VTEP (its MAC) and the fdb entry
// of that MAC (its public address). What a crash left half made comes
// back as a part: a route without its entries has no MAC, and entries
// without their route come as a Peer without a Subnet; PeerOps completes
// or removes them. Host is never known here. Reads only: nothing is
// narrated.
func ReadPeers(dev string) ([]Peer, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("read the peers of %s: %w", dev, err)
	}
	defer h.Close()
	l, err := h.LinkByName(dev)
	if err != nil {
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return nil, fmt.Errorf("read the peers of %s: %w", dev, ErrNoDevice)
		}
		return nil, fmt.Errorf("read the peers of %s: %w", dev, err)
	}
	idx := l.Attrs().Index
	routes, err := h.RouteList(l, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("routes of %s: %w", dev, err)
	}
	neighs, err := h.NeighList(idx, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("neighbour entries of %s: %w", dev, err)
	}
	fdb, err := h.NeighList(idx, unix.AF_BRIDGE)
	if err != nil {
		return nil, fmt.Errorf("fdb of %s: %w", dev, err)
	}

	var peers []Peer
	usedNeigh, usedFdb := map[int]bool{}, map[int]bool{}
	// complete fills in p's MAC from the neighbour entries, then its public
	// address from the fdb, marking what it used.
	complete := func(p *Peer) {
		for i, n := range neighs {
			if p.MAC == nil && p.VTEP != nil && n.IP.Equal(p.VTEP) && n.State&netlink.NUD_PERMANENT != 0 && n.HardwareAddr != nil {
				p.MAC, usedNeigh[i] = n.HardwareAddr, true
			}
		}
		for i, f := range fdb {
			if p.PublicIP == nil && p.MAC != nil && f.IP != nil && f.HardwareAddr.String() == p.MAC.String() {
				p.PublicIP, usedFdb[i] = f.IP.To4(), true
			}
		}
	}
	for _, r := range routes {
		if r.Dst == nil || r.Gw == nil {
			continue
		}
		p := Peer{Subnet: r.Dst, VTEP: r.Gw.To4()}
		complete(&p)
		peers = append(peers, p)
	}
	for i, n := range neighs {
		if usedNeigh[i] || n.State&netlink.NUD_PERMANENT == 0 || n.HardwareAddr == nil {
			continue
		}
		p := Peer{VTEP: n.IP.To4()}
		complete(&p)
		peers = append(peers, p)
	}
	for i, f := range fdb {
		if usedFdb[i] || f.IP == nil || f.HardwareAddr == nil {
			continue
		}
		peers = append(peers, Peer{MAC: f.HardwareAddr, PublicIP: f.IP.To4()})
	}
	return sorted(peers), nil
}
