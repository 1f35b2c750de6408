package cmd

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Stats is `mydocker stats`.
var Stats = &cli.Command{
	Name:      "stats",
	Usage:     "show containers' CPU, memory and pids use, read from their cgroups",
	ArgsUsage: "[CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "no-stream", Usage: "print one reading and exit (default: refresh every second until ^C)"},
		&cli.StringFlag{Name: "format", Usage: "a Go template per container ('table ...' adds a header; 'json': each as one line of JSON): {{.Container}} {{.Name}} {{.ID}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.PIDs}}"},
	},
	Action: func(c *cli.Context) error {
		var lf *listOutput
		if f := c.String("format"); f != "" {
			var err error
			if lf, err = newListOutput(f, "", "table {{.Container}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.PIDs}}"); err != nil {
				return err
			}
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		s := rt.NewSampler(c.Args().Slice())
		for {
			rows, err := s.Next()
			if err != nil {
				return err
			}
			if !c.Bool("no-stream") {
				fmt.Print("\033[2J\033[H") // clear the terminal, as docker stats does
			}
			if err := writeStats(c, lf, rows); err != nil {
				return err
			}
			if c.Bool("no-stream") {
				return nil
			}
		}
	},
}

// writeStats prints one reading: docker's table, or --format's.
func writeStats(c *cli.Context, lf *listOutput, rows []container.StatsRow) error {
	if lf == nil {
		return container.WriteStats(os.Stdout, rows)
	}
	refs := c.Args().Slice()
	views := make([]statsView, 0, len(rows))
	for i, r := range rows {
		v := statsView{Container: container.ShortID(r.ID), Name: r.Name, ID: r.ID,
			CPUPerc: fmt.Sprintf("%.2f%%", r.CPUPercent), MemPerc: fmt.Sprintf("%.2f%%", r.MemPercent()),
			MemUsage: container.BytesSize(r.MemUsage) + " / " + container.BytesSize(r.MemLimit),
			PIDs:     fmt.Sprint(r.Pids), NetIO: "--", BlockIO: "--"}
		if r.NetRead {
			v.NetIO = humanSizePrecision(int64(r.NetRx), 3) + " / " + humanSizePrecision(int64(r.NetTx), 3)
		}
		if i < len(refs) {
			v.Container = refs[i] // as typed, as docker's .Container
		}
		views = append(views, v)
	}
	return writeList(c.App.Writer, lf, statsHeader, views)
}

// statsView is one container as stats --format sees it: docker's fields.
// Block I/O is not read, nor network I/O with --net host (docker's "--",
// its mark for a value it has not got).
type statsView struct {
	Container, Name, ID, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs string
}

var statsHeader = statsView{Container: "CONTAINER", Name: "NAME", ID: "CONTAINER ID", CPUPerc: "CPU %",
	MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O", BlockIO: "BLOCK I/O", PIDs: "PIDS"}
