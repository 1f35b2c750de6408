package kernel

import (
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/narrate"
)

// existsBy answers, per object kind, whether the running kernel has the
// object; each ops file registers its kinds.
var existsBy = map[string]func(x *Exec, o Object) (bool, error){}

// Real does each op, logging nothing but failures' context.
type Real struct {
	x   *Exec
	log logrus.FieldLogger
}

// NewReal returns a Kernel that does each op; log gets plain messages.
func NewReal(log logrus.FieldLogger) *Real { return &Real{x: &Exec{}, log: log} }

// Do implements Kernel.
func (r *Real) Do(ops ...Op) error {
	for _, op := range ops {
		if _, err := r.do(op); err != nil {
			return err
		}
	}
	return nil
}

// do applies op unless its effects are in place already; done says
// whether it was applied.
func (r *Real) do(op Op) (done bool, err error) {
	if s, err := skip(r, op); err != nil {
		return false, opError(op, err)
	} else if s {
		return false, nil
	}
	crashPoint(op)
	if err := op.Apply(r.x); err != nil {
		return false, opError(op, err)
	}
	return true, nil
}

// Exists implements World: the running kernel.
func (r *Real) Exists(o Object) (bool, error) {
	f, ok := existsBy[o.Kind]
	if !ok {
		return false, fmt.Errorf("kernel: no way to tell whether a %s exists", o.Kind)
	}
	return f(r.x, o)
}

// Log implements Kernel.
func (r *Real) Log() logrus.FieldLogger { return r.log }

// Let implements Kernel: a real run has no script to write.
func (r *Real) Let(name, value string) {}

// Close releases the handles the ops opened.
func (r *Real) Close() { r.x.Close() }

// caller is "pkg/file.go:line" of the code that called into this package:
// a narrated step points at the code that decided it.
func caller() string { return narrate.CallerOutside(kernelPkg) }
