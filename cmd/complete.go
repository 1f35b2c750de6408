package cmd

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/container"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Shell completion, as docker's (cobra's): the scripts of `completion
// bash|zsh|fish` hand the words typed so far to the hidden `__complete`
// verb, which answers from the CLI's own command and flag list (the same
// Commands() the parser uses, so a new verb or flag completes without a
// change here) and, for names, from the state: containers, images,
// networks, volumes. It prints one candidate a line, then a directive line:
// ":files" (the shell may offer file names instead) or ":nofiles".

// argKind is what a positional argument or a flag's value names.
type argKind int

const (
	argNone argKind = iota
	argFile
	argContainer
	argImage
	argNetwork
	argVolume
)

// positionals are the kinds of each verb's positional arguments, by the
// verb's path under the commands' names, not their aliases ("network
// remove" for `network rm`); the last kind repeats ("rm C C C").
// Verbs not listed take files (import, load -i, ...), as cobra's default.
var positionals = map[string][]argKind{
	"exec": {argContainer, argFile}, "logs": {argContainer}, "stop": {argContainer}, "update": {argContainer}, "export": {argContainer}, "kill": {argContainer},
	"wait": {argContainer}, "pause": {argContainer}, "unpause": {argContainer}, "port": {argContainer, argNone},
	"top": {argContainer, argNone}, "diff": {argContainer}, "rename": {argContainer, argNone}, "rm": {argContainer},
	"inspect": {argContainer}, "commit": {argContainer, argNone}, "stats": {argContainer},
	"start": {argContainer}, "restart": {argContainer}, "attach": {argContainer},
	"run": {argImage, argFile}, "create": {argImage, argFile}, "rmi": {argImage}, "image rm": {argImage},
	"image inspect": {argImage}, "image export": {argImage}, "push": {argImage}, "tag": {argImage, argNone},
	"save": {argImage}, "history": {argImage}, "image history": {argImage}, "image push": {argImage}, "image tag": {argImage, argNone}, "image save": {argImage},
	"network remove": {argNetwork}, "network inspect": {argNetwork}, "network connect": {argNetwork, argContainer},
	"network disconnect": {argNetwork, argContainer}, "completion": {argNone},
	"volume rm": {argVolume}, "volume inspect": {argVolume}, "volume create": {argNone}, "volume ls": {argNone},
	"ps": {argNone}, "container ls": {argNone}, "images": {argNone}, "image ls": {argNone}, "network list": {argNone}, "network create": {argNone},
	"version": {argNone}, "info": {argNone}, "pull": {argNone}, "login": {argNone}, "logout": {argNone},
}

// flagValues are the values of the flags that take a known set, or names.
var flagValues = map[string]func(*completer) []string{
	"net":        func(c *completer) []string { return append([]string{"bridge", "none", "host"}, c.names(argNetwork)...) },
	"log-level":  func(*completer) []string { return []string{"debug", "info", "warn", "error"} },
	"log-format": func(*completer) []string { return []string{"text", "json", "script"} },
	"filter": func(*completer) []string {
		return []string{"id=", "name=", "status=", "label=", "ancestor=", "network=", "exited="}
	},
}

// Complete is the hidden `__complete WORD... CURRENT` verb the completion
// scripts call.
var Complete = &cli.Command{
	Name:            "__complete",
	Hidden:          true,
	SkipFlagParsing: true,
	Usage:           "the completion scripts' helper: candidates for the last word (internal)",
	Action: func(c *cli.Context) error {
		// Completion never narrates, and never changes anything.
		logrus.SetOutput(io.Discard)
		args := c.Args().Slice()
		cur := ""
		if len(args) > 0 {
			cur, args = args[len(args)-1], args[:len(args)-1]
		}
		cands, files := (&completer{app: c.App}).complete(args, cur)
		for _, s := range cands {
			fmt.Fprintln(c.App.Writer, s)
		}
		if files {
			fmt.Fprintln(c.App.Writer, ":files")
		} else {
			fmt.Fprintln(c.App.Writer, ":nofiles")
		}
		return nil
	},
}

type completer struct {
	app            *cli.App
	root, dataRoot string // from the words, as the command will run
	rt             *container.Runtime
}

