package cmd

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Inspect is `mydocker inspect`.
var Inspect = &cli.Command{
	Name:      "inspect",
	Usage:     "show containers' configuration and state as JSON",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action: func(c *cli.Context) error {
		if err := minArgs(c, 1); err != nil {
			return err
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
			out = append(out, ct.Inspect())
		}
		return printJSON(out)
	},
}

// printJSON prints v as inspect does: indented, HTML left alone.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
