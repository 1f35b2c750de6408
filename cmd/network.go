package cmd

import (
	"fmt"
	"net"
	"os"
	"text/tabwriter"
	"text/template"
	"time"

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
				&cli.IntFlag{Name: "host-subnet-size", Value: 24, Usage: "overlay: the prefix length of each host's share of --subnet"},
				&cli.DurationFlag{Name: "kv-ttl", Value: 20 * time.Second, Usage: "overlay: a host's lease in etcd ends this long after the host stops renewing it (it died)"},
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
					HostSubnetSize: c.Int("host-subnet-size"), KVTTL: c.Duration("kv-ttl"),
				})
				return err
			},
		},
		{
			Name:    "list",
			Aliases: []string{"ls"},
			Usage:   "list networks",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only the networks' ids"},
				&cli.BoolFlag{Name: "no-trunc", Usage: "full ids"},
				&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "KEY=VALUE: name (a part of it), id (a prefix), driver"},
				&cli.StringFlag{Name: "format", Usage: "a Go template per network ('table ...' adds a header; 'json': each as one line of JSON): {{.ID}} {{.Name}} {{.Driver}} {{.Scope}} {{.IPv6}} {{.Internal}} {{.Labels}} {{.CreatedAt}} {{.IpRange}} {{.Bridge}} {{.Containers}}"},
			},
			Action: func(c *cli.Context) error {
				if err := exactArgs(c, 0); err != nil {
					return err
				}
				filters, err := parseKeyFilters(c.StringSlice("filter"), "name", "id", "driver")
				if err != nil {
					return err
				}
				rt, err := networkRuntime(c)
				if err != nil {
					return err
				}
				all, err := rt.Networks().ListAll()
				if err != nil {
					return err
				}
				var nws []*network.Network
				for _, nw := range all {
					if matchAll(filters, func(k, v string) bool { return networkMatches(nw, k, v) }) {
						nws = append(nws, nw)
					}
				}
				if format := c.String("format"); format != "" || c.Bool("quiet") {
					quiet := ""
					if c.Bool("quiet") {
						quiet = "{{.ID}}"
					}
					lf, err := newListOutput(format, quiet, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}")
					if err != nil {
						return err
					}
					rows := make([]network.DockerListRow, 0, len(nws))
					for _, nw := range nws {
						rows = append(rows, nw.ListRow(c.Bool("no-trunc")))
					}
					return writeList(c.App.Writer, lf, network.DockerListHeader, rows)
				}
				// mydocker's table (the seed's), which shows the subnet and bridge.
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
				names := make([]string, 0, c.NArg())
				for _, ref := range c.Args().Slice() {
					name, err := rt.Networks().Resolve(ref)
					if err != nil {
						return err
					}
					names = append(names, name)
				}
				return rt.Networks().Remove(names...)
			},
		},
		{
			Name:      "inspect",
			Usage:     "show networks as JSON in docker's shape (.IPAM.Config, .Containers) with mydocker's fields (bridge, subnet), or draw them",
			ArgsUsage: "NAME|ID...",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template over the JSON, as docker's ('{{range .IPAM.Config}}{{.Subnet}}{{end}}'; json: one line each), or mermaid: a flowchart of the topology for Markdown"},
			},
			Action: func(c *cli.Context) error {
				format := c.String("format")
				var tmpl *template.Template
				if format != "" && format != "mermaid" {
					var err error
					if tmpl, err = parseFormat(format); err != nil {
						return err
					}
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
				for _, ref := range c.Args().Slice() {
					name, err := m.Resolve(ref)
					if err != nil {
						return err
					}
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
				views := make([]network.DockerNetwork, 0, len(out))
				for _, nw := range out {
					views = append(views, nw.Docker())
				}
				return writeInspect(c.App.Writer, tmpl, views)
			},
		},
		{
			Name:      "connect",
			Usage:     "connect a running container to a network",
			ArgsUsage: "NETWORK CONTAINER",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "ip", Usage: "the container's address on this network"},
				&cli.StringSliceFlag{Name: "alias", Usage: "another name of the container on this network (in the /etc/hosts of the containers there)"},
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
				_, err = rt.ConnectNetwork(c.Args().Get(0), c.Args().Get(1), ip, c.StringSlice("alias"))
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
