package cmd

import (
	"encoding/json"
	"os"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Inspect is `mydocker inspect`.
var Inspect = &cli.Command{
	Name:      "inspect",
	Usage:     "show containers' configuration and state as JSON",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template over the JSON, as docker's: '{{.State.Pid}}', '{{.NetworkSettings.IPAddress}}', '{{json .Config.Env}}'"},
	},
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
		}
		var tmpl *template.Template
		if c.IsSet("format") {
			var err error
			if tmpl, err = parseFormat(c.String("format")); err != nil {
				return err
			}
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		var out []container.Inspection
		for _, ref := range c.Args().Slice() {
			ct, err := rt.Store().Get(ref)
			if err != nil {
				return err
			}
			insp := ct.Inspect()
			insp.LogPath = rt.Paths.LogPath(ct.ID)
			out = append(out, insp)
		}
		return writeInspect(c.App.Writer, tmpl, out)
	},
}

// printJSON prints v as inspect does: indented, HTML left alone.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
