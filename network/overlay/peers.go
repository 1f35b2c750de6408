package overlay

import (
	"fmt"
	"net"
	"sort"

	"github.com/mydocker/mydocker/internal/kernel"
)

// PeerOps are the ops that turn the peers programmed on dev (have, as
// ReadPeers finds them) into want: the entries of the peers that left
// first (route first, so nothing is sent to a half-removed peer), then
// the stale entries of a peer that changed (another host leased the
// subnet: another public address), then what is missing (neighbour and fdb
// before the route, as flannel does, so the route leads somewhere from its
// first packet). Each op is skipped by the kernel when already in place,
// so a partial peer (a crash between two of its entries) is completed,
// and a second run does nothing. Pure: it reads nothing.
func PeerOps(dev string, have, want []Peer) []kernel.Op {
	wanted := map[string]Peer{}
	for _, w := range want {
		if w.Subnet != nil {
			wanted[w.Subnet.String()] = w
		}
	}
	had := map[string]Peer{}
	var ops, fixes []kernel.Op
	for _, h := range sorted(have) {
		w, ok := match(h, wanted)
		if !ok {
			ops = append(ops, removeOps(dev, h)...)
			continue
		}
		if h.Subnet != nil {
			had[h.Subnet.String()] = h
		}
		fixes = append(fixes, staleOps(dev, h, w)...)
	}
	ops = append(ops, fixes...)
	for _, w := range sorted(want) {
		if w.Subnet == nil {
			continue
		}
		if h, ok := had[w.Subnet.String()]; ok && same(h, w) {
			continue
		}
		ops = append(ops, addOps(dev, w)...)
	}
	return ops
}

// match is the wanted peer that h is (a part of): the one of its subnet,
// or for a part without its route, the one of its VTEP address or MAC.
func match(h Peer, wanted map[string]Peer) (Peer, bool) {
	if h.Subnet != nil {
		w, ok := wanted[h.Subnet.String()]
		return w, ok
	}
	for _, w := range wanted {
		if h.VTEP != nil && h.VTEP.Equal(w.VTEP) || h.VTEP == nil && h.MAC.String() == w.MAC.String() {
			return w, true
		}
	}
	return Peer{}, false
}

// addOps program one peer.
func addOps(dev string, p Peer) []kernel.Op {
	return []kernel.Op{
		kernel.NeighReplace{Dev: dev, IP: p.VTEP, MAC: p.MAC,
			Reason: fmt.Sprintf("%s: its VTEP %s has the MAC %s (permanent: no ARP crosses the overlay)", p, p.VTEP, p.MAC)},
		kernel.FdbAppend{Dev: dev, MAC: p.MAC, Dst: p.PublicIP,
			Reason: fmt.Sprintf("frames for %s leave %s in UDP to %s", p.MAC, dev, p.PublicIP)},
		kernel.RouteReplace{Dst: p.Subnet, Gw: p.VTEP, Dev: dev, Onlink: true,
			Reason: fmt.Sprintf("reach the containers of %s through %s via its VTEP (onlink: %s is on no subnet of %s)", p, dev, p.VTEP, dev)},
	}
}

// removeOps remove what a peer that left has on dev, as far as it is
// known (ReadPeers may find a part of a peer).
func removeOps(dev string, p Peer) []kernel.Op {
	var ops []kernel.Op
	if p.Subnet != nil && p.VTEP != nil {
		ops = append(ops, kernel.RouteDel{Dst: p.Subnet, Gw: p.VTEP, Dev: dev,
			Reason: fmt.Sprintf("%s has left the network: no more route to %s through %s", p, p.Subnet, dev)})
	}
	if p.VTEP != nil && p.MAC != nil {
		ops = append(ops, kernel.NeighDel{Dev: dev, IP: p.VTEP, MAC: p.MAC,
			Reason: fmt.Sprintf("forget the MAC of its VTEP %s", p.VTEP)})
	}
	if p.MAC != nil && p.PublicIP != nil {
		ops = append(ops, kernel.FdbDel{Dev: dev, MAC: p.MAC, Dst: p.PublicIP,
			Reason: fmt.Sprintf("no more frames for %s to %s", p.MAC, p.PublicIP)})
	}
	return ops
}

// staleOps remove the entries of h, a peer whose subnet is still wanted
// as w, that w's do not overwrite: the fdb entry to an old address (an fdb
// append adds a destination; it never replaces one), and a neighbour entry
// or route under another VTEP address (which only a hand-made entry has).
func staleOps(dev string, h, w Peer) []kernel.Op {
	var ops []kernel.Op
	if h.VTEP != nil && !h.VTEP.Equal(w.VTEP) {
		return removeOps(dev, h)
	}
	if h.MAC != nil && h.PublicIP != nil && (h.MAC.String() != w.MAC.String() || !h.PublicIP.Equal(w.PublicIP)) {
		ops = append(ops, kernel.FdbDel{Dev: dev, MAC: h.MAC, Dst: h.PublicIP,
			Reason: fmt.Sprintf("the subnet %s has moved to %s: no more frames for %s to %s", w.Subnet, w, h.MAC, h.PublicIP)})
	}
	return ops
}

// same reports whether h is complete and equal to w.
func same(h, w Peer) bool {
	return h.VTEP.Equal(w.VTEP) && h.MAC.String() == w.MAC.String() && h.PublicIP.Equal(w.PublicIP) &&
		h.VTEP != nil && h.MAC != nil && h.PublicIP != nil
}

// sorted is peers by subnet (those without one last, by VTEP, then MAC),
// so the ops come in the same order whatever order etcd or the kernel
// listed them in.
func sorted(peers []Peer) []Peer {
	out := append([]Peer(nil), peers...)
	key := func(p Peer) string {
		if p.Subnet != nil {
			return "0 " + ipKey(p.Subnet.IP) + p.Subnet.String()
		}
		return "1 " + ipKey(p.VTEP) + " " + p.MAC.String()
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// ipKey orders addresses numerically as strings do.
func ipKey(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return fmt.Sprintf("%03d.%03d.%03d.%03d", v4[0], v4[1], v4[2], v4[3])
	}
	return ip.String()
}
