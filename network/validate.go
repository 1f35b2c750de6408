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

// plan turns create options into a Network and its IPAM pool, checking the
// subnet against the other networks and the host's routes.
func plan(opts CreateOptions, bridge string, others []*Network) (*Network, *Pool, error) {
	if reservedNames[opts.Name] {
		return nil, nil, fmt.Errorf("network %s: %w (predefined, cannot be created)", opts.Name, ErrExists)
	}
	hostRoutes, err := hostRoutes()
	if err != nil {
		return nil, nil, err
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
			return nil, nil, err
		}
	} else {
		ip, n, err := net.ParseCIDR(opts.Subnet)
		if err != nil || ip.To4() == nil {
			return nil, nil, fmt.Errorf("invalid subnet %q: want an IPv4 CIDR such as 192.168.0.0/24", opts.Subnet)
		}
		if !ip.Equal(n.IP) {
			return nil, nil, fmt.Errorf("invalid subnet %q: host bits set (did you mean %s?)", opts.Subnet, n)
		}
		subnet = n
		for i, t := range taken {
			if overlaps(subnet, t) {
				return nil, nil, fmt.Errorf("subnet %s %w network %s (%s)", subnet, ErrPoolOverlap, others[i].Name, t)
			}
		}
		for _, r := range hostRoutes {
			if overlaps(subnet, r) {
				return nil, nil, fmt.Errorf("subnet %s %w the host route to %s", subnet, ErrPoolOverlap, r)
			}
		}
	}
	pool, err := NewPool(subnet)
	if err != nil {
		return nil, nil, err
	}
	gw := pool.ip(1)
	if opts.Gateway != "" {
		if gw = net.ParseIP(opts.Gateway).To4(); gw == nil {
			return nil, nil, fmt.Errorf("invalid gateway %q: not an IPv4 address", opts.Gateway)
		}
	}
	if err := pool.Reserve(gw, "gateway of "+opts.Name); err != nil {
		return nil, nil, fmt.Errorf("invalid gateway %s: %w", gw, err)
	}
	nw := &Network{
		Name: opts.Name, Driver: opts.Driver, Subnet: subnet.String(), Gateway: gw.String(), Bridge: bridge,
		IpRange: (&net.IPNet{IP: gw, Mask: subnet.Mask}).String(), Created: time.Now().UTC(),
		Containers: map[string]*Endpoint{},
	}
	if opts.IPRange != "" {
		ip, r, err := net.ParseCIDR(opts.IPRange)
		if err != nil || ip.To4() == nil {
			return nil, nil, fmt.Errorf("invalid --ip-range %q: want an IPv4 CIDR", opts.IPRange)
		}
		if !subnet.Contains(r.IP) || !containsNet(subnet, r) {
			return nil, nil, fmt.Errorf("invalid --ip-range %s: not inside subnet %s", r, subnet)
		}
		nw.AllocRange = r.String()
	}
	return nw, pool, nil
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
