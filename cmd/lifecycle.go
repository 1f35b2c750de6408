package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/network"
)

// Stop is `mydocker stop`.
var Stop = &cli.Command{
	Name:      "stop",
	Usage:     "stop running containers (SIGTERM, then SIGKILL after a grace period)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags:     stopFlags(),
	Action: timedAction(func(rt *container.Runtime, ref string, timeout time.Duration, sig syscall.Signal) error {
		_, err := rt.Stop(ref, timeout, sig)
		return err
	}),
}

// Rm is `mydocker rm`.
var Rm = &cli.Command{
	Name:      "rm",
	Usage:     "remove containers (their state, layer and log)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container first"},
		&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the container's anonymous volumes too"},
	},
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, minArgs(c, 1))
		if err != nil {
			return err
		}
		return forEach(c, func(ref string) error {
			if c.Bool("volumes") {
				_, err := rt.RemoveWithVolumes(ref, c.Bool("force"))
				return err
			}
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

// Kill is `mydocker kill`.
var Kill = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal to running containers (SIGKILL by default)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "the signal: a name (KILL, SIGTERM, hup) or a number"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		sig, err := container.ParseSignal(c.String("signal"))
		if err != nil {
			return Usagef("%v", err)
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		return forEach(c, func(ref string) error {
			_, err := rt.Kill(ref, sig)
			return err
		})
	},
}

// Wait is `mydocker wait`: each container's exit code, once it has stopped.
var Wait = &cli.Command{
	Name:      "wait",
	Usage:     "block until containers stop, then print their exit codes",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, minArgs(c, 1))
		if err != nil {
			return err
		}
		var errs []error
		for _, ref := range c.Args().Slice() {
			code, err := rt.Wait(ref)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintln(c.App.Writer, code)
		}
		return errors.Join(errs...)
	},
}

// Port is `mydocker port`: a container's published ports, as docker
// prints them ("80/tcp -> 0.0.0.0:8080"), or the host addresses of one.
var Port = &cli.Command{
	Name:      "port",
	Usage:     "list a container's published ports, or where one of them is published",
	ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 || c.NArg() > 2 {
			return Usagef("%q takes a container and at most one port", c.Command.Name)
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		ct, err := rt.Store().Get(c.Args().First())
		if err != nil {
			return err
		}
		var want *network.PortMapping
		if c.NArg() == 2 {
			p, err := network.ParsePortMapping(c.Args().Get(1))
			if err != nil || p.HostPort != 0 || p.HostIP != "" {
				return Usagef("invalid port %q: PORT or PORT/tcp|udp", c.Args().Get(1))
			}
			want = &p
		}
		found := false
		for _, p := range ct.Ports {
			if want != nil && (p.ContainerPort != want.ContainerPort || p.Proto != want.Proto) {
				continue
			}
			found = true
			host := p.HostIP
			if host == "" {
				host = "0.0.0.0"
			}
			if want != nil {
				fmt.Fprintf(c.App.Writer, "%s:%d\n", host, p.HostPort)
			} else {
				fmt.Fprintf(c.App.Writer, "%d/%s -> %s:%d\n", p.ContainerPort, p.Proto, host, p.HostPort)
			}
		}
		if want != nil && !found {
			return fmt.Errorf("no public port '%d/%s' published for %s", want.ContainerPort, want.Proto, ct.Name)
		}
		return nil
	},
}

// Top is `mydocker top`: the container's processes as the host's ps shows
// them (ps -ef unless options are given), as docker's.
var Top = &cli.Command{
	Name:            "top",
	Usage:           "show a running container's processes",
	ArgsUsage:       "CONTAINER [ps OPTIONS]",
	SkipFlagParsing: true, // the options after the container are ps's
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 || strings.HasPrefix(c.Args().First(), "-") {
			return Usagef("%q takes a container, then ps options", c.Command.Name)
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		_, pids, err := rt.Pids(c.Args().First())
		if err != nil {
			return err
		}
		opts := c.Args().Tail()
		if len(opts) == 0 {
			opts = []string{"-ef"}
		}
		out, err := exec.Command("ps", opts...).Output()
		if err != nil {
			return fmt.Errorf("ps %s: %w", strings.Join(opts, " "), err)
		}
		return printPids(c.App.Writer, string(out), pids)
	},
}

// printPids prints ps's header and the lines whose PID column is one of
// pids.
func printPids(w io.Writer, ps string, pids []int) error {
	lines := strings.Split(strings.TrimRight(ps, "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return Usagef("ps's output has no PID column: give -o pid,... or leave the options out")
	}
	want := map[string]bool{}
	for _, p := range pids {
		want[strconv.Itoa(p)] = true
	}
	fmt.Fprintln(w, lines[0])
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > col && want[f[col]] {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}

// Pause and Unpause are `mydocker pause` and `unpause`: the cgroup freezer.
var (
	Pause = &cli.Command{
		Name:      "pause",
		Usage:     "freeze every process of running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action:    freezeVerb((*container.Runtime).Pause),
	}
	Unpause = &cli.Command{
		Name:      "unpause",
		Usage:     "thaw paused containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action:    freezeVerb((*container.Runtime).Unpause),
	}
)

func freezeVerb(do func(*container.Runtime, string) (*container.Config, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		rt, err := runtimeAfter(c, minArgs(c, 1))
		if err != nil {
			return err
		}
		return forEach(c, func(ref string) error {
			_, err := do(rt, ref)
			return err
		})
	}
}

// Diff is `mydocker diff`: what a container changed in its root filesystem.
var Diff = &cli.Command{
	Name:      "diff",
	Usage:     "list the files a container added (A), changed (C) or deleted (D)",
	ArgsUsage: "CONTAINER",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 1))
		if err != nil {
			return err
		}
		changes, err := rt.Diff(c.Args().First())
		if err != nil {
			return err
		}
		for _, ch := range changes {
			fmt.Fprintln(c.App.Writer, ch)
		}
		return nil
	},
}

// Rename is `mydocker rename`.
var Rename = &cli.Command{
	Name:      "rename",
	Usage:     "rename a container (and its name on its networks)",
	ArgsUsage: "CONTAINER NEW_NAME",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 2))
		if err != nil {
			return err
		}
		_, err = rt.Rename(c.Args().Get(0), c.Args().Get(1))
		return err
	},
}
