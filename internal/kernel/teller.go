package kernel

import "github.com/sirupsen/logrus"

// Teller narrates ops that another process does: the container's init,
// which runs in C before any Go runtime (package cinit) and cannot log. It
// reports each step it reaches; its parent tells the steps here, with the
// words and commands Narrating would log, and does nothing itself.
type Teller struct {
	log  logrus.FieldLogger
	vars Vars
}

// NewTeller returns a Teller that narrates to log at INFO.
func NewTeller(log logrus.FieldLogger) *Teller { return &Teller{log: log} }

// Tell narrates ops, done elsewhere, in order.
func (t *Teller) Tell(ops ...Op) {
	src := callers()
	for _, op := range ops {
		say(t.log, src, &t.vars, nil, op)
	}
}

// Let makes name stand for value in a script's commands from now on.
func (t *Teller) Let(name, value string) { let(t.log, &t.vars, name, value) }

// Failed is the error Do returns when op fails with err: err, with op's
// command (or its own prefix) before it.
func Failed(op Op, err error) error { return opError(op, err) }
