package cmd

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

var imageList = &cli.Command{
	Name:    "ls",
	Aliases: []string{"list"},
	Usage:   "list images",
	Action: func(c *cli.Context) error {
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		list, err := rt.Images().List()
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
		fmt.Fprintln(w, "REPOSITORY\tCREATED\tPATH")
		for _, im := range list {
			fmt.Fprintf(w, "%s\t%s ago\t%s\n", im.Name, container.HumanDuration(time.Since(im.Created)), im.Path)
		}
		return w.Flush()
	},
}

// Images is `mydocker images`, the same as `mydocker image ls`.
var Images = &cli.Command{Name: "images", Usage: "list images", Action: imageList.Action}

// Image is `mydocker image`.
var Image = &cli.Command{
	Name:  "image",
	Usage: "manage images",
	Subcommands: []*cli.Command{
		imageList,
		{
			Name:      "import",
			Usage:     "make an image from a rootfs tarball (plain or gzip) or a directory",
			ArgsUsage: "FILE.tar|DIR NAME",
			Action: func(c *cli.Context) error {
				if err := exactArgs(c, 2); err != nil {
					return err
				}
				rt, err := runtime(c)
				if err != nil {
					return err
				}
				if err := rt.Images().Import(c.Args().Get(0), c.Args().Get(1)); err != nil {
					return err
				}
				fmt.Println(c.Args().Get(1))
				return nil
			},
		},
		{
			Name:      "export",
			Usage:     "write an image as a plain rootfs tarball (to stdout, or -o FILE); `image import` reads it back",
			ArgsUsage: "NAME",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of stdout"}},
			Action: func(c *cli.Context) error {
				if err := exactArgs(c, 1); err != nil {
					return err
				}
				rt, err := runtime(c)
				if err != nil {
					return err
				}
				return rt.Images().ExportTo(c.Args().First(), c.String("output"), os.Stdout)
			},
		},
		{
			Name:      "rm",
			Aliases:   []string{"remove"},
			Usage:     "remove images",
			ArgsUsage: "NAME [NAME...]",
			Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "even if containers use it"}},
			Action: func(c *cli.Context) error {
				if err := minArgs(c, 1); err != nil {
					return err
				}
				rt, err := runtime(c)
				if err != nil {
					return err
				}
				users, err := rt.Store().List()
				if err != nil {
					return err
				}
				return forEach(c, func(name string) error { return rt.Images().Remove(name, users, c.Bool("force")) })
			},
		},
	},
}
