package cmd

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/joinprime"
)

// errNotRoot: namespaces, mounts, cgroups and netlink need root.
var errNotRoot = errors.New("mydocker needs root: run it with sudo")

// runtime builds the container runtime from the global flags, on the
// kernel --dry-run asks for (verbs without the flag: the narrating one);
// verbs that change or read the state need root. For the verbs a user
// types it first reconciles the state with this boot (container.Reconcile:
// a compare of two small files unless the machine rebooted); the internal
// verbs (the shim) use internalRuntime.
func runtime(c *cli.Context) (*container.Runtime, error) {
	rt, err := internalRuntime(c)
	if err != nil {
		return nil, err
	}
	if err := rt.Reconcile(); err != nil {
		return nil, err
	}
	return rt, nil
}

// runtimeAfter is runtime once the verb's arguments are checked
// (minArgs, exactArgs): a usage error comes before anything is read.
func runtimeAfter(c *cli.Context, argsErr error) (*container.Runtime, error) {
	if argsErr != nil {
		return nil, argsErr
	}
	return runtime(c)
}

// internalRuntime is runtime without the reconcile: for the processes
// mydocker starts itself, whose caller has reconciled.
func internalRuntime(c *cli.Context) (*container.Runtime, error) {
	if os.Geteuid() != 0 {
		return nil, errNotRoot
	}
	return &container.Runtime{
		Paths:      container.Paths{Root: c.String("root"), DataRoot: c.String("data-root")},
		K:          seam(c.Bool("dry-run")),
		LogLevel:   c.String("log-level"),
		LogFormat:  c.String("log-format"),
		JoinPrimed: joinprime.Primed(),
	}, nil
}

// exactArgs checks the number of positional arguments.
func exactArgs(c *cli.Context, n int) error {
	if c.NArg() != n {
		return Usagef("%q needs exactly %d argument(s), got %d: see 'mydocker %s --help'", c.Command.Name, n, c.NArg(), c.Command.Name)
	}
	return nil
}

// minArgs checks there are at least n positional arguments.
func minArgs(c *cli.Context, n int) error {
	if c.NArg() < n {
		return Usagef("%q needs at least %d argument(s): see 'mydocker %s --help'", c.Command.Name, n, c.Command.Name)
	}
	return nil
}
