package cmd

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Attach is `mydocker attach`.
var Attach = &cli.Command{
	Name:      "attach",
	Usage:     "connect to a running detached container's output (and input, if run with -i) until it exits; ctrl-p ctrl-q detaches (with -t)",
	ArgsUsage: "CONTAINER",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "no-stdin", Usage: "do not send stdin"},
		&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "pass the signals mydocker gets on to the container (not with -t)"},
		&cli.StringFlag{Name: "detach-keys", Value: container.DefaultDetachKeys, Usage: "the keys that detach (with -t): a character, or ctrl-X, separated by commas"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		if _, err := container.ParseDetachKeys(c.String("detach-keys")); err != nil {
			return Usagef("%v", err)
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		o := container.AttachOptions{NoStdin: c.Bool("no-stdin"), SigProxy: c.Bool("sig-proxy"), DetachKeys: c.String("detach-keys")}
		code, err := rt.Attach(c.Args().First(), o, os.Stdin, os.Stdout, os.Stderr)
		if err != nil {
			return err
		}
		if code != 0 {
			return cli.Exit("", code)
		}
		return nil
	},
}
