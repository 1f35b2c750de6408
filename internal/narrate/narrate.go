// Package narrate is the one seam every kernel-side change goes through.
//
// A step is logged at INFO as a "// why" line and a "$ command" line (the exact
// iproute2 / iptables / mount / echo command that would do the same), then
// performed. Pasted into a root shell in order, the "$" lines of a mydocker
// command reproduce the state it built. In dry-run mode the lines are logged
// and nothing is done.
package narrate

import (
	"strings"

	"github.com/sirupsen/logrus"
)

// Recorder sees every step, performed or not; tests use it to check the
// commands a piece of code narrates.
type Recorder func(why, cmd string)

// Narrator logs and performs steps. The zero value is not usable; use New.
type Narrator struct {
	log    logrus.FieldLogger
	dryRun bool
	record Recorder
	subst  []string // old, new pairs applied to narrated lines
}

// New returns a Narrator logging to log.
func New(log logrus.FieldLogger) *Narrator {
	return &Narrator{log: log}
}

// WithDryRun returns a copy that narrates steps without performing them.
func (n *Narrator) WithDryRun(dry bool) *Narrator {
	c := *n
	c.dryRun = dry
	return &c
}

// WithSubstitute returns a copy that writes new for old in every narrated
// line (a dry run of `run` narrates "$PID" for the pid its init would have).
func (n *Narrator) WithSubstitute(old, new string) *Narrator {
	c := *n
	c.subst = append(append([]string(nil), n.subst...), old, new)
	return &c
}

// WithRecorder returns a copy that also reports each step to r.
func (n *Narrator) WithRecorder(r Recorder) *Narrator {
	c := *n
	c.record = r
	return &c
}

// WithFields returns a copy whose log lines carry fields; a "source" field
// overrides the caller the SourceHook would find (for seams that wrap Do).
func (n *Narrator) WithFields(f logrus.Fields) *Narrator {
	c := *n
	c.log = n.log.WithFields(f)
	return &c
}

// DryRun reports whether steps are only narrated.
func (n *Narrator) DryRun() bool { return n.dryRun }

// Log is the logger the narration goes to, for plain messages.
func (n *Narrator) Log() logrus.FieldLogger { return n.log }

// Do narrates a step and then performs it (unless dry-run).
func (n *Narrator) Do(why, cmd string, do func() error) error {
	n.Say(why, cmd)
	if n.dryRun {
		return nil
	}
	return do()
}

// Say narrates a step that is performed elsewhere (for example by the kernel
// as a side effect of a clone, or by a process about to be exec'd).
func (n *Narrator) Say(why, cmd string) {
	if len(n.subst) > 0 {
		r := strings.NewReplacer(n.subst...)
		why, cmd = r.Replace(why), r.Replace(cmd)
	}
	if n.record != nil {
		n.record(why, cmd)
	}
	if why != "" {
		n.log.Info("// " + why)
	}
	n.log.Info("$ " + cmd)
}

// Discard is a Narrator that logs nothing, for callers that must not print
// (the netsetgo compatibility path prints its own errors) and for tests.
func Discard() *Narrator {
	l := logrus.New()
	l.SetOutput(nopWriter{})
	l.SetLevel(logrus.PanicLevel)
	return New(l)
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// WithField returns a copy whose log lines carry key=value. A helper that
// narrates on behalf of its caller sets "source" to the caller's file:line,
// which SourceHook then keeps.
func (n *Narrator) WithField(key string, value any) *Narrator {
	c := *n
	c.log = n.log.WithField(key, value)
	return &c
}
