package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// Commit is `mydocker commit`.
var Commit = &cli.Command{
	Name:  "commit",
	Usage: "make an image from a container's root filesystem (its image plus its changes, without volumes)",
	Description: `Works on running and stopped containers. The image is written whole or not at all.
An existing image name is refused unless --replace is given, and even then not while a
container is made on that image.`,
	ArgsUsage: "CONTAINER IMAGE",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "replace", Usage: "replace IMAGE if it exists (not while a container uses it)"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 2); err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		if err := rt.Commit(c.Args().Get(0), c.Args().Get(1), c.Bool("replace")); err != nil {
			return err
		}
		fmt.Println(c.Args().Get(1))
		return nil
	},
}
