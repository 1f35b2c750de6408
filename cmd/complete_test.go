package cmd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestCompleteFromTheCommandList(t *testing.T) {
	app := &cli.App{Name: "mydocker", Commands: Commands(), Flags: []cli.Flag{
		&cli.StringFlag{Name: "root"}, &cli.StringFlag{Name: "log-level"}, &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
	}}
	c := &completer{app: app}
	for _, tc := range []struct {
		words []string
		cur   string
		want  []string
		files bool
	}{
		{nil, "pa", []string{"pause"}, false},
		{[]string{"--root", "/x"}, "pu", []string{"pull", "push"}, false},
		{nil, "__", nil, false}, // hidden verbs are not offered
		{[]string{"ps"}, "--no", []string{"--no-trunc"}, false},
		{[]string{"ps", "-a"}, "--l", []string{"--last", "--latest"}, false},
		{nil, "--log-l", []string{"--log-level"}, false},
		{[]string{"--log-level"}, "w", []string{"warn"}, false},
		{[]string{"run", "--net"}, "ho", []string{"host"}, false},
		{[]string{"run", "-v"}, "", nil, true}, // a path
		{[]string{"network"}, "co", []string{"connect"}, false},
		{[]string{"network", "rm"}, "--d", []string{"--dry-run"}, false},
		{[]string{"completion"}, "", []string{"bash", "zsh", "fish"}, false},
		{[]string{"image", "import"}, "", nil, true},
		{[]string{"run", "-d", "busybox"}, "", nil, true}, // the container's command
		{[]string{"frobnicate"}, "", nil, false},
		{[]string{"container"}, "l", []string{"logs", "ls"}, false},
		{[]string{"container", "rm", "-f"}, "--f", []string{"--force"}, false},
	} {
		got, files := c.complete(tc.words, tc.cur)
		if !reflect.DeepEqual(got, tc.want) || files != tc.files {
			t.Errorf("complete(%q, %q) = %q, files %v; want %q, files %v", tc.words, tc.cur, got, files, tc.want, tc.files)
		}
	}
}

// Every verb the completion knows the arguments of is one of ours (or one
// being built on another branch: start, restart, attach, create).
func TestCompletePositionalsNameVerbs(t *testing.T) {
	elsewhere := map[string]bool{"start": true, "restart": true, "attach": true, "create": true}
	for path := range positionals {
		cmds, ok := Commands(), true
		for _, name := range strings.Fields(path) {
			c := findCommand(cmds, name)
			if c == nil || c.Name != name {
				ok = false
				break
			}
			cmds = c.Subcommands
		}
		if !ok && !elsewhere[path] {
			t.Errorf("positionals names %q, which is no verb's path (by its name, not an alias)", path)
		}
	}
}
