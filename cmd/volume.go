package cmd

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/container/volume"
)

// Volume is `mydocker volume ...`, as docker's.
var Volume = &cli.Command{
	Name:  "volume",
	Usage: "manage volumes (kept under --data-root, mounted with -v NAME:PATH or --mount)",
	Subcommands: []*cli.Command{{
		Name:      "create",
		Usage:     "create a volume (a random name when none is given)",
		ArgsUsage: "[NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the volume's name"},
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: volume.Driver, Usage: "the volume driver: local"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "a label: KEY=VALUE or KEY"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "a driver option (the local driver takes none)"},
		},
		Action: volumeCreate,
	}, {
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list volumes",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only the names"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "dangling=true|false, name=PART, label=KEY[=VALUE], driver=local"},
			&cli.StringFlag{Name: "format", Usage: "a Go template per volume ('table ...' adds a header): {{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}} {{.Labels}}"},
		},
		Action: volumeList,
	}, {
		Name:      "inspect",
		Usage:     "show volumes as JSON",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template over the JSON: '{{.Mountpoint}}'"},
		},
		Action: volumeInspect,
	}, {
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove volumes (refused while a container, running or not, uses one)",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "a volume that does not exist is no error"}},
		Action: func(c *cli.Context) error {
			rt, err := runtimeAfter(c, minArgs(c, 1))
			if err != nil {
				return err
			}
			return forEach(c, func(name string) error { return rt.RemoveVolume(name, c.Bool("force")) })
		},
	}, {
		Name:  "prune",
		Usage: "remove the anonymous volumes no container uses (-a: every volume no container uses)",
		Flags: []cli.Flag{forceFlag(), &cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "named volumes too"}},
		Action: func(c *cli.Context) error {
			what := "all anonymous local volumes not used by at least one container"
			if c.Bool("all") {
				what = "all local volumes not used by at least one container"
			}
			return prune(c, what, true, func(rt *container.Runtime, rep *container.PruneReport) error {
				return rt.PruneVolumes(c.Bool("all"), rep)
			})
		},
	}},
}

func volumeCreate(c *cli.Context) error {
	if c.NArg() > 1 {
		return Usagef("\"volume create\" takes at most one name: see 'mydocker volume create --help'")
	}
	name := c.Args().First()
	if flag := c.String("name"); flag != "" {
		if name != "" && name != flag {
			return Usagef("conflicting options: either specify --name or provide positional arg, not both")
		}
		name = flag
	}
	if opts := c.StringSlice("opt"); len(opts) > 0 {
		return Usagef("invalid option %q: the local driver of mydocker takes no options", opts[0])
	}
	labels, err := container.ParseLabels(nil, c.StringSlice("label"))
	if err != nil {
		return err
	}
	rt, err := runtime(c)
	if err != nil {
		return err
	}
	v, _, err := rt.Volumes().Create(&volume.Volume{Name: name, Driver: c.String("driver"), Labels: labels})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, v.Name)
	return nil
}

// volumeView is a volume as inspect and ls --format see it: docker's names.
type volumeView struct {
	CreatedAt  string
	Driver     string
	Labels     map[string]string
	Mountpoint string
	Name       string
	Options    map[string]string
	Scope      string
}

func viewOf(v *volume.Volume) volumeView {
	return volumeView{CreatedAt: v.CreatedAt.Local().Format(time.RFC3339), Driver: v.Driver, Labels: v.Labels,
		Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: "local"}
}

// volumeRow is a row of volume ls: Labels as one string, as docker's.
type volumeRow struct{ Name, Driver, Scope, Mountpoint, Labels string }

var volumeHeader = volumeRow{Name: "VOLUME NAME", Driver: "DRIVER", Scope: "SCOPE", Mountpoint: "MOUNTPOINT", Labels: "LABELS"}

func volumeList(c *cli.Context) error {
	if err := exactArgs(c, 0); err != nil {
		return err
	}
	match, err := volumeFilter(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	quiet := ""
	if c.Bool("quiet") {
		quiet = "{{.Name}}"
	}
	tmpl, table, err := listFormat(c.String("format"), quiet, "table {{.Driver}}\t{{.Name}}")
	if err != nil {
		return err
	}
	rt, err := runtime(c)
	if err != nil {
		return err
	}
	list, err := rt.ListVolumes()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 4, ' ', 0)
	lines := []any{}
	if table && !c.Bool("quiet") {
		lines = append(lines, volumeHeader)
	}
	for _, v := range list {
		if !match(v) {
			continue
		}
		var labels []string
		for k, val := range v.Labels {
			labels = append(labels, k+"="+val)
		}
		sort.Strings(labels)
		lines = append(lines, volumeRow{Name: v.Name, Driver: v.Driver, Scope: "local", Mountpoint: v.Mountpoint, Labels: strings.Join(labels, ",")})
	}
	for _, l := range lines {
		s, err := render(tmpl, l)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, s)
	}
	return w.Flush()
}

// volumeFilter reads volume ls's --filter: filters of one key must all be
// of one kind; a volume matches when, for every key, one value matches.
func volumeFilter(list []string) (func(container.VolumeRow) bool, error) {
	by := map[string][]string{}
	for _, f := range list {
		k, v, ok := strings.Cut(f, "=")
		switch k {
		case "dangling":
			if v != "true" && v != "false" && v != "1" && v != "0" {
				return nil, Usagef("invalid filter 'dangling=%s': true or false", v)
			}
		case "name", "label", "driver":
		default:
			return nil, Usagef("invalid filter %q: dangling, name, label or driver", k)
		}
		if !ok {
			return nil, Usagef("bad format of filter %q (expected name=value)", f)
		}
		by[k] = append(by[k], v)
	}
	one := func(k, want string, v container.VolumeRow) bool {
		switch k {
		case "dangling":
			return v.Dangling == (want == "true" || want == "1")
		case "name":
			return strings.Contains(v.Name, want)
		case "driver":
			return v.Driver == want
		}
		key, val, hasVal := strings.Cut(want, "=")
		got, ok := v.Labels[key]
		return ok && (!hasVal || got == val)
	}
	return func(v container.VolumeRow) bool {
		for k, wants := range by {
			any := false
			for _, w := range wants {
				any = any || one(k, w, v)
			}
			if !any {
				return false
			}
		}
		return true
	}, nil
}

func volumeInspect(c *cli.Context) error {
	rt, err := runtimeAfter(c, minArgs(c, 1))
	if err != nil {
		return err
	}
	var out []volumeView
	for _, name := range c.Args().Slice() {
		v, err := rt.Volumes().Get(name)
		if err != nil {
			return err
		}
		out = append(out, viewOf(v))
	}
	if !c.IsSet("format") {
		return printJSON(out)
	}
	tmpl, err := parseFormat(c.String("format"))
	if err != nil {
		return err
	}
	for _, v := range out {
		s, err := render(tmpl, v)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, s)
	}
	return nil
}
