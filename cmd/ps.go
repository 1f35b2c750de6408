package cmd

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Ps is `mydocker ps`.
var Ps = &cli.Command{
	Name:  "ps",
	Usage: "list containers",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also exited and created containers"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only ids"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		list, err := rt.Store().List()
		if err != nil {
			return err
		}
		now := time.Now()
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
		if !c.Bool("quiet") {
			fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
		}
		for i := len(list) - 1; i >= 0; i-- { // newest first, as docker
			ct := list[i]
			if !c.Bool("all") && !ct.IsRunning() {
				continue
			}
			if c.Bool("quiet") {
				fmt.Fprintln(w, container.ShortID(ct.ID))
				continue
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\n", container.ShortID(ct.ID), ct.Image,
				quoteCommand(ct.Cmd), container.HumanDuration(now.Sub(ct.Created)), ct.StatusText(now), ports(ct), ct.Name)
		}
		return w.Flush()
	},
}

// quoteCommand shows a command as docker ps does: quoted, cut at 20 characters.
func quoteCommand(cmd []string) string {
	s := strings.Join(cmd, " ")
	if len(s) > 20 {
		s = s[:19] + "…"
	}
	return `"` + s + `"`
}

// ports shows a running container's published ports as docker ps does:
// 0.0.0.0:8080->80/tcp.
func ports(c *container.Config) string {
	if !c.IsRunning() {
		return ""
	}
	var out []string
	for _, p := range c.Ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Proto))
	}
	return strings.Join(out, ", ")
}
