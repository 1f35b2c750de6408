package cmd

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Create is `mydocker create`: run's flags, the container made but not
// started.
var Create = &cli.Command{
	Name:      "create",
	Usage:     "create a container without starting it (start starts it)",
	ArgsUsage: "IMAGE [COMMAND [ARG...]]",
	HideHelp:  true, // -h is --hostname, as run's
	Flags:     Run.Flags,
	Action: func(c *cli.Context) error {
		if c.Bool("help") {
			return cli.ShowSubcommandHelp(c)
		}
		if err := minArgs(c, 1); err != nil {
			return err
		}
		o, err := runOptions(c)
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		ct, err := rt.Create(o)
		if err != nil {
			return err
		}
		if c.Bool("dry-run") {
			kernel.Report(rt.K, "container %s was not created", container.ShortID(ct.ID))
			return nil
		}
		fmt.Println(ct.ID)
		return nil
	},
}

// Start is `mydocker start`.
var Start = &cli.Command{
	Name:      "start",
	Usage:     "start created or stopped containers (detached, unless -a)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach its output, and exit with its exit code"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach its stdin"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		o := container.StartOptions{Attach: c.Bool("attach") || c.Bool("interactive"), Interactive: c.Bool("interactive")}
		if o.Attach && c.NArg() > 1 {
			return Usagef("you cannot start and attach multiple containers at once")
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		if o.Attach {
			_, code, err := rt.Start(c.Args().First(), o, os.Stdin, os.Stdout, os.Stderr)
			if err != nil {
				return err
			}
			if code != 0 {
				return cli.Exit("", code)
			}
			return nil
		}
		return forEach(c, func(ref string) error {
			_, _, err := rt.Start(ref, o, nil, nil, nil)
			return err
		})
	},
}

// Restart is `mydocker restart`.
var Restart = &cli.Command{
	Name:      "restart",
	Usage:     "stop running containers and start them again (same id, layer and networks)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags:     stopFlags(),
	Action: timedAction(func(rt *container.Runtime, ref string, timeout time.Duration, sig syscall.Signal) error {
		_, err := rt.Restart(ref, timeout, sig)
		return err
	}),
}

// stopFlags are stop's and restart's -t and -s.
func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: 10, Usage: "seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)"},
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send first (default: the container's --stop-signal, else SIGTERM)"},
	}
}

// timedAction is stop's and restart's action: fn for each container, with
// -t as the grace period (-1 when not given: the container's own
// --stop-timeout, else 10 s) and -s as the signal (0 when not given: the
// container's own).
func timedAction(fn func(rt *container.Runtime, ref string, timeout time.Duration, sig syscall.Signal) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		if c.Int("time") < 0 {
			return Usagef("invalid --time %d: must be 0 or more", c.Int("time"))
		}
		var sig syscall.Signal
		if s := c.String("signal"); s != "" {
			var err error
			if sig, err = container.ParseSignal(s); err != nil {
				return Usagef("invalid --signal: %v", err)
			}
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		timeout := time.Duration(c.Int("time")) * time.Second
		if !c.IsSet("time") {
			timeout = -1
		}
		return forEach(c, func(ref string) error { return fn(rt, ref, timeout, sig) })
	}
}
