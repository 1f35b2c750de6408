package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/network"
)

// Inspect is `mydocker inspect`.
var Inspect = &cli.Command{
	Name:      "inspect",
	Usage:     "show containers' (or images', networks') configuration and state as JSON",
	ArgsUsage: "NAME|ID [NAME|ID...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template over the JSON, as docker's: '{{.State.Pid}}', '{{.NetworkSettings.IPAddress}}', '{{json .Config.Env}}'"},
		&cli.StringFlag{Name: "type", Usage: "only this kind of object: container, image or network (default: the first that has the name, in that order)"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		kind := c.String("type")
		switch kind {
		case "", "container", "image", "network":
		default:
			return Usagef("invalid --type %q: container, image or network", kind)
		}
		tmpl, err := formatFlag(c)
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		var out []any
		for _, ref := range c.Args().Slice() {
			obj, err := inspectObject(rt, kind, ref)
			if err != nil {
				return err
			}
			out = append(out, obj)
		}
		return writeInspect(c.App.Writer, tmpl, out)
	},
}

// inspectObject finds ref as docker's inspect does: a container, else an
// image, else a network (or only the --type asked for).
func inspectObject(rt *container.Runtime, kind, ref string) (any, error) {
	if kind == "" || kind == "container" {
		ct, err := rt.Store().Get(ref)
		if err == nil {
			insp := ct.Inspect()
			insp.LogPath = rt.Paths.LogPath(ct.ID)
			return insp, nil
		}
		if kind != "" || !errors.Is(err, container.ErrNotExist) {
			return nil, err
		}
	}
	if kind == "" || kind == "image" {
		im, err := rt.Catalog().Inspect(ref)
		if err == nil {
			return im, nil
		}
		if kind != "" {
			return nil, err
		}
	}
	name, err := rt.Networks().Resolve(ref)
	if err == nil {
		var nw *network.Network
		if nw, err = rt.Networks().Inspect(name); err == nil {
			return nw.Docker(), nil
		}
	}
	if kind == "" {
		return nil, fmt.Errorf("%w, image or network: %s", container.ErrNotExist, ref)
	}
	return nil, err
}

// printJSON prints v as inspect does: indented, HTML left alone.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
