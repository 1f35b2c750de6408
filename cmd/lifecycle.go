package cmd

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

// Stop is `mydocker stop`.
var Stop = &cli.Command{
	Name:      "stop",
	Usage:     "stop running containers (SIGTERM, then SIGKILL after a grace period)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: 10, Usage: "seconds to wait before SIGKILL"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		if c.Int("time") < 0 {
			return Usagef("invalid --time %d: must be 0 or more", c.Int("time"))
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		return forEach(c, func(ref string) error {
			_, err := rt.Stop(ref, time.Duration(c.Int("time"))*time.Second)
			return err
		})
	},
}

// Rm is `mydocker rm`.
var Rm = &cli.Command{
	Name:      "rm",
	Usage:     "remove containers (their state, layer and log)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container first"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		return forEach(c, func(ref string) error {
			_, err := rt.Remove(ref, c.Bool("force"))
			return err
		})
	},
}

// forEach applies fn to every argument, printing each one done, as docker
// does; it goes on past failures and fails if any did.
func forEach(c *cli.Context, fn func(ref string) error) error {
	var errs []error
	for _, ref := range c.Args().Slice() {
		if err := fn(ref); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(os.Stdout, ref)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// Logs is `mydocker logs`.
var Logs = &cli.Command{
	Name:      "logs",
	Usage:     "print what a detached container wrote",
	ArgsUsage: "CONTAINER",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing until the container exits"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		return rt.Logs(c.Args().First(), c.Bool("follow"), os.Stdout)
	},
}
