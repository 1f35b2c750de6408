package kernel

import (
	"errors"

	"github.com/sirupsen/logrus"
)

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
	src := callers(t.log)
	for _, op := range ops {
		say(t.log, src, &t.vars, nil, op)
	}
}

// Let makes name stand for value in a script's commands from now on.
func (t *Teller) Let(name, value string) { let(t.log, &t.vars, name, value) }

// Failed is the error Do returns when op fails with err: err, with op's
// command (or its own prefix) before it.
func Failed(op Op, err error) error { return opError(op, err) }

// ErrInInit is the Apply of the ops only a container's init does (its
// device nodes, making its root private, pivot_root, its hostname, its
// cgroup namespace, and the container package's waits, terminal and exec):
// it does them in C before any Go runtime starts (package cinit), from a
// program the parent makes of the same ops, which a Teller narrates and a
// Plan plans. No Go process does them.
var ErrInInit = errors.New("a step of a container's init, done by the init in C (package cinit), not by mydocker's Go code")
