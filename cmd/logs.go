package cmd

import (
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/container/logfile"
)

// Logs is `mydocker logs`.
var Logs = &cli.Command{
	Name:      "logs",
	Usage:     "print what a container wrote (stdout to stdout, stderr to stderr)",
	ArgsUsage: "CONTAINER",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing until the container stops"},
		&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "only the last N lines (all: everything)"},
		&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "prefix each line with the time it was written (RFC3339Nano)"},
		&cli.StringFlag{Name: "since", Usage: "only lines written since a time: RFC3339 (2013-01-02T13:23:37Z), a Unix timestamp, or a duration before now (10m)"},
		&cli.StringFlag{Name: "until", Usage: "only lines written before a time: as --since"},
		&cli.BoolFlag{Name: "details", Usage: "prefix each line with its log attributes, as docker's (there are none: a space)"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		o := container.LogsOptions{Follow: c.Bool("follow"), Tail: -1, Timestamps: c.Bool("timestamps"), Details: c.Bool("details")}
		if t := c.String("tail"); t != "all" {
			n, err := strconv.Atoi(t)
			if err != nil || n < 0 {
				return Usagef("invalid --tail %q: a number of lines, or all", t)
			}
			o.Tail = n
		}
		now := time.Now()
		for _, f := range []struct {
			name string
			to   *time.Time
		}{{"since", &o.Since}, {"until", &o.Until}} {
			if !c.IsSet(f.name) {
				continue
			}
			t, err := logfile.ParseTime(c.String(f.name), now)
			if err != nil {
				return Usagef("invalid --%s: %v", f.name, err)
			}
			*f.to = t
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		return rt.Logs(c.Args().First(), o, os.Stdout, os.Stderr)
	},
}
