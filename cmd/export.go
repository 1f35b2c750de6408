package cmd

import (
	"errors"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/internal/archive"
)

// Export is `mydocker export`.
var Export = &cli.Command{
	Name:      "export",
	Usage:     "write a container's filesystem (its image and its changes, not its volumes) as a tarball (to stdout, or -o FILE); `image import` reads it back",
	ArgsUsage: "CONTAINER",
	Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of stdout"}},
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 1))
		if err != nil {
			return err
		}
		err = archive.WriteOut(c.String("output"), os.Stdout, func(w io.Writer) error { return rt.Export(c.Args().First(), w) })
		if errors.Is(err, archive.ErrTerminal) {
			return Usagef("export: %v", err)
		}
		return err
	},
}
