package cmd

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/network"
)

func dryRunFlag() cli.Flag {
	return &cli.BoolFlag{Name: "dry-run", Usage: "print the commands that would run, change nothing"}
}

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
				dryRunFlag(),
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return Usagef("network create: exactly one NAME expected")
				}
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				_, err = rt.Networks().Create(network.CreateOptions{
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
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				nws, err := rt.Networks().List()
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
			Flags:     []cli.Flag{dryRunFlag()},
			Action: func(c *cli.Context) error {
				if c.NArg() == 0 {
					return Usagef("network remove: at least one NAME expected")
				}
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				return rt.Networks().Remove(c.Args().Slice()...)
			},
		},
		{
			Name:      "inspect",
			Usage:     "show networks as JSON (subnet, gateway, bridge, containers), or draw them",
			ArgsUsage: "NAME...",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "json", Usage: "json, or mermaid: a flowchart of the topology for Markdown"},
			},
			Action: func(c *cli.Context) error {
				format := c.String("format")
				if format != "json" && format != "mermaid" {
					return Usagef("network inspect: invalid --format %q (json or mermaid)", format)
				}
				if c.NArg() == 0 {
					return Usagef("network inspect: at least one NAME expected")
				}
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				var out []*network.Network
				m := rt.Networks()
				for _, name := range c.Args().Slice() {
					nw, err := m.Inspect(name)
					if err != nil {
						return err
					}
					out = append(out, nw)
				}
				if format == "mermaid" {
					for _, nw := range out {
						fmt.Print(network.Mermaid(nw))
					}
					return nil
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
				dryRunFlag(),
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
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				_, err = rt.ConnectNetwork(c.Args().Get(0), c.Args().Get(1), ip)
				return err
			},
		},
		{
			Name:      "disconnect",
			Usage:     "disconnect a container from a network",
			ArgsUsage: "NETWORK CONTAINER",
			Flags:     []cli.Flag{dryRunFlag()},
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return Usagef("network disconnect: NETWORK CONTAINER expected")
				}
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				return rt.DisconnectNetwork(c.Args().Get(0), c.Args().Get(1))
			},
		},
		{
			Name:   "prune",
			Usage:  "free addresses of containers that no longer exist, remove unused networks, then mydocker's links and rules no network owns",
			Flags:  []cli.Flag{forceFlag(), dryRunFlag()},
			Action: pruneNetworks,
		},
	},
}

// networkRuntime is the runtime on the kernel --dry-run asks for: the
// narrating one, or a plan (runtime's, which its reconcile planned on).
func networkRuntime(c *cli.Context) (*container.Runtime, error) { return runtime(c) }
