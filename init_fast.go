package main

import (
	"errors"
	"os"

	"github.com/mydocker/mydocker/cmd"
)

// errNotInit says runInit left the command line to urfave/cli.
var errNotInit = errors.New("not the parent's init command line")

// runInit runs the container's init (the hidden verb `init`) without
// building the App: every container start execs it, and urfave/cli's set-up
// (every verb's flags, the usage handlers, the flag actions) is a fifth of
// the instructions that process runs before its work. It takes only the
// command line the parent gives (container.Runtime.globalArgs: --root,
// --data-root, --log-level, --log-format, each with its value, then init)
// and no MYDOCKER_* setting in the environment; anything else, errNotInit,
// goes through urfave/cli as before, so what a user types behaves the same.
func runInit(args []string) error {
	if len(args) < 2 || args[len(args)-1] != cmd.Init.Name {
		return errNotInit
	}
	for _, env := range []string{"MYDOCKER_ROOT", "MYDOCKER_DATA_ROOT", "MYDOCKER_LOG_LEVEL", "MYDOCKER_LOG_FORMAT"} {
		if _, set := os.LookupEnv(env); set {
			return errNotInit
		}
	}
	level, format := "info", "text" // the App's defaults
	flags := args[1 : len(args)-1]
	if len(flags)%2 != 0 {
		return errNotInit
	}
	for i := 0; i < len(flags); i += 2 {
		switch v := flags[i+1]; flags[i] {
		case "--root", "--data-root": // init reads neither
		case "--log-level":
			level = v
		case "--log-format":
			format = v
		default:
			return errNotInit
		}
	}
	if err := configureLogging(level, format, args[len(args)-1:]); err != nil {
		return err
	}
	return cmd.RunInit()
}
