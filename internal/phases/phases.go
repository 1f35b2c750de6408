// Package phases tells where a command's time goes, for bench/phases.sh:
// with MYDOCKER_PHASES=1 in its environment, mydocker writes a line to
// stderr as it passes each phase of a start ("phase NAME MS": milliseconds
// since its Go code began, the first line giving that moment on the
// wall clock, so that a caller can add the process's exec and Go runtime
// start before it). Without it, a mark is one branch. A probe of its own,
// not the narration: at --log-level debug every step is also formatted and
// its source found, which is itself a large part of a start.
package phases

import (
	"fmt"
	"os"
	"time"
)

// began is when this package was initialised: after the Go runtime's start
// and the initialisers of the packages it does not import.
var began = time.Now()

// on is read once: the environment a mydocker was started with.
var on = os.Getenv("MYDOCKER_PHASES") == "1"

// Begin writes the first line, with the wall-clock time (Unix ns) of began.
func Begin() {
	if on {
		fmt.Fprintf(os.Stderr, "phase begin %d\n", began.UnixNano())
	}
}

// Mark writes that the phase name is done.
func Mark(name string) {
	if on {
		fmt.Fprintf(os.Stderr, "phase %s %.3f\n", name, float64(time.Since(began).Nanoseconds())/1e6)
	}
}
