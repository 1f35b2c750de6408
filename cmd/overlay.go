package cmd

import (
	"net"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/internal/kv"
	"github.com/mydocker/mydocker/network"
)

// ClusterFlags are the global flags of overlay networks: where etcd is,
// and the address the other hosts reach this one at.
func ClusterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kv", EnvVars: []string{"MYDOCKER_KV"}, Usage: "etcd client URL[,URL...] holding the overlay networks (http://10.99.0.2:2379)"},
		&cli.StringFlag{Name: "advertise-addr", EnvVars: []string{"MYDOCKER_ADVERTISE_ADDR"}, Usage: "this host's address for the other hosts of overlay networks (default: the source address of the route to the first --kv endpoint)"},
	}
}

// SetupCluster hands the global flags to the network package, and to the
// processes mydocker starts (the shim connects a detached container, the
// watcher follows etcd) through the environment, as a user's
// MYDOCKER_KV would.
func SetupCluster(c *cli.Context) error {
	var endpoints []string
	if s := c.String("kv"); s != "" {
		var err error
		if endpoints, err = kv.ParseEndpoints(s); err != nil {
			return Usagef("invalid --kv: %v", err)
		}
	}
	var adv net.IP
	if s := c.String("advertise-addr"); s != "" {
		if adv = net.ParseIP(s).To4(); adv == nil {
			return Usagef("invalid --advertise-addr %q: want an IPv4 address", s)
		}
	}
	for name, v := range map[string]string{"MYDOCKER_KV": c.String("kv"), "MYDOCKER_ADVERTISE_ADDR": c.String("advertise-addr")} {
		if v != "" {
			os.Setenv(name, v)
		}
	}
	network.SetCluster(network.Cluster{KV: endpoints, Advertise: adv})
	return nil
}

// networkWatch is `mydocker network watch NAME`, hidden: the watcher of an
// overlay network on this host, started by the first container's connect.
var networkWatch = &cli.Command{
	Name:      "watch",
	Hidden:    true,
	Usage:     "(internal) keep this host's part of an overlay network current",
	ArgsUsage: "NETWORK",
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		rt, err := internalRuntime(c)
		if err != nil {
			return err
		}
		return rt.Networks().Watch(c.Args().First())
	},
}

func init() { Network.Subcommands = append(Network.Subcommands, networkWatch) }
