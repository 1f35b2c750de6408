package cmd

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/network"
)

var dryRunFlag = &cli.BoolFlag{Name: "dry-run", Usage: "print the commands that would run, change nothing"}

// Network is `mydocker network ...`.
var Network = &cli.Command{
	Name:  "network",
	Usage: "manage networks (bridge, subnet, NAT)",
	Subcommands: []*cli.Command{
		{
			Name:      "create",
			Usage:     "create a network",
			ArgsUsage: "NAME",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "network driver"},
				&cli.StringFlag{Name: "subnet", Usage: "subnet in CIDR form, e.g. 192.168.0.0/24 (default: a free private /16)"},
				&cli.StringFlag{Name: "gateway", Usage: "gateway address (default: the subnet's first)"},
				&cli.StringFlag{Name: "ip-range", Usage: "allocate container addresses from this sub-range"},
				dryRunFlag,
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return Usagef("network create: exactly one NAME expected")
				}
				_, err := networkManager(c).Create(network.CreateOptions{
					Name: c.Args().First(), Driver: c.String("driver"), Subnet: c.String("subnet"),
					Gateway: c.String("gateway"), IPRange: c.String("ip-range"),
				})
				return err
			},
		},
		{
			Name:    "list",
			Aliases: []string{"ls"},
			Usage:   "list networks",
			Action: func(c *cli.Context) error {
				nws, err := networkManager(c).List()
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprintln(w, "NAME\tIpRange\tDriver\tBridge\tContainers")
				for _, nw := range nws {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", nw.Name, nw.IpRange, nw.Driver, nw.Bridge, len(nw.Containers))
				}
				return w.Flush()
			},
		},
		{
			Name:      "remove",
			Aliases:   []string{"rm"},
			Usage:     "remove networks (refused while containers are attached)",
			ArgsUsage: "NAME...",
			Flags:     []cli.Flag{dryRunFlag},
			Action: func(c *cli.Context) error {
				if c.NArg() == 0 {
					return Usagef("network remove: at least one NAME expected")
				}
				return networkManager(c).Remove(c.Args().Slice()...)
			},
		},
		{
			Name:      "inspect",
			Usage:     "show networks as JSON (subnet, gateway, bridge, containers)",
			ArgsUsage: "NAME...",
			Action: func(c *cli.Context) error {
				if c.NArg() == 0 {
					return Usagef("network inspect: at least one NAME expected")
				}
				var out []*network.Network
				for _, name := range c.Args().Slice() {
					nw, err := networkManager(c).Inspect(name)
					if err != nil {
						return err
					}
					out = append(out, nw)
				}
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			},
		},
		{
			Name:      "connect",
			Usage:     "connect a running container to a network",
			ArgsUsage: "NETWORK CONTAINER",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "ip", Usage: "the container's address on this network"},
				dryRunFlag,
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return Usagef("network connect: NETWORK CONTAINER expected")
				}
				var ip net.IP
				if s := c.String("ip"); s != "" {
					if ip = net.ParseIP(s); ip == nil {
						return Usagef("invalid --ip %q", s)
					}
				}
				return ConnectContainer(c, networkManager(c), c.Args().Get(0), c.Args().Get(1), ip)
			},
		},
		{
			Name:      "disconnect",
			Usage:     "disconnect a container from a network",
			ArgsUsage: "NETWORK CONTAINER",
			Flags:     []cli.Flag{dryRunFlag},
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return Usagef("network disconnect: NETWORK CONTAINER expected")
				}
				return DisconnectContainer(c, networkManager(c), c.Args().Get(0), c.Args().Get(1))
			},
		},
		{
			Name:  "prune",
			Usage: "free addresses of containers that no longer exist, then remove unused networks",
			Action: func(c *cli.Context) error {
				m := networkManager(c)
				if err := m.Reconcile(ContainerAlive(c)); err != nil {
					return err
				}
				removed, err := m.Prune()
				for _, name := range removed {
					fmt.Println(name)
				}
				return err
			},
		},
	},
}

func networkManager(c *cli.Context) *network.Manager {
	return network.NewManager(c.String("root"), narrator().WithDryRun(c.Bool("dry-run")))
}

// The runtime core supplies these (container lookup lives in container/);
// until it does, connect/disconnect of a container by name are refused and
// prune treats a container as alive while its state directory exists.
var (
	ConnectContainer = func(c *cli.Context, m *network.Manager, nw, ctr string, ip net.IP) error {
		return fmt.Errorf("network connect: needs the runtime core (containers)")
	}
	DisconnectContainer = func(c *cli.Context, m *network.Manager, nw, ctr string) error {
		return m.Disconnect(nw, ctr)
	}
	ContainerAlive = func(c *cli.Context) func(id string) bool {
		root := c.String("root")
		return func(id string) bool {
			_, err := os.Stat(root + "/containers/" + id)
			return err == nil
		}
	}
)
