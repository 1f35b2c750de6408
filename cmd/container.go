package cmd

import "github.com/urfave/cli/v2"

// docker's management forms of the container verbs: `container ls -a`,
// `container rm -f web`, `container inspect web`, ... Each is a copy of
// the top-level verb (its own place in the help, its own usage errors),
// added beside `container prune`.
func init() {
	for _, v := range []*cli.Command{Run, Create, Start, Restart, Exec, Attach, Commit, Logs, Stats, Update, Stop, Kill, Wait, Pause, Unpause, Port, Top, Diff, Export, Rename, Rm, Cp, Inspect} {
		c := *v
		Container.Subcommands = append(Container.Subcommands, &c)
	}
	ls := *Ps
	ls.Name, ls.Aliases = "ls", []string{"list", "ps"}
	Container.Subcommands = append(Container.Subcommands, &ls)
}
