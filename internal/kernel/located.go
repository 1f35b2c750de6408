package kernel

import (
	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/narrate"
)

// At is where an op was made. The narration's source= is the caller of Do,
// which for an op built in one place and done in another (the container's
// init builds its steps as a list, then does them) would name the Do: an
// op that embeds At, set with Here, is narrated at the line that built it.
type At struct{ stack narrate.Stack }

// Here is the caller's file and line (named only when narrated). Quieter
// than INFO (-q), nothing is narrated, and the stack is not captured: a
// capture unwinds the whole stack, and a start makes a hundred ops.
func Here() At {
	if !logrus.IsLevelEnabled(logrus.InfoLevel) {
		return At{}
	}
	return At{narrate.Callers(1)}
}

// MadeAt is where the op was made ("" if At was left unset).
func (a At) MadeAt() string { return a.stack.Outside(kernelPkg) }

// kernelPkg is this package's place: a narrated step's source is the first
// caller outside it.
const kernelPkg = "/internal/kernel/"

// callers is the stack of the caller of the kernel function that calls it,
// if log narrates (nil if not: see Here).
func callers(log logrus.FieldLogger) narrate.Stack {
	if !enabled(log, logrus.InfoLevel) {
		return nil
	}
	return narrate.Callers(2)
}

// sourceOf is op's own source, else src's (the caller of Do).
func sourceOf(op Op, src narrate.Stack) string {
	if l, ok := op.(interface{ MadeAt() string }); ok {
		if at := l.MadeAt(); at != "" {
			return at
		}
	}
	return src.Outside(kernelPkg)
}