// complete returns the candidates for cur after words (the command line
// without the program's name), and whether files fit there too.
func (c *completer) complete(words []string, cur string) (cands []string, files bool) {
	flags, cmds := c.app.Flags, c.app.Commands
	var path []string // the verb and subcommand typed
	var cmd *cli.Command
	npos := 0
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			break
		}
		if isFlag(w) {
			if takesValue(flags, w) && i+1 < len(words) {
				c.global(w, words[i+1], cmd == nil)
				i++
			}
			continue
		}
		if sub := findCommand(cmds, w); sub != nil && npos == 0 {
			cmd, path = sub, append(path, sub.Name)
			flags, cmds = sub.Flags, sub.Subcommands
			continue
		}
		npos++
	}
	// The value of the flag just typed.
	if n := len(words); n > 0 && isFlag(words[n-1]) && takesValue(flags, words[n-1]) {
		if f := findFlag(flags, strings.TrimLeft(words[n-1], "-")); f != nil {
			if values, ok := flagValues[f.Names()[0]]; ok {
				return filterPrefix(values(c), cur), false
			}
		}
		return nil, true
	}
	if strings.HasPrefix(cur, "-") {
		return filterPrefix(flagNames(flags), cur), false
	}
	if cmd == nil && npos > 0 {
		return nil, false // not a verb of ours
	}
	if cmd == nil || len(cmds) > 0 && npos == 0 {
		// A verb, or a subcommand of a management verb (network, image).
		var out []string
		for _, s := range cmds {
			if !s.Hidden {
				out = append(out, s.Name)
			}
		}
		return filterPrefix(out, cur), false
	}
	verb := strings.Join(path, " ")
	if verb == "completion" {
		return filterPrefix([]string{"bash", "zsh", "fish"}, cur), false
	}
	kinds, ok := positionals[verb]
	if !ok && len(path) == 2 && path[0] == "container" {
		kinds, ok = positionals[path[1]] // `container rm` is `rm`
	}
	if !ok {
		return nil, true
	}
	kind := kinds[min(npos, len(kinds)-1)]
	if kind == argFile {
		return nil, true
	}
	return filterPrefix(c.names(kind), cur), false
}

// global notes a global flag's value that changes where the names are read.
func (c *completer) global(flag, value string, beforeVerb bool) {
	if !beforeVerb {
		return
	}
	switch strings.TrimLeft(flag, "-") {
	case "root":
		c.root = value
	case "data-root":
		c.dataRoot = value
	}
}

// names lists the containers (names and short ids), images or networks,
// read from the state on a plan kernel: nothing changes, nothing is
// narrated. Without root there is nothing to read: no names.
func (c *completer) names(kind argKind) []string {
	if c.rt == nil {
		root, data := c.root, c.dataRoot
		for _, f := range c.app.Flags {
			if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "root" && root == "" {
				root = envOr(sf.EnvVars, sf.Value)
			} else if ok && sf.Name == "data-root" && data == "" {
				data = envOr(sf.EnvVars, sf.Value)
			}
		}
		log := logrus.StandardLogger()
		c.rt = &container.Runtime{Paths: container.Paths{Root: root, DataRoot: data},
			K: kernel.NewPlan(kernel.NewReal(log), log)}
	}
	var out []string
	switch kind {
	case argContainer:
		list, _ := c.rt.Store().List()
		for _, ct := range list {
			out = append(out, ct.Name)
		}
		for _, ct := range list {
			out = append(out, container.ShortID(ct.ID))
		}
	case argImage:
		rows, _ := c.rt.Catalog().List()
		seen := map[string]bool{}
		for _, r := range rows {
			name := r.Repository
			if r.ID != "" && r.Repository != "<none>" {
				name += ":" + r.Tag
			}
			if r.Repository != "<none>" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	case argNetwork:
		nws, _ := c.rt.Networks().List()
		for _, n := range nws {
			out = append(out, n.Name)
		}
	case argVolume:
		vols, _ := c.rt.ListVolumes()
		for _, v := range vols {
			out = append(out, v.Name)
		}
	}
	return out
}

// flagNames are a command's flags as typed: --name, and -n for one letter.
func flagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// envOr is the first of envs that is set, else def: a global flag's value
// when the command line does not give it.
func envOr(envs []string, def string) string {
	for _, e := range envs {
		if v, ok := os.LookupEnv(e); ok {
			return v
		}
	}
	return def
}

func filterPrefix(list []string, prefix string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}
