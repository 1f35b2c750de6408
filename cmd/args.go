package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// The command line as docker reads it, in one place in front of urfave/cli
// (whose flag parsing, Go's flag package, stops at the first positional
// argument and prints the whole help on a bad flag).

// Interspersed moves the flags typed after a verb's positional arguments
// before them, as docker accepts them: `rm web -f`, `logs web -f`, `stop
// web -t 1`, `network create n1 --subnet 10.1.0.0/24`. For run and exec
// the first positional argument (the image, the container) ends the flags:
// what follows is the container's command. `--` ends them everywhere.
func Interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// The global flags, before the verb.
	for i < len(args) && isFlag(args[i]) {
		out = append(out, args[i])
		if takesValue(app.Flags, args[i]) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
		i++
	}
	cmds, parent := app.Commands, ""
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		out = append(out, args[i])
		i++
		if len(c.Subcommands) > 0 {
			cmds, parent = c.Subcommands, c.Name
			continue
		}
		if c.SkipFlagParsing || c.Hidden {
			break
		}
		stops := stopsAtFirstArg[c.Name] && (parent == "" || parent == "container")
		var flags, pos []string
		dashdash := false
		for ; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "--":
				dashdash = true
				pos = append(pos, args[i+1:]...)
				i = len(args)
			case isFlag(a):
				flags = append(flags, canonical(c.Flags, a))
				if takesValue(c.Flags, a) && i+1 < len(args) {
					i++
					flags = append(flags, args[i])
				}
			case stops:
				pos = append(pos, args[i:]...) // the container's command
				i = len(args)
			default:
				pos = append(pos, a)
			}
		}
		if dashdash {
			flags = append(flags, "--")
		}
		return append(append(out, flags...), pos...)
	}
	return append(out, args[i:]...)
}

// stopsAtFirstArg are the top-level verbs (and their `container VERB`
// forms) whose first argument starts a command of the container's, with
// flags of its own (not `network create`).
var stopsAtFirstArg = map[string]bool{"run": true, "exec": true, "create": true}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// canonical writes a one-letter alias under the flag's name (`-e` as
// `--env`): urfave/cli refuses both forms of one flag in a command line,
// and docker users mix them (`-e A=1 --env B=2`).
func canonical(flags []cli.Flag, a string) string {
	if strings.HasPrefix(a, "--") || len(a) < 2 {
		return a
	}
	name, value, hasValue := strings.Cut(a[1:], "=")
	if len(name) != 1 {
		return a // combined short flags (-dit), or a long name with one dash
	}
	f := findFlag(flags, name)
	if f == nil || len(f.Names()[0]) == 1 {
		return a
	}
	if hasValue {
		return "--" + f.Names()[0] + "=" + value
	}
	return "--" + f.Names()[0]
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether flag token a (`-t`, `--time`, `-dit`) needs
// the next argument as its value: not when it carries one (`--time=1`), not
// for a boolean, and for combined short flags as their last one does.
func takesValue(flags []cli.Flag, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	f := findFlag(flags, name)
	if f == nil && !strings.HasPrefix(a, "--") && len(name) > 1 {
		f = findFlag(flags, name[len(name)-1:]) // -dit: as -t
	}
	if f == nil {
		return false // unknown: the parser will say so
	}
	_, isBool := f.(*cli.BoolFlag)
	return !isBool
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// OneLineErrors makes usage errors one line, as docker's: an unknown verb
// (`mydocker: 'x' is not a mydocker command. See 'mydocker --help'`, exit
// 1, as docker) and a bad flag (`unknown flag: --x. See 'mydocker rm
// --help'`, exit 125), never the whole help on stdout.
func OneLineErrors(app *cli.App) {
	app.CommandNotFound = func(c *cli.Context, verb string) {
		fmt.Fprintf(os.Stderr, "%s: '%s' is not a %s command. See '%s --help'\n", app.Name, verb, app.Name, app.Name)
		os.Exit(1)
	}
	app.OnUsageError = usageErrorOf("", app.Name)
	// Every process walks every verb here: a command line is only joined
	// when a usage error needs it, and a prefix only for verbs with
	// subcommands.
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = usageErrorOf(prefix, c.Name)
			if len(c.Subcommands) > 0 {
				walk(prefix+" "+c.Name, c.Subcommands)
			}
		}
	}
	walk(app.Name, app.Commands)
}

// usageErrorOf is the usage error handler of the command line prefix name
// (prefix empty: name alone).
func usageErrorOf(prefix, name string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		cmdline := name
		if prefix != "" {
			cmdline = prefix + " " + name
		}
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag: -" + strings.TrimLeft(f, "-")
			if len(strings.TrimLeft(f, "-")) > 1 {
				msg = "unknown flag: --" + strings.TrimLeft(f, "-")
			}
		}
		return Usagef("%s. See '%s --help'", msg, cmdline)
	}
}
