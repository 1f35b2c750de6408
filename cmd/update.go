package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Update is `mydocker update`.
var Update = &cli.Command{
	Name:      "update",
	Usage:     "change the resource limits and restart policy of containers (a running one's cgroup at once)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "restart", Usage: "restart policy: no, on-failure[:max-retries], always, unless-stopped"},
	}, resourceFlags...),
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, minArgs(c, 1))
		if err != nil {
			return err
		}
		o := container.UpdateOptions{Limits: limitFlags(c), Restart: c.String("restart")}
		return forEach(c, func(ref string) error {
			_, err := rt.Update(ref, o)
			return err
		})
	},
}
