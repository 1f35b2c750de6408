package cmd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
)

// Ps is `mydocker ps`.
var Ps = &cli.Command{
	Name:  "ps",
	Usage: "list containers",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also exited and created containers"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only ids"},
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "KEY=VALUE: id, name, status, label, ancestor, network, exited (a key twice: either value)"},
		&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "the N last created containers, in any state"},
		&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "the last created container, in any state"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "full ids and commands"},
		&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "the SIZE column: what each container wrote (its writable layer), and with its image (virtual)"},
		&cli.StringFlag{Name: "format", Usage: "a Go template per container ('table ...' adds a header; 'json': each as one line of JSON): {{.ID}} {{.Image}} {{.Command}} {{.CreatedAt}} {{.RunningFor}} {{.Status}} {{.State}} {{.Ports}} {{.Names}} {{.Labels}} {{.Networks}} {{.Mounts}} {{.Size}}"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 0); err != nil {
			return err
		}
		filters, err := parseFilters(c.StringSlice("filter"))
		if err != nil {
			return err
		}
		quiet := ""
		if c.Bool("quiet") {
			quiet = "{{.ID}}"
		}
		table := "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
		if c.Bool("size") {
			table += "\t{{.Size}}"
		}
		// Measuring walks every writable layer: only when asked, or when the
		// template shows it, as docker decides.
		sized := c.Bool("size") || strings.Contains(c.String("format"), ".Size")
		lf, err := newListOutput(c.String("format"), quiet, table)
		if err != nil {
			return err
		}
		rt, err := runtime(c)
		if err != nil {
			return err
		}
		list, err := rt.Store().List()
		if err != nil {
			return err
		}
		last := c.Int("last")
		if c.Bool("latest") {
			last = 1
		}
		now := time.Now()
		var rows []psRow
		for i := len(list) - 1; i >= 0; i-- { // newest first, as docker
			ct := list[i]
			if last >= 0 && len(rows) == last {
				break
			}
			if !c.Bool("all") && last < 0 && len(filters["status"]) == 0 && !ct.IsRunning() {
				continue
			}
			if !filters.match(ct) {
				continue
			}
			r := rowOf(ct, now, c.Bool("no-trunc"))
			if sized {
				r.Size = sizeText(rt.Sizes(ct))
			}
			rows = append(rows, r)
		}
		return writeList(c.App.Writer, lf, psHeader, rows)
	},
}

// psRow is one container as ps --format sees it: docker's fields.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Status, State, Ports, Names, Labels, Networks string
	Mounts, LocalVolumes, Size                                                               string
}

// psHeader is the header of a table format: each field's column name.
var psHeader = psRow{ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT", RunningFor: "CREATED",
	Status: "STATUS", State: "STATE", Ports: "PORTS", Names: "NAMES", Labels: "LABELS", Networks: "NETWORKS",
	Mounts: "MOUNTS", LocalVolumes: "LOCAL VOLUMES", Size: "SIZE"}

func rowOf(ct *container.Config, now time.Time, full bool) psRow {
	id, cmd := container.ShortID(ct.ID), quoteCommand(ct.Cmd)
	if full {
		id, cmd = ct.ID, `"`+strings.Join(ct.Cmd, " ")+`"`
	}
	var labels, nets, mounts []string
	for k, v := range ct.Labels {
		labels = append(labels, k+"="+v)
	}
	for n := range ct.Networks {
		nets = append(nets, n)
	}
	volumes := 0
	for _, m := range ct.Mounts {
		switch {
		case m.Name != "": // a volume, by its name, as docker's
			mounts = append(mounts, m.Name)
			volumes++
		case m.Source != "": // a bind, by its source
			mounts = append(mounts, m.Source)
		}
	}
	sort.Strings(labels)
	sort.Strings(nets)
	return psRow{ID: id, Image: ct.Image, Command: cmd, CreatedAt: ct.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: container.HumanDuration(now.Sub(ct.Created)) + " ago", Status: ct.StatusText(now), State: ct.State(),
		Ports: ports(ct), Names: ct.Name, Labels: strings.Join(labels, ","), Networks: strings.Join(nets, ","),
		Mounts: strings.Join(mounts, ","), LocalVolumes: strconv.Itoa(volumes), Size: "0B"}
}

// sizeText is ps's SIZE, as docker's: the writable layer's, then the
// virtual size (with the image's) in parentheses; three significant digits.
func sizeText(s container.Sizes) string {
	rw := humanSizePrecision(s.RW, 3)
	if s.Virtual <= 0 {
		return rw
	}
	return rw + " (virtual " + humanSizePrecision(s.Virtual, 3) + ")"
}

// psFilters are ps --filter's values by key; a container must match every
// key, and any value of one.
type psFilters map[string][]string

func parseFilters(specs []string) (psFilters, error) {
	return parseKeyFilters(specs, "id", "name", "status", "label", "ancestor", "network", "exited")
}

func (f psFilters) match(ct *container.Config) bool {
	return matchAll(f, func(k, v string) bool { return matchFilter(ct, k, v) })
}

func matchFilter(ct *container.Config, key, v string) bool {
	switch key {
	case "id":
		return strings.HasPrefix(ct.ID, v)
	case "name":
		return strings.Contains(ct.Name, v)
	case "status":
		if paused := ct.Paused && ct.IsRunning(); paused || v == "paused" {
			return paused && v == "paused"
		}
		return ct.State() == v
	case "label":
		k, want, hasValue := strings.Cut(v, "=")
		got, ok := ct.Labels[k]
		return ok && (!hasValue || got == want)
	case "ancestor":
		return ct.Image == v || ct.Image == strings.TrimSuffix(v, ":latest") || strings.HasPrefix(ct.ImageID, v) || strings.HasPrefix(strings.TrimPrefix(ct.ImageID, "sha256:"), v)
	case "network":
		_, ok := ct.Networks[v]
		return ok || ct.NetworkMode == v
	case "exited":
		return ct.State() == container.StatusExited && strconv.Itoa(ct.ExitCode) == v
	}
	return false
}

// quoteCommand shows a command as docker ps does: quoted, cut at 20 characters.
func quoteCommand(cmd []string) string {
	s := strings.Join(cmd, " ")
	if len(s) > 20 {
		s = s[:19] + "…"
	}
	return `"` + s + `"`
}

// ports shows a running container's published ports as docker ps does:
// 0.0.0.0:8080->80/tcp.
func ports(c *container.Config) string {
	if !c.IsRunning() {
		return ""
	}
	var out []string
	for _, p := range c.Ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Proto))
	}
	return strings.Join(out, ", ")
}
