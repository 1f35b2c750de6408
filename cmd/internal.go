package cmd

import (
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Init is the hidden verb the container's first process runs.
var Init = &cli.Command{
	Name:   "init",
	Hidden: true,
	Usage:  "the container's first process (internal)",
	Action: func(*cli.Context) error { return RunInit() },
}

// RunInit is init's action: main calls it directly, without building the
// command line's App, when the parent started it (see main's runInit).
func RunInit() error {
	logrus.SetOutput(container.InitLog())
	if err := container.Init(seam(false)); err != nil {
		// The parent reports the reason; the container's stderr stays clean.
		return cli.Exit("", container.ExitCodeOf(err))
	}
	return nil
}

// Shim is the hidden verb that watches a detached container.
var Shim = &cli.Command{
	Name:   "shim",
	Hidden: true,
	Usage:  "watch a detached container (internal)",
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		rt, err := internalRuntime(c)
		if err != nil {
			return err
		}
		return rt.Shim(c.Args().First())
	},
}
