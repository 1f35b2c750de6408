package cmd

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/container/image"
)

var imageList = &cli.Command{
	Name:      "ls",
	Aliases:   []string{"list"},
	Usage:     "list images",
	ArgsUsage: "[REPOSITORY[:TAG]]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only the image ids (a flat image's name)"},
		&cli.BoolFlag{Name: "digests", Usage: "show the manifests' digests"},
		// docker's -a adds the intermediate images of builds; there are none.
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "every image: the same list (no build, so no intermediate images)"},
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "KEY=VALUE: dangling=true|false, reference=PATTERN (a glob: 'busy*', '*:latest')"},
		&cli.StringFlag{Name: "format", Usage: "a Go template per image ('table ...' adds a header; 'json': each as one line of JSON): {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.CreatedSince}} {{.CreatedAt}} {{.Size}}"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 1 {
			return Usagef("%q takes at most one REPOSITORY[:TAG]: see 'mydocker images --help'", c.Command.Name)
		}
		filters, err := parseKeyFilters(c.StringSlice("filter"), "dangling", "reference")
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		rows, err := rt.Catalog().List()
		if err != nil {
			return err
		}
		if c.NArg() == 1 {
			rows = matchingImages(rows, c.Args().First())
		}
		var kept []image.Row
		for _, r := range rows {
			if matchAll(filters, func(k, v string) bool { return imageMatches(r, k, v) }) {
				kept = append(kept, r)
			}
		}
		rows = kept
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
		table := "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		if c.Bool("digests") {
			table = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		}
		lf, err := newListOutput(c.String("format"), "", table)
		if err != nil {
			return err
		}
		now := time.Now()
		views := make([]imageView, 0, len(rows))
		for _, r := range rows {
			views = append(views, viewOfImage(r, now))
		}
		return writeList(c.App.Writer, lf, imageHeader, views)
	},
}

// imageView is one image as images --format sees it: docker's fields, as
// strings (docker's "N/A" where mydocker does not count: the containers
// and the shared and unique sizes, which docker too only gives with -v).
type imageView struct {
	ID, Repository, Tag, Digest, CreatedSince, CreatedAt, Size string
	Containers, SharedSize, UniqueSize, VirtualSize            string
}

var imageHeader = imageView{ID: "IMAGE ID", Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST",
	CreatedSince: "CREATED", CreatedAt: "CREATED AT", Size: "SIZE", Containers: "CONTAINERS",
	SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE", VirtualSize: "VIRTUAL SIZE"}

func viewOfImage(r image.Row, now time.Time) imageView {
	v := imageView{ID: shortImageID(r), Repository: r.Repository, Tag: r.Tag, Digest: r.Digest,
		CreatedSince: "N/A", Size: "-", Containers: "N/A", SharedSize: "N/A", UniqueSize: "N/A"}
	if r.ID == "" {
		v.ID = "-" // a flat image has no id; -q prints its name, which rmi takes
	}
	if v.Digest == "" {
		v.Digest = "<none>"
	}
	if r.Created.Unix() > 0 { // else an image whose config gives no date
		v.CreatedSince = container.HumanDuration(now.Sub(r.Created)) + " ago"
		v.CreatedAt = r.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")
	}
	if r.Size >= 0 { // a flat image's is not measured
		v.Size = image.HumanSize(r.Size)
	}
	v.VirtualSize = v.Size
	return v
}

// matchingImages are the rows of ref, as docker's `images REPOSITORY[:TAG]`:
// a repository gives all its tags, REPOSITORY:TAG that one.
func matchingImages(rows []image.Row, ref string) []image.Row {
	repo, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	var out []image.Row
	for _, r := range rows {
		if r.Repository == repo && (tag == "" || r.Tag == tag) {
			out = append(out, r)
		}
	}
	return out
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
				rt, err := runtimeAfter(c, exactArgs(c, 2))
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
				rt, err := runtimeAfter(c, exactArgs(c, 1))
				if err != nil {
					return err
				}
				return rt.Images().ExportTo(c.Args().First(), c.String("output"), os.Stdout)
			},
		},
		imageRm, imageInspect, imagePrune, Pull, Push, Tag, Load, Save,
	},
}
