// mydocker is a small daemonless container runtime with bridge networking
// that narrates every change it makes to the kernel.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/cmd"
	"github.com/mydocker/mydocker/container/reaper"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
	"github.com/mydocker/mydocker/internal/phases"
	// Its constructor joins a container's namespaces before Go starts, for
	// exec; for every other verb it does nothing.
	_ "github.com/mydocker/mydocker/nsenter"
)

const usage = `a small daemonless container runtime with bridge networking.
Every change it makes to the kernel is logged on stderr with the shell command that does the same.
Quiet:              mydocker -q run ...  (the same as --log-level warn, or MYDOCKER_LOG_LEVEL=warn)
Only the commands:  mydocker --log-format script run ...  (the steps as a runnable shell script)`

func newApp() *cli.App {
	return &cli.App{
		Name:                      "mydocker",
		Usage:                     usage,
		Version:                   version(),
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/var/run/mydocker", EnvVars: []string{"MYDOCKER_ROOT"}, Usage: "state directory (containers, networks, IPAM)"},
			&cli.StringFlag{Name: "data-root", Value: "/var/lib/mydocker", EnvVars: []string{"MYDOCKER_DATA_ROOT"}, Usage: "images and container layers"},
			&cli.StringFlag{Name: "log-level", Aliases: []string{"l"}, Value: "info", EnvVars: []string{"MYDOCKER_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no narration: only warnings and errors (the same as --log-level warn)"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"MYDOCKER_LOG_FORMAT"}, Usage: "text, json, or script (the steps as a runnable shell script)"},
		}, cmd.ClusterFlags()...),
		Before:   setupLogging,
		Commands: cmd.Commands(),
		// Errors are printed once, by main, as one line.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// version is what --version prints.
func version() string {
	v, commit, _ := cmd.Build()
	return v + ", build " + commit
}

func setupLogging(c *cli.Context) error {
	// -q wins over --log-level and MYDOCKER_LOG_LEVEL: it is typed for this
	// one command. Set on the flag, it reaches the processes mydocker starts
	// (init, shim), which are given --log-level.
	if c.Bool("quiet") {
		if err := c.Set("log-level", "warn"); err != nil {
			return err
		}
	}
	if err := configureLogging(c.String("log-level"), c.String("log-format"), c.Args().Slice()); err != nil {
		return err
	}
	return cmd.SetupCluster(c)
}

// configureLogging sets logrus's level, format and hooks for one command:
// args are the verb and what follows it.
func configureLogging(level, format string, args []string) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	lvl, err := logrus.ParseLevel(level)
	if err != nil || lvl > logrus.DebugLevel || lvl < logrus.ErrorLevel {
		return cmd.Usagef("invalid --log-level %q (debug, info, warn or error)", level)
	}
	logrus.SetLevel(lvl)
	switch format {
	case "text":
		logrus.SetFormatter(narrate.TextFormatter{})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	case "script":
		logrus.SetFormatter(kernel.ScriptFormatter{})
		// The processes mydocker starts (init, shim) add their steps to
		// the same script: only the command the user typed starts it.
		if !cmd.Internal(verb) {
			fmt.Fprint(os.Stderr, kernel.ScriptHeader)
		}
	default:
		return cmd.Usagef("invalid --log-format %q (text, json or script)", format)
	}
	logrus.SetOutput(os.Stderr)
	logrus.AddHook(narrate.NewSourceHook())
	// Only a crashtest build has the crash-injection switch; elsewhere a no-op.
	kernel.ArmCrash(cmd.CrashKey(args))
	return nil
}

func main() {
	phases.Begin()
	args := os.Args
	// Called as mydocker-init: pid 1 of a container run with --init.
	if args[0] == reaper.Name {
		os.Exit(reaper.Main(args[1:]))
	}
	// Called as "netsetgo" (a symlink to mydocker), behave as that tool.
	if filepath.Base(args[0]) == "netsetgo" {
		args = append([]string{"mydocker", "netsetgo"}, args[1:]...)
	}
	app := newApp()
	cmd.OneLineErrors(app)
	err := app.Run(cmd.Interspersed(app, args))
	phases.Mark("done")
	if err == nil {
		return
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ec.Error() == "" {
		os.Exit(ec.ExitCode()) // the container's own exit code, nothing to say
	}
	fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
	os.Exit(cmd.ExitCode(err))
}
