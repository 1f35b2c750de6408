package network

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/kv"
	"github.com/mydocker/mydocker/network/overlay"
)

// Overlay networks (driver "overlay", doc/overlay.md): the network lives in
// etcd, and each host that has containers on it holds a part of it here,
// in the same record as a bridge network's (its Subnet the host subnet it
// leased, its Bridge the local bridge), with Overlay set.
//
// The etcd layout (API: other hosts, and older and newer mydockers, read it):
//
//	/mydocker/v1/networks/<name>                     OverlayDef (JSON)
//	/mydocker/v1/vnis/<vni>                          <name>: a VNI is one network's
//	/mydocker/v1/subnets/<name>/<a.b.c.d-len>        SubnetLease (JSON), bound to the host's lease
//	/mydocker/v1/endpoints/<name>/<container id>     ClusterEndpoint (JSON), bound to the same lease
//
// Files: overlay.go (types, keys, rules), overlay_kv.go (create, ls,
// inspect, rm in etcd), overlay_join.go (a host joins at its first
// endpoint and leaves with its last: lease, bridge, vxlan device, rules),
// overlay_watch.go (the watcher process). network/overlay is the kernel
// side of the vxlan device and of the peers.

// OverlayDef is a network as etcd holds it.
type OverlayDef struct {
	Name           string
	Driver         string // "overlay"
	Subnet         string // the whole network's: 10.200.0.0/16
	HostSubnetSize int    // each host's share: 24
	VNI            int
	TTL            int // seconds: the hosts' leases
	Created        time.Time
}

// SubnetLease is a host's share of a network, as etcd holds it.
type SubnetLease struct {
	Host     string // its hostname
	PublicIP string // its advertise address
	VtepMAC  string
}

// ClusterEndpoint is a container of a network, as etcd holds it for the
// /etc/hosts of the other hosts' containers.
type ClusterEndpoint struct {
	Name    string
	Aliases []string `json:",omitempty"`
	IP      string
	Host    string
}

// OverlayState is an overlay network's part on this host (Network.Overlay).
type OverlayState struct {
	Subnet         string   // the whole network's
	HostSubnetSize int      // its hosts' shares
	VNI            int      //
	TTL            int      // seconds
	KV             []string // the etcd it lives in
	Advertise      string   // this host's address for the others
	Underlay       string   // the link holding it
	UnderlayMTU    int
	Device         string     // the vxlan device
	Lease          kv.LeaseID // binding the host subnet and the endpoints
	// Remote are the other hosts' containers, by id (kept by the watcher),
	// for the local containers' /etc/hosts.
	Remote map[string]*Endpoint `json:",omitempty"`
	// The watcher process (overlay_watch.go), with its start time (a
	// reused pid is not it).
	WatcherPid   int    `json:",omitempty"`
	WatcherStart uint64 `json:",omitempty"`
}

// Defaults of `network create --driver overlay`.
const (
	defaultHostSubnetSize = 24
	defaultKVTTL          = 20 * time.Second
	minKVTTL              = 2 * time.Second // etcd's own minimum is 1.5 s
)

func defKey(name string) string          { return kv.Prefix + "networks/" + name }
func defsPrefix() string                 { return kv.Prefix + "networks/" }
func vniKey(vni int) string              { return kv.Prefix + "vnis/" + strconv.Itoa(vni) }
func vnisPrefix() string                 { return kv.Prefix + "vnis/" }
func subnetsPrefix(name string) string   { return kv.Prefix + "subnets/" + name + "/" }
func endpointsPrefix(name string) string { return kv.Prefix + "endpoints/" + name + "/" }
func endpointKey(name, id string) string { return endpointsPrefix(name) + id }
func subnetKey(name string, s *net.IPNet) string {
	return subnetsPrefix(name) + strings.Replace(s.String(), "/", "-", 1)
}

// subnetOfKey is the host subnet a subnets/ key names.
func subnetOfKey(key string) (*net.IPNet, error) {
	i := strings.LastIndex(key, "/")
	_, s, err := net.ParseCIDR(strings.Replace(key[i+1:], "-", "/", 1))
	if err != nil {
		return nil, fmt.Errorf("etcd key %s: not a host subnet", key)
	}
	return s, nil
}

// hostSubnets counts the host subnets of a network: the size-bit blocks
// of subnet; hostSubnet(subnet, size, i) is the i-th (computed, not
// listed: a /8 has four million /30s).
func hostSubnets(subnet *net.IPNet, size int) int {
	ones, _ := subnet.Mask.Size()
	return 1 << (size - ones)
}

