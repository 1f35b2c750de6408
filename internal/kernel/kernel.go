// Package kernel is the one seam every side effect of mydocker goes through:
// each change to the kernel (a link, an address, a route, an iptables rule or
// chain, a sysctl, a mount, a directory or file that is a mount point or
// source, a cgroup file, a signal, a namespace step, a capability or seccomp
// step) and each write of mydocker's own state files.
//
// A change is an Op: a value that says why it is done, renders the exact
// shell command that does the same from its own arguments, names the object
// it makes or removes, and knows how to do it. Packages build Ops and hand
// them to a Kernel; they never call netlink, iptables, mount(2) or a cgroup
// write themselves, and never ask whether this is a dry run. Three Kernels:
//
//   - Real does each op.
//   - Narrating logs each op at INFO as a "// why" line and a "$ command"
//     line (source= is the code that called Do), then does it.
//   - Plan changes nothing (--dry-run, and tests without root): it records
//     the ops, keeps a model of what they would make and remove on top of
//     what exists, and refuses what could not work (removing what was never
//     made, deleting a chain that still holds rules).
//
// The ops only a container's init does (its device nodes, pivot_root, its
// hostname, its cgroup namespace) are done by the init in C
// before any Go runtime starts (package cinit), from a program made of the
// same ops: a Teller narrates them, a Plan plans them, and their Apply
// returns ErrInInit.
//
// An op whose object is already as wanted (a link already gone, a sysctl
// already set) is skipped and not narrated, so teardown is idempotent.
package kernel

import (
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
)

// Op is one side effect, as a value.
type Op interface {
	// Why says what the step is for, in the narration's voice (lowercase,
	// no full stop). "" continues the previous step's why.
	Why() string
	// Command is the shell command that has the same effect.
	Command() Command
	// Apply does it, for real.
	Apply(x *Exec) error
}

// Tentative is an op that is narrated once done, with what it did: one
// that changes nothing, or a known part, when it fails (an
// iptables-restore, all or nothing per table), and that a caller may then
// retry another way. The narration then holds only what was changed, and a
// script made from it stays runnable.
type Tentative interface {
	// Done is what was changed, given Apply's error: the op itself, a
	// part of it, or nil for nothing.
	Done(err error) Op
}

// Effector is an Op that makes or removes named objects. The plan models
// them; every Kernel skips an op whose Skip effects are already in place.
type Effector interface {
	Effects() []Effect
}

// Effect is what an op does to one object.
type Effect struct {
	Obj    Object
	Remove bool // it removes Obj; otherwise it makes Obj
	// IfNeeded: when Obj already exists (or is already gone, for a
	// removal) the op is skipped, silently: teardown is idempotent, a
	// sysctl already set is not set again.
	IfNeeded bool
}

// Object names one thing an op makes or removes. Kinds: "link", "addr",
// "route", "neigh", "fdb", "chain", "rule", "sysctl", "mount", "dir",
// "file", "node", "symlink", "cgroup", "state".
type Object struct {
	Kind string
	// In is the pid whose namespace holds the object; 0 is the host's.
	In   int
	Name string
}

func (o Object) String() string {
	if o.In != 0 {
		return fmt.Sprintf("%s %s (in the namespaces of pid %d)", o.Kind, o.Name, o.In)
	}
	return o.Kind + " " + o.Name
}

// Makes and Removes are the usual Effects.
func Makes(o Object) Effect   { return Effect{Obj: o} }
func Removes(o Object) Effect { return Effect{Obj: o, Remove: true} }

// Ensures is an Effect that is skipped when Obj exists already; Clears one
// that is skipped when Obj is gone already.
func Ensures(o Object) Effect { return Effect{Obj: o, IfNeeded: true} }
func Clears(o Object) Effect  { return Effect{Obj: o, Remove: true, IfNeeded: true} }

// World answers whether an object exists: the running kernel, or a plan's
// model of it.
type World interface {
	Exists(o Object) (bool, error)
}

// Kernel is the seam.
type Kernel interface {
	// Do performs the ops in order and stops at the first failure, which
	// it returns wrapped with the op's command.
	Do(ops ...Op) error
	// Exists reads the state through the same implementation: a plan
	// answers from what it has planned.
	World
	// Log is where plain messages go (with the narration, for Narrating).
	Log() logrus.FieldLogger
	// Let makes name stand for value in the commands of a script (and of
	// a plan, whose pids are stand-ins) from now on: "$PID" for 4123.
	Let(name, value string)
}

// ErrPlan is the error a Plan returns for an op that could not work.
var ErrPlan = errors.New("plan")

// skip reports whether every IfNeeded effect of op is already in place in
// w; an op with no such effect is never skipped.
func skip(w World, op Op) (bool, error) {
	e, ok := op.(Effector)
	if !ok {
		return false, nil
	}
	conditional := false
	for _, eff := range e.Effects() {
		if !eff.IfNeeded {
			continue
		}
		conditional = true
		has, err := w.Exists(eff.Obj)
		if err != nil {
			return false, err
		}
		if has != eff.Remove { // made and wanted made, or gone and wanted gone
			continue
		}
		return false, nil
	}
	return conditional, nil
}

// opError wraps an op's failure with its command, so the message names what
// failed the way a user would have typed it.
func opError(op Op, err error) error {
	if err == nil {
		return nil
	}
	if p, ok := op.(interface{ ErrorPrefix() string }); ok {
		if prefix := p.ErrorPrefix(); prefix != "" {
			return fmt.Errorf("%s: %w", prefix, err)
		}
		return err
	}
	return fmt.Errorf("%s: %w", describe(op), err)
}

// describe is op's command as a user would have typed it, or its comment
// where no command exists. An op whose command is too long to read in one
// error line (a curl with its headers) names itself with ErrorPrefix
// instead ("" when its error names what failed already).
func describe(op Op) string {
	c := op.Command()
	if len(c.Argv) == 0 && len(c.Shell) == 0 {
		return c.Comment
	}
	return c.Text(nil)
}

// Report logs the outcome of an operation at INFO, at the line that calls
// it; a plan's outcome says that nothing changed.
func Report(k Kernel, format string, args ...any) {
	if _, ok := k.(*Plan); ok {
		format = "dry run, nothing changed: " + format
	}
	k.Log().WithField("source", caller()).Infof(format, args...)
}
