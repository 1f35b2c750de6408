package cmd

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Exec is `mydocker exec`.
var Exec = &cli.Command{
	Name:      "exec",
	Usage:     "run a command in a running container",
	ArgsUsage: "CONTAINER COMMAND [ARG...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep stdin open"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-terminal"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable: KEY=VAL, or KEY to take the caller's"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a file: KEY=VAL or KEY per line, # comments (before -e)"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory in the container (default: the container's)"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as uid[:gid] or name[:group] of the container (default: the container's user)"},
		&cli.BoolFlag{Name: "privileged", Usage: "give the command every capability"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 2); err != nil {
			return err
		}
		// The files' lines come first: -e wins, as in run.
		env, err := container.ReadEnvFiles(c.StringSlice("env-file"))
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		o := container.ExecOptions{
			Container: c.Args().First(), Cmd: c.Args().Tail(),
			Env: append(env, c.StringSlice("env")...), WorkDir: c.String("workdir"),
			Interactive: c.Bool("interactive"), Tty: c.Bool("tty"),
			User: c.String("user"), Privileged: c.Bool("privileged"),
		}
		code, err := rt.Exec(o, os.Stdin, os.Stdout, os.Stderr)
		if err != nil {
			return err
		}
		if code != 0 {
			return cli.Exit("", code)
		}
		return nil
	},
}

// ExecInternal is the hidden verb `mydocker exec` starts: nsenter's
// constructor has put it in the container before Go started.
var ExecInternal = &cli.Command{
	Name:   "exec-internal",
	Hidden: true,
	Usage:  "the command of an exec, already inside the container (internal)",
	Action: func(c *cli.Context) error {
		// It returns only on failure, with an exit code that says why.
		return container.ExecInternal()
	},
}
