package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Prune verbs, as docker's: without -f they ask first on a terminal; with
// no terminal to ask on (a script, CI) they refuse without -f, as docker
// does in effect (its prompt reads end-of-file as "no"). `network prune`
// never asked, and scripts rely on that: it accepts -f and goes on not
// asking (the networks it removes are unused and cheap to make again).

func forceFlag() cli.Flag {
	return &cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"}
}

// Container is `mydocker container ...`, docker's management command.
var Container = &cli.Command{
	Name:  "container",
	Usage: "manage containers",
	Subcommands: []*cli.Command{{
		Name:  "prune",
		Usage: "remove all stopped containers",
		Flags: []cli.Flag{forceFlag(), dryRunFlag()},
		Action: func(c *cli.Context) error {
			return prune(c, " all stopped containers.", true, (*container.Runtime).PruneContainers)
		},
	}},
}

// System is `mydocker system ...`.
var System = &cli.Command{
	Name:  "system",
	Usage: "manage mydocker as a whole",
	Subcommands: []*cli.Command{{
		Name: "prune",
		Usage: "remove stopped containers, unused networks and dangling images (-a: every unused image), " +
			"then what no record owns (layers, state directories, temp files, cgroups, mounts, links and rules)",
		Flags: []cli.Flag{forceFlag(), dryRunFlag(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every image no container uses, not only the dangling ones"},
			&cli.BoolFlag{Name: "volumes", Usage: "remove the anonymous volumes no container uses too"}},
		Action: func(c *cli.Context) error {
			what := ":\n  - all stopped containers\n  - all networks not used by at least one container\n"
			if c.Bool("volumes") {
				what += "  - all anonymous volumes not used by at least one container\n"
			}
			if c.Bool("all") {
				what += "  - all images without at least one container associated to them\n"
			} else {
				what += "  - all dangling images\n"
			}
			what += "  - container layers, state directories, temp files, cgroups, mounts, links and iptables rules that no record owns\n"
			return prune(c, what, true, func(rt *container.Runtime, rep *container.PruneReport) error {
				err := rt.SystemPrune(c.Bool("all"), rep)
				if c.Bool("volumes") {
					err = errors.Join(err, rt.PruneVolumes(false, rep))
				}
				return err
			})
		},
	}, {
		Name:   "df",
		Usage:  "show the space images and containers take, and what a prune would reclaim",
		Action: systemDF,
	}},
}

// pruneNetworks is `network prune`'s action: it does not ask (see above).
func pruneNetworks(c *cli.Context) error {
	return prune(c, "", false, (*container.Runtime).PruneNetworks)
}

// prune runs one prune verb: confirmed (unless what is ""), then done, then
// what it removed printed (with the total of the files, if total).
func prune(c *cli.Context, what string, total bool, do func(*container.Runtime, *container.PruneReport) error) error {
	if c.NArg() > 0 {
		return Usagef("%s takes no arguments: see 'mydocker %s --help'", verbName(c), verbName(c))
	}
	if what != "" {
		if ok, err := confirm(c, what); !ok {
			return err
		}
	}
	rt, err := runtime(c)
	if err != nil {
		return err
	}
	rep := &container.PruneReport{}
	err = do(rt, rep)
	printPruned(rt.K, rep, total)
	return err
}

// confirm asks, as docker does, unless -f or --dry-run; ok is false when
// the prune must not go on (err says why, or nil: the user said no). what
// follows "This will remove", as docker words it: " all stopped
// containers." or ":\n  - a list\n".
func confirm(c *cli.Context, what string) (ok bool, err error) {
	if c.Bool("force") || c.Bool("dry-run") {
		return true, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return false, Usagef("%s: not confirmed, and there is no terminal to ask on: pass -f (--force)", verbName(c))
	}
	fmt.Printf("WARNING! This will remove%s\nAre you sure you want to continue? [y/N] ", what)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

// verbName is a subcommand's name with its parent's: "system prune".
func verbName(c *cli.Context) string {
	return c.Lineage()[1].Command.Name + " " + c.Command.Name
}

// printPruned prints what a prune removed in docker's form (sections, then
// the total for the verbs that remove files); a dry run says "would".
func printPruned(k kernel.Kernel, rep *container.PruneReport, total bool) {
	_, dry := k.(*kernel.Plan)
	verb := "Deleted"
	if dry {
		verb = "Would Delete"
	}
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Printf("%s %s:\n%s\n\n", verb, title, strings.Join(items, "\n"))
	}
	section("Containers", rep.Containers)
	section("Networks", rep.Networks)
	section("Volumes", rep.Volumes)
	section("Images", rep.Images)
	section("Orphans", rep.Orphans)
	if total {
		if dry {
			fmt.Printf("Total space that would be reclaimed: %s\n", humanSize(rep.Reclaimed))
		} else {
			fmt.Printf("Total reclaimed space: %s\n", humanSize(rep.Reclaimed))
		}
	}
	if dry {
		kernel.Report(k, "%d containers, %d networks and %d orphans would be removed",
			len(rep.Containers), len(rep.Networks), len(rep.Orphans))
	}
}

// humanSize is docker's (go-units HumanSize): decimal units, 4 significant
// digits, "0B", "212B", "1.234kB".
func humanSize(n int64) string { return humanSizePrecision(n, 4) }

// humanSizePrecision is go-units' HumanSizeWithPrecision: decimal units,
// precision significant digits (ps -s shows three).
func humanSizePrecision(n int64, precision int) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.*g%s", precision, f, units[i])
}

// systemDF is `system df`: the space images and containers take, as
// docker's table.
func systemDF(c *cli.Context) error {
	rt, err := runtimeAfter(c, exactArgs(c, 0))
	if err != nil {
		return err
	}
	du, err := rt.DiskUsage()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	for _, row := range []struct {
		name string
		u    container.UsageRow
	}{{"Images", du.Images}, {"Containers", du.Containers}, {"Local Volumes", du.Volumes}, {"Build Cache", container.UsageRow{}}} {
		pct := 0
		if row.u.Size > 0 {
			pct = int(100 * row.u.Reclaimable / row.u.Size)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s (%d%%)\n", row.name, row.u.Total, row.u.Active,
			image.HumanSize(row.u.Size), image.HumanSize(row.u.Reclaimable), pct)
	}
	return w.Flush()
}
