package cmd

import "github.com/urfave/cli/v2"

// Init names the container's first process: the parent execs a sealed
// copy of mydocker as `mydocker init`, and that copy runs the init's
// program in C before Go starts (package cinit), never reaching this
// action. Typed by hand, it says so.
var Init = &cli.Command{
	Name:   "init",
	Hidden: true,
	Usage:  "the container's first process (internal)",
	Action: func(*cli.Context) error {
		return cli.Exit("init is the container's first process, started by run (it runs in C before Go starts): not a command to type", ExitFailure)
	},
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
