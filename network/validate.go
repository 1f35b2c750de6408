package network

import (
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/names"
)

// ValidateName checks a network name. It becomes a bridge device (at most
// 15 characters, IFNAMSIZ-1; no '/', no spaces) and a file name under
// <root>/network/network (no path traversal: "..", "/" are refused).
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("network name is empty")
	case len(name) > 15:
		return fmt.Errorf("invalid network name %q: at most 15 characters (it names the bridge device)", name)
	case !names.Docker(name):
		return fmt.Errorf("invalid network name %q: use letters, digits, '_', '.', '-', starting with a letter or digit", name)
	}
	return nil
}

// ValidateContainerID checks an id used in device and chain names.
func ValidateContainerID(id string) error {
	if id == "" || len(id) > 64 || !names.Docker(id) {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// reservedNames are docker's predefined networks: `network create` refuses them.
var reservedNames = map[string]bool{"host": true, "none": true}

// plan turns create options into a Network (the gateway checked against its
// pool), checking the
// subnet against the other networks and the host's routes.
func plan(opts CreateOptions, bridge string, others []*Network) (*Network, error) {
	if reservedNames[opts.Name] {
		return nil, fmt.Errorf("network %s: %w (predefined, cannot be created)", opts.Name, ErrExists)
	}
	hostRoutes, err := hostRoutes()
	if err != nil {
		return nil, err
	}
	var taken []*net.IPNet
	for _, o := range others {
		if _, n, err := net.ParseCIDR(o.Subnet); err == nil {
			taken = append(taken, n)
		}
	}
	var subnet *net.IPNet
	if opts.Subnet == "" {
		if subnet, err = freeSubnet(taken, hostRoutes); err != nil {
			return nil, err
		}
	} else {
		ip, n, err := net.ParseCIDR(opts.Subnet)
		if err != nil || ip.To4() == nil {
			return nil, fmt.Errorf("invalid subnet %q: want an IPv4 CIDR such as 192.168.0.0/24", opts.Subnet)
		}
		if !ip.Equal(n.IP) {
			return nil, fmt.Errorf("invalid subnet %q: host bits set (did you mean %s?)", opts.Subnet, n)
		}
		subnet = n
		for i, t := range taken {
			if overlaps(subnet, t) {
				return nil, fmt.Errorf("subnet %s %w network %s (%s)", subnet, ErrPoolOverlap, others[i].Name, t)
			}
		}
		for _, r := range hostRoutes {
			if overlaps(subnet, r) {
				return nil, fmt.Errorf("subnet %s %w the host route to %s", subnet, ErrPoolOverlap, r)
			}
		}
	}
	pool, err := NewPool(subnet)
	if err != nil {
		return nil, err
	}
	gw := pool.ip(1)
	if opts.Gateway != "" {
		if gw = net.ParseIP(opts.Gateway).To4(); gw == nil {
			return nil, fmt.Errorf("invalid gateway %q: not an IPv4 address", opts.Gateway)
		}
	}
	if err := pool.Reserve(gw, "gateway of "+opts.Name); err != nil {
		return nil, fmt.Errorf("invalid gateway %s: %w", gw, err)
	}
	nw := &Network{
		Name: opts.Name, Driver: opts.Driver, Subnet: subnet.String(), Gateway: gw.String(), Bridge: bridge,
		IpRange: (&net.IPNet{IP: gw, Mask: subnet.Mask}).String(), Created: time.Now().UTC(),
		Containers: map[string]*Endpoint{},
	}
	if opts.IPRange != "" {
		ip, r, err := net.ParseCIDR(opts.IPRange)
		if err != nil || ip.To4() == nil {
			return nil, fmt.Errorf("invalid --ip-range %q: want an IPv4 CIDR", opts.IPRange)
		}
		if !subnet.Contains(r.IP) || !containsNet(subnet, r) {
			return nil, fmt.Errorf("invalid --ip-range %s: not inside subnet %s", r, subnet)
		}
		nw.AllocRange = r.String()
	}
	return nw, nil
}

func overlaps(a, b *net.IPNet) bool { return a.Contains(b.IP) || b.Contains(a.IP) }

func containsNet(outer, inner *net.IPNet) bool {
	oo, _ := outer.Mask.Size()
	io, _ := inner.Mask.Size()
	return outer.Contains(inner.IP) && io >= oo
}

// hostRoutes are the destinations of the host's IPv4 routes (the default
// route excepted) in every table: a network must not hide any of them.
func hostRoutes() ([]*net.IPNet, error) {
	rs, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list the host's routes: %w", err)
	}
	var out []*net.IPNet
	for _, r := range rs {
		if kernel.IsDefaultRoute(r) || r.Dst.IP.IsLoopback() || r.Type == unix.RTN_LOCAL || r.Type == unix.RTN_BROADCAST {
			continue
		}
		out = append(out, r.Dst)
	}
	return out, nil
}

// freeSubnet picks the first candidate overlapping neither a network nor a
// host route: 172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/20 ... (docker's pools).
func freeSubnet(taken, routes []*net.IPNet) (*net.IPNet, error) {
	var cands []*net.IPNet
	for b := 17; b <= 31; b++ {
		cands = append(cands, &net.IPNet{IP: net.IPv4(172, byte(b), 0, 0).To4(), Mask: net.CIDRMask(16, 32)})
	}
	for c := 0; c < 256; c += 16 {
		cands = append(cands, &net.IPNet{IP: net.IPv4(192, 168, byte(c), 0).To4(), Mask: net.CIDRMask(20, 32)})
	}
next:
	for _, c := range cands {
		for _, t := range append(append([]*net.IPNet{}, taken...), routes...) {
			if overlaps(c, t) {
				continue next
			}
		}
		return c, nil
	}
	return nil, fmt.Errorf("no free subnet left for a new network: give one with --subnet")
}

// States of a network's record: "" when made, or what a command that was
// changing the kernel for it wrote before starting. A later command that
// meets either under the network lock knows its writer died (the writer
// holds the lock throughout) and removes what the record names.
const (
	stateCreating = "creating"
	stateRemoving = "removing"
)

// check validates a network's record, read from the file of network name:
// what is wrong with a null or empty document, a missing or mistaken field,
// or addresses two owners claim.
func (nw *Network) check(name string) error {
	switch {
	case nw.Name != name:
		return fmt.Errorf("Name is %q, not the file's name %q", nw.Name, name)
	case nw.State != "" && nw.State != stateCreating && nw.State != stateRemoving:
		return fmt.Errorf("unknown State %q", nw.State)
	case drivers[nw.Driver] == nil:
		return fmt.Errorf("unknown Driver %q", nw.Driver)
	case nw.Bridge == "" || len(nw.Bridge) > 15 || !names.Docker(nw.Bridge):
		return fmt.Errorf("invalid Bridge %q", nw.Bridge)
	}
	ip, subnet, err := net.ParseCIDR(nw.Subnet)
	if err != nil || ip.To4() == nil || !ip.Equal(subnet.IP) {
		return fmt.Errorf("invalid Subnet %q", nw.Subnet)
	}
	if nw.AllocRange != "" {
		if _, r, err := net.ParseCIDR(nw.AllocRange); err != nil || !containsNet(subnet, r) {
			return fmt.Errorf("invalid AllocRange %q", nw.AllocRange)
		}
	}
	for id, ep := range nw.Containers {
		if ep == nil || ep.ID != id || ValidateContainerID(id) != nil {
			return fmt.Errorf("endpoint %q: missing or not its container's", id)
		}
		if ep.Veth == "" || ep.Ifname == "" {
			return fmt.Errorf("endpoint %s: no Veth or Ifname", names.ShortID(id))
		}
	}
	_, err = poolOf(nw) // the gateway and each address: in the subnet, one owner each
	return err
}