func hostSubnet(subnet *net.IPNet, size, i int) *net.IPNet {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, binary.BigEndian.Uint32(subnet.IP.To4())+uint32(i)<<(32-size))
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(size, 32)}
}

// rules are the network's firewall rules: a bridge network's, or an
// overlay network's.
func (nw *Network) rules() []Rule {
	if nw.Overlay == nil {
		return NetworkRules(nw.Bridge, nw.Subnet)
	}
	return overlayRules(nw.Bridge, nw.Overlay.Device, nw.Subnet, nw.Overlay.Subnet)
}

// overlayRules are a bridge network's rules, but for what the vxlan
// device vx changes: the containers of the other hosts (the rest of the
// overlay subnet, behind vx) are reached without NAT, may open
// connections to this host's containers, and are isolated from the other
// networks as the bridge's containers are.
func overlayRules(bridge, vx, hostSubnet, overlaySubnet string) []Rule {
	tag := comment("mydocker:" + bridge)
	with := func(args ...string) []string { return append(args, tag...) }
	return []Rule{
		newRule("nat", chainPostrouting, "masquerade traffic leaving the overlay network (not what goes to its other hosts' containers)",
			append(with("-s", hostSubnet, "!", "-d", overlaySubnet), "-j", "MASQUERADE")...),
		newRule("nat", chainPostrouting, "masquerade the host's 127.0.0.1 connections DNAT'd to a container (their source must not stay 127.0.0.1)",
			append(with("-s", "127.0.0.0/8", "-o", bridge), "-j", "MASQUERADE")...),
		newRule("filter", chainForward, "let replies, and connections DNAT'd to a published port, into the bridge",
			append(with("-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT"), "-j", "ACCEPT")...),
		newRule("filter", chainForward, "let traffic from the bridge out (to the world, the other hosts, and between its own containers)",
			append(with("-i", bridge), "-j", "ACCEPT")...),
		newRule("filter", chainForward, "let the other hosts' containers of the network, unwrapped by "+vx+", into the bridge",
			append(with("-i", vx, "-o", bridge), "-j", "ACCEPT")...),
		newRule("filter", chainIsolation1, "traffic from this bridge to the other hosts of its own network is not isolated",
			append(with("-i", bridge, "-o", vx), "-j", "RETURN")...),
		newRule("filter", chainIsolation1, "traffic leaving this bridge for another interface goes to the isolation check",
			append(with("-i", bridge, "!", "-o", bridge), "-j", chainIsolation2)...),
		newRule("filter", chainIsolation1, "traffic from the other hosts' containers to anything but this bridge goes to the isolation check",
			append(with("-i", vx, "!", "-o", bridge), "-j", chainIsolation2)...),
		newRule("filter", chainIsolation2, "drop traffic from another mydocker network into this one (networks are isolated)",
			append(with("-o", bridge), "-j", "DROP")...),
		newRule("filter", chainIsolation2, "drop traffic from another mydocker network to this one's other hosts",
			append(with("-o", vx), "-j", "DROP")...),
	}
}

// view is the network as etcd defines it, with this host's part (if
// any): for ls and inspect.
func (d *OverlayDef) view(local *Network) *Network {
	if local != nil {
		return local
	}
	return &Network{Name: d.Name, Driver: "overlay", Subnet: d.Subnet, IpRange: d.Subnet, Created: d.Created,
		Containers: map[string]*Endpoint{},
		Overlay:    &OverlayState{Subnet: d.Subnet, HostSubnetSize: d.HostSubnetSize, VNI: d.VNI, TTL: d.TTL}}
}

// peerOf is the peer a subnets/ key and value describe.
func peerOf(key string, value []byte) (overlay.Peer, error) {
	s, err := subnetOfKey(key)
	if err != nil {
		return overlay.Peer{}, err
	}
	var l SubnetLease
	if err := json.Unmarshal(value, &l); err != nil {
		return overlay.Peer{}, fmt.Errorf("etcd key %s: %w", key, err)
	}
	ip := net.ParseIP(l.PublicIP).To4()
	if ip == nil {
		return overlay.Peer{}, fmt.Errorf("etcd key %s: PublicIP %q is not an IPv4 address", key, l.PublicIP)
	}
	return overlay.NewPeer(s, ip, l.Host), nil
}
