package kernel

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/sirupsen/logrus"
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
func caller() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if !strings.Contains(f.File, "/internal/kernel/") || strings.HasSuffix(f.File, "_test.go") {
			return shortPath(f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}

// shortPath keeps the last two path elements: "network/bridge.go:146".
func shortPath(file string, line int) string {
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
			file = file[j+1:]
		}
	}
	return fmt.Sprintf("%s:%d", file, line)
}
