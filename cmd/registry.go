package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/archive"
)

// The image verbs of the store: pull, push, tag, rmi, load, save, and
// image inspect / prune.

// Pull is `mydocker pull`.
var Pull = &cli.Command{
	Name:      "pull",
	Usage:     "fetch an image from a registry (docker.io by default; plain http for loopback and $" + image.InsecureEnv + ")",
	ArgsUsage: "[HOST[:PORT]/]NAME[:TAG|@sha256:DIGEST]",
	Flags:     []cli.Flag{&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the reference"}},
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 1))
		if err != nil {
			return err
		}
		store := rt.ImageStore()
		if !c.Bool("quiet") && term.IsTerminal(int(os.Stdout.Fd())) {
			store.Progress = os.Stdout
		}
		rec, ref, err := store.Pull(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		if !c.Bool("quiet") {
			fmt.Printf("Digest: %s\nStatus: Downloaded image %s for %s\n", rec.Manifest, rec.ID[:19], image.FamiliarString(ref.Name()))
		}
		fmt.Println(ref.Name())
		return nil
	},
}

// Push is `mydocker push`.
var Push = &cli.Command{
	Name:      "push",
	Usage:     "send an image to the registry its name says",
	ArgsUsage: "[HOST[:PORT]/]NAME[:TAG]",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 1))
		if err != nil {
			return err
		}
		digest, err := rt.ImageStore().Push(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		fmt.Printf("%s: digest: %s\n", c.Args().First(), digest)
		return nil
	},
}

// Tag is `mydocker tag`.
var Tag = &cli.Command{
	Name:      "tag",
	Usage:     "give an image another name",
	ArgsUsage: "SOURCE TARGET",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 2))
		if err != nil {
			return err
		}
		return rt.ImageStore().Tag(c.Args().Get(0), c.Args().Get(1))
	},
}

var imageRm = &cli.Command{
	Name:      "rm",
	Aliases:   []string{"remove"},
	Usage:     "remove images (a tag untags; an image goes with its last tag; refused while a container uses it)",
	ArgsUsage: "IMAGE [IMAGE...]",
	Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "even if containers use it, or it has several tags"}},
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, minArgs(c, 1))
		if err != nil {
			return err
		}
		var errs []error
		for _, ref := range c.Args().Slice() {
			did, err := rt.RemoveImage(ref, c.Bool("force"))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Println(strings.Join(did, "\n"))
		}
		return errors.Join(errs...)
	},
}

// Rmi is `mydocker rmi`, the same as `mydocker image rm`.
var Rmi = &cli.Command{Name: "rmi", Usage: imageRm.Usage, ArgsUsage: imageRm.ArgsUsage, Flags: imageRm.Flags, Action: imageRm.Action}

var imageInspect = &cli.Command{
	Name:      "inspect",
	Usage:     "show images as JSON, in docker's shape",
	ArgsUsage: "IMAGE [IMAGE...]",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, minArgs(c, 1))
		if err != nil {
			return err
		}
		var out []any
		for _, ref := range c.Args().Slice() {
			im, err := rt.Catalog().Inspect(ref)
			if err != nil {
				return err
			}
			out = append(out, im)
		}
		return printJSON(out)
	},
}

var imagePrune = &cli.Command{
	Name:  "prune",
	Usage: "remove untagged images no container uses, and the layers and blobs no image names",
	Action: func(c *cli.Context) error {
		rt, err := runtimeAfter(c, exactArgs(c, 0))
		if err != nil {
			return err
		}
		gone, err := rt.PruneImages()
		for _, id := range gone {
			fmt.Println("deleted: " + id)
		}
		return err
	},
}

// Load is `mydocker load`.
var Load = &cli.Command{
	Name:  "load",
	Usage: "load images from a docker save tar, an OCI archive or an OCI layout directory (-i, or stdin)",
	Flags: []cli.Flag{&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read FILE (or DIR) instead of stdin"}},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		if c.String("input") == "" && term.IsTerminal(int(os.Stdin.Fd())) {
			return Usagef("load: give -i FILE, or an archive on stdin (not a terminal)")
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		loaded, err := rt.ImageStore().Load(c.String("input"), os.Stdin)
		if err != nil {
			return err
		}
		for _, l := range loaded {
			if len(l.Tags) == 0 {
				fmt.Println("Loaded image ID: " + l.ID)
			}
			for _, t := range l.Tags {
				fmt.Println("Loaded image: " + image.FamiliarString(t.Name()))
			}
		}
		return nil
	},
}

// Save is `mydocker save`.
var Save = &cli.Command{
	Name:      "save",
	Usage:     "write images to a tar that docker, podman and `mydocker load` read (-o FILE, or stdout)",
	ArgsUsage: "IMAGE [IMAGE...]",
	Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of stdout"}},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		err = archive.WriteOut(c.String("output"), os.Stdout, func(w io.Writer) error { return rt.ImageStore().Save(c.Args().Slice(), w) })
		if errors.Is(err, archive.ErrTerminal) {
			return Usagef("save: %v", err)
		}
		return err
	},
}
