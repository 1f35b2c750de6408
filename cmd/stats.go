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
	},
	Action: func(c *cli.Context) error {
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
			if err := container.WriteStats(os.Stdout, rows); err != nil {
				return err
			}
			if c.Bool("no-stream") {
				return nil
			}
		}
	},
}
