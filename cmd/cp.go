package cmd

import (
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mydocker/mydocker/container"
)

// Cp is `mydocker cp`, as docker's.
var Cp = &cli.Command{
	Name:      "cp",
	Usage:     "copy files and directories between a container (running or stopped) and the host; - is a tar stream on stdin or stdout",
	ArgsUsage: "CONTAINER:SRC_PATH DEST_PATH|-\n   mydocker cp SRC_PATH|- CONTAINER:DEST_PATH",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "keep the files' uid and gid"},
		&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "copy what a link as SRC_PATH points to"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 2); err != nil {
			return err
		}
		src, dst := c.Args().Get(0), c.Args().Get(1)
		if dst == "-" && term.IsTerminal(int(os.Stdout.Fd())) {
			return Usagef("cp: refusing to write a tar stream to a terminal: redirect it")
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		return rt.Copy(src, dst, os.Stdin, os.Stdout, container.CopyOptions{Archive: c.Bool("archive"), FollowLink: c.Bool("follow-link")})
	},
}
