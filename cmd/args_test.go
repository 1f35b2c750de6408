package cmd

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestInterspersed(t *testing.T) {
	app := &cli.App{
		Flags:    []cli.Flag{&cli.StringFlag{Name: "root"}, &cli.StringFlag{Name: "log-level"}},
		Commands: Commands(),
	}
	for _, tc := range []struct{ in, want string }{
		{"rm web -f", "rm --force web"},
		{"--root /r --log-level warn rm web -f", "--root /r --log-level warn rm --force web"},
		{"stop web -t 1", "stop --time 1 web"},
		{"stop web --time=1 db", "stop --time=1 web db"},
		{"logs web -f", "logs --follow web"},
		{"network create n1 --subnet 10.1.0.0/24", "network create --subnet 10.1.0.0/24 n1"},
		{"rm a -f -- -b", "rm --force -- a -b"},
		// run and exec: the image or container ends mydocker's flags.
		{"run --rm busybox ls -l", "run --rm busybox ls -l"},
		{"run -dit --name x busybox sh -c 'a -b'", "run -dit --name x busybox sh -c 'a -b'"},
		{"exec box ls -la", "exec box ls -la"},
		// The same in their `container VERB` forms.
		{"container run --rm busybox ls -l", "container run --rm busybox ls -l"},
		{"container rm web -f", "container rm --force web"},
		{"container ls -a", "container ls --all"},
		// One-letter aliases under the flag's name: urfave/cli refuses
		// both forms of one flag, docker users mix them.
		{"run -e A=1 --env B=2 -p 80 busybox env -e", "run --env A=1 --env B=2 --publish 80 busybox env -e"},
		{"rm -f web", "rm --force web"},
		{"logs -n=2 web", "logs --tail=2 web"},
		// Unknown verbs and flags pass through: the parser says what is wrong.
		{"bogus web -a", "bogus web -a"},
		{"start web -a", "start --attach web"},
		{"create --name x busybox sh -c 'a -b'", "create --name x busybox sh -c 'a -b'"},
		{"ps --bogus", "ps --bogus"},
		{"rm", "rm"},
	} {
		got := strings.Join(Interspersed(app, append([]string{"mydocker"}, strings.Fields(tc.in)...))[1:], " ")
		if got != tc.want {
			t.Errorf("%q -> %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnknownFlagIsOneLine(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"flag provided but not defined: -bogus", "unknown flag: --bogus. See 'mydocker ps --help'"},
		{"flag provided but not defined: -x", "unknown flag: -x. See 'mydocker ps --help'"},
		{"invalid value \"x\" for flag -t: parse error", "invalid value \"x\" for flag -t: parse error. See 'mydocker ps --help'"},
	} {
		err := usageErrorOf("mydocker", "ps")(nil, errString(tc.err), false)
		if err.Error() != tc.want || ExitCode(err) != ExitFailure {
			t.Errorf("%q -> %q (exit %d), want %q (exit 125)", tc.err, err, ExitCode(err), tc.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
