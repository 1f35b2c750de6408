// Package cmd holds one file per verb: flags in, a call into container/,
// network/ or cgroups/ out, and no logic of its own.
package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Commands is the list of verbs main.go registers, in help order.
func Commands() []*cli.Command {
	return []*cli.Command{Run, Create, Start, Restart, Exec, Attach, Commit, Ps, Logs, Stats, Update, Stop, Kill, Wait, Pause, Unpause, Port, Top, Diff, Export, Rename, Rm, Cp, Inspect, Images, Image, History, Pull, Push, Login, Logout, Tag, Rmi, Load, Save, Container, Network, Volume, System, Version, Info, Completion, Netsetgo, Init, Shim, ExecInternal, Complete}
}

// Exit codes, as docker's: 125 mydocker itself failed, 126 the command could
// not be invoked, 127 the command was not found; otherwise the container's.
const (
	ExitFailure      = 125
	ExitCannotInvoke = 126
	ExitNotFound     = 127
)

// usageError is bad input on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Usagef reports bad command-line input.
func Usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// ExitCoder lets an error choose the process exit code (e.g. 127 for a
// command not found in the image).
type ExitCoder interface{ ExitCode() int }

// ExitCode maps an error to mydocker's exit code.
func ExitCode(err error) int {
	var ec ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitFailure
}

// seam is the kernel seam a verb hands to the packages doing kernel work:
// it narrates and does, or with --dry-run plans over the running kernel
// (read, never changed) and only narrates.
func seam(dryRun bool) kernel.Kernel {
	log := logrus.StandardLogger()
	if dryRun {
		return kernel.NewPlan(kernel.NewReal(log), log)
	}
	return kernel.NewNarrating(log)
}

// CrashKey names the verb that args (the command line after the global
// flags) run, as the crash-injection switch of a crashtest build knows it
// (kernel.ArmCrash): the verb ("run", "shim"), with its subcommand where
// it has some ("network create"), and "netsetgo -cleanup" for netsetgo's
// undo, which is an operation of its own.
func CrashKey(args []string) string {
	if len(args) == 0 {
		return ""
	}
	for _, c := range Commands() {
		if !c.HasName(args[0]) {
			continue
		}
		if len(c.Subcommands) > 0 && len(args) > 1 {
			for _, s := range c.Subcommands {
				if s.HasName(args[1]) {
					return c.Name + " " + s.Name
				}
			}
		}
		if c == Netsetgo {
			for _, a := range args[1:] {
				if f := strings.TrimLeft(a, "-"); f == "cleanup" || f == "cleanup=true" {
					return c.Name + " -cleanup"
				}
			}
		}
		return c.Name
	}
	return args[0]
}
