package cmd

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// errNotRoot: namespaces, mounts, cgroups and netlink need root.
var errNotRoot = errors.New("mydocker needs root: run it with sudo")

// runtime builds the container runtime from the global flags; verbs that
// change or read the state need root.
func runtime(c *cli.Context) (*container.Runtime, error) {
	if os.Geteuid() != 0 {
		return nil, errNotRoot
	}
	return &container.Runtime{
		Paths:     container.Paths{Root: c.String("root"), DataRoot: c.String("data-root")},
		K:         seam(false),
		LogLevel:  c.String("log-level"),
		LogFormat: c.String("log-format"),
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
