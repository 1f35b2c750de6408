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
For a container of a pulled or loaded image, the new image is that image plus one layer
(the container's changes, deletions as OCI whiteouts), tagged IMAGE (a reference as pull
takes one: myapp is docker.io/library/myapp:latest; host:5000/app:v2 can then be pushed).
For a container of a flat image (busybox, image import), which has no layers to stack on,
IMAGE is a new flat image, a copy with the changes applied.
An existing image name is refused unless --replace is given; a flat image is not replaced
while a container is made on it, a tag moves (its old image stays for its containers).`,
	ArgsUsage: "CONTAINER IMAGE",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "replace", Usage: "replace IMAGE if it exists (a flat image: not while a container uses it)"},
	},
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 2))
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
