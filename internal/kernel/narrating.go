package kernel

import (
	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/narrate"
)

// Log fields the narration sets besides pid= and source=: the script
// formatter renders from them, the text formatter leaves them out.
const (
	FieldStep = "step" // the op's Command
	FieldVars = "vars" // the *Vars in force
	FieldLet  = "let"  // a variable set: [2]string{name, value}
)

// Narrating logs each op, then does it (see the package doc).
type Narrating struct {
	real *Real
	vars Vars
}

// NewNarrating returns a Kernel that narrates to log at INFO and does.
func NewNarrating(log logrus.FieldLogger) *Narrating {
	return &Narrating{real: NewReal(log)}
}

// Do implements Kernel.
func (n *Narrating) Do(ops ...Op) error {
	src := callers(n.real.log)
	for _, op := range ops {
		if s, err := skip(n.real, op); err != nil {
			return opError(op, err)
		} else if s {
			continue
		}
		crashPoint(op)
		if t, ok := op.(Tentative); ok {
			err := op.Apply(n.real.x)
			if done := t.Done(err); done != nil {
				say(n.real.log, src, &n.vars, nil, done)
			}
			if err != nil {
				return opError(op, err)
			}
			continue
		}
		say(n.real.log, src, &n.vars, nil, op)
		if err := op.Apply(n.real.x); err != nil {
			return opError(op, err)
		}
		if nm, ok := op.(Naming); ok {
			for _, v := range nm.Names() {
				n.Let(v[0], v[1])
			}
		}
	}
	return nil
}

// Exists implements World: the running kernel.
func (n *Narrating) Exists(o Object) (bool, error) { return n.real.Exists(o) }

// Log implements Kernel.
func (n *Narrating) Log() logrus.FieldLogger { return n.real.log }

// Let makes name stand for value in a script's commands from now on.
func (n *Narrating) Let(name, value string) { let(n.real.log, &n.vars, name, value) }

// Close releases the handles the ops opened.
func (n *Narrating) Close() { n.real.Close() }

// say logs op's "// why" and "$ command" lines, textVars (may be nil)
// standing in the text for their values. A record of mydocker's own state
// is not a kernel change: it goes at DEBUG.
func say(log logrus.FieldLogger, src narrate.Stack, vars, textVars *Vars, op Op) {
	lvl := logrus.InfoLevel
	if _, ok := op.(record); ok {
		lvl = logrus.DebugLevel
	}
	// Nothing to make when nothing is printed: a quieter --log-level
	// spares every step its command, its quoting and its source line.
	if !enabled(log, lvl) {
		return
	}
	l := log.WithField("source", sourceOf(op, src))
	cmd := op.Command()
	if why := op.Why(); why != "" {
		l.Log(lvl, "// "+textVars.Subst(why))
	}
	text := cmd.Text(textVars)
	if len(cmd.Argv) > 0 || len(cmd.Shell) > 0 {
		text = "$ " + text
	}
	l.WithFields(logrus.Fields{FieldStep: cmd, FieldVars: vars}).Log(lvl, text)
}

// enabled says whether log prints lvl (true when it cannot tell).
func enabled(log logrus.FieldLogger, lvl logrus.Level) bool {
	switch l := log.(type) {
	case *logrus.Logger:
		return l.IsLevelEnabled(lvl)
	case *logrus.Entry:
		return l.Logger.IsLevelEnabled(lvl)
	}
	return true
}

func let(log logrus.FieldLogger, vars *Vars, name, value string) {
	if !vars.Set(name, value) {
		return
	}
	log.WithField(FieldLet, [2]string{name, value}).Infof("$%s stands for %s", name, value)
}
