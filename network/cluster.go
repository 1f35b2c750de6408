package network

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kv"
)

// Cluster is where overlay networks live: the etcd of --kv, and the
// address this host gives the other hosts (--advertise-addr).
type Cluster struct {
	KV        []string // etcd client URLs; none: no overlay networks
	Advertise net.IP   // nil: the source address of the route to the first KV endpoint
}

var (
	clusterMu sync.Mutex
	cluster   Cluster
	clients   = map[string]*kv.Client{} // by endpoints: one connection per process
)

// SetCluster sets, for this process, the etcd and the advertise address
// of the global flags --kv and --advertise-addr (main's Before). A
// process is one command on one host: one cluster.
func SetCluster(c Cluster) {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	cluster = c
}

func currentCluster() Cluster {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	return cluster
}

// errNoKV is an overlay verb without --kv.
var errNoKV = errors.New("overlay networks live in etcd: give its URL with --kv http://HOST:2379 (or MYDOCKER_KV)")

// dialKV connects to the etcd at endpoints (once per process): it fails
// within 2 s, in one line, when etcd is unreachable.
func dialKV(endpoints []string) (*kv.Client, error) {
	if len(endpoints) == 0 {
		return nil, errNoKV
	}
	key := strings.Join(endpoints, ",")
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if c := clients[key]; c != nil {
		return c, nil
	}
	c, err := kv.Dial(endpoints)
	if err != nil {
		return nil, err
	}
	clients[key] = c
	return c, nil
}

// advertiseAddr is the address the other hosts reach this one at: the
// one given, else the source address of this host's route to the first
// etcd endpoint (the interface etcd is reached through is the one the
// other hosts share, as flannel's --iface default).
func advertiseAddr(c Cluster) (net.IP, error) {
	if c.Advertise != nil {
		return c.Advertise.To4(), nil
	}
	if len(c.KV) == 0 {
		return nil, errNoKV
	}
	u, err := url.Parse(c.KV[0])
	if err != nil {
		return nil, fmt.Errorf("--kv %q: %w", c.KV[0], err)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil {
		ips, err := net.LookupIP(u.Hostname())
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("--advertise-addr not given, and the etcd host %s does not resolve: %v", u.Hostname(), err)
		}
		ip = ips[0]
	}
	routes, err := netlink.RouteGet(ip)
	if err != nil || len(routes) == 0 || routes[0].Src == nil {
		return nil, fmt.Errorf("--advertise-addr not given, and no route to etcd at %s gives a source address: %v", ip, err)
	}
	return routes[0].Src.To4(), nil
}
