package cmd

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/container/image"
)

// History is `mydocker history IMAGE` (and `image history`), as docker's:
// the steps of the image's config history, newest first, with the size of
// each layer.
var History = &cli.Command{
	Name:      "history",
	Usage:     "show the history of an image of the store: its steps, newest first, and their layers' sizes",
	ArgsUsage: "IMAGE",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only the image id (<missing> for the steps below)"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "full ids and commands"},
		&cli.StringFlag{Name: "format", Usage: "a Go template per step ('table ...' adds a header; 'json'): {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}} {{.Comment}}"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		quiet := ""
		if c.Bool("quiet") {
			quiet = "{{.ID}}"
		}
		lf, err := newListOutput(c.String("format"), quiet, "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}")
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		ref := c.Args().First()
		if rt.Catalog().Flat.Exists(ref) {
			return Usagef("image %s is a flat image (a root filesystem, no layers): it has no history", ref)
		}
		steps, err := rt.ImageStore().History(ref)
		if err != nil {
			return err
		}
		now, rows := time.Now(), make([]historyRow, 0, len(steps))
		for _, s := range steps {
			rows = append(rows, historyRowOf(s, now, c.Bool("no-trunc")))
		}
		return writeList(c.App.Writer, lf, historyHeader, rows)
	},
}

// historyRow is one step as history --format sees it: docker's fields.
type historyRow struct {
	ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment string
}

var historyHeader = historyRow{ID: "IMAGE", CreatedSince: "CREATED", CreatedAt: "CREATED AT", CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT"}

func historyRowOf(s image.HistoryEntry, now time.Time, full bool) historyRow {
	r := historyRow{ID: "<missing>", CreatedSince: "N/A", CreatedBy: s.CreatedBy, Size: humanSizePrecision(s.Size, 3), Comment: s.Comment}
	if s.ID != "" {
		r.ID = s.ID
		if !full {
			r.ID = strings.TrimPrefix(s.ID, "sha256:")[:12]
		}
	}
	if s.Created.Unix() > 0 {
		r.CreatedSince = container.HumanDuration(now.Sub(s.Created)) + " ago"
		r.CreatedAt = s.Created.Local().Format(time.RFC3339)
	}
	if !full {
		// As docker's: one line, cut at 45 characters.
		r.CreatedBy = strings.Join(strings.Fields(r.CreatedBy), " ")
		if len([]rune(r.CreatedBy)) > 45 {
			r.CreatedBy = string([]rune(r.CreatedBy)[:44]) + "…"
		}
	}
	return r
}

func init() {
	h := *History
	Image.Subcommands = append(Image.Subcommands, &h)
}
