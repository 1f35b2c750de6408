package cmd

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/container/image"
)

var imageList = &cli.Command{
	Name:    "ls",
	Aliases: []string{"list"},
	Usage:   "list images",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only the image ids (a flat image's name)"},
		&cli.BoolFlag{Name: "digests", Usage: "show the manifests' digests"},
	},
	Action: func(c *cli.Context) error {
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		rows, err := rt.Catalog().List()
		if err != nil {
			return err
		}
		if c.Bool("quiet") {
			seen := map[string]bool{}
			for _, r := range rows {
				id := shortImageID(r)
				if !seen[id] {
					seen[id] = true
					fmt.Println(id)
				}
			}
			return nil
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
		digest := func(string) string { return "" }
		head := "REPOSITORY\tTAG\t"
		if c.Bool("digests") {
			head += "DIGEST\t"
			digest = func(d string) string {
				if d == "" {
					d = "<none>"
				}
				return d + "\t"
			}
		}
		fmt.Fprintln(w, head+"IMAGE ID\tCREATED\tSIZE")
		for _, r := range rows {
			size := "-"
			if r.Size >= 0 {
				size = image.HumanSize(r.Size)
			}
			id := shortImageID(r)
			if r.ID == "" {
				id = "-"
			}
			created := "N/A" // an image whose config gives no date
			if r.Created.Unix() > 0 {
				created = container.HumanDuration(time.Since(r.Created)) + " ago"
			}
			fmt.Fprintf(w, "%s\t%s\t%s%s\t%s\t%s\n", r.Repository, r.Tag, digest(r.Digest), id, created, size)
		}
		return w.Flush()
	},
}

// shortImageID is the 12 hex digits docker shows (a flat image: its name).
func shortImageID(r image.Row) string {
	if r.ID == "" {
		return r.Repository
	}
	return strings.TrimPrefix(r.ID, "sha256:")[:12]
}

// Images is `mydocker images`, the same as `mydocker image ls`.
var Images = &cli.Command{Name: "images", Usage: "list images", Flags: imageList.Flags, Action: imageList.Action}

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
		imageRm, imageInspect, imagePrune, Pull, Push, Tag, Load, Save,
	},
}
