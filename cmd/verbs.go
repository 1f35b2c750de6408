package cmd

import (
	"strings"

	"github.com/mydocker/mydocker/container"
)

// Internal reports whether verb is one that mydocker runs itself (the
// container's init, the shim, exec's helper), never typed by a user.
func Internal(verb string) bool {
	for _, c := range []string{Init.Name, Shim.Name, ExecInternal.Name} {
		if verb == c {
			return true
		}
	}
	return false
}

// joinPrimed: PrimeJoin has primed the cgroup join of the verb this
// process runs.
var joinPrimed bool

// PrimeJoin primes the cgroup join (container.PrimeCgroupJoin) of the
// verbs that put a process in a container's cgroup: a start, an exec, the
// shim that starts a detached container. Called first thing, as the grace
// period it waits for is about as long as a whole start: args are the verb
// and what follows it. A dry run changes nothing, and primes nothing.
func PrimeJoin(args []string) {
	if len(args) == 0 {
		return
	}
	switch args[0] {
	case Run.Name, Start.Name, Restart.Name, Exec.Name, Shim.Name:
	default:
		return
	}
	for _, a := range args[1:] {
		if a == "--dry-run" || strings.HasPrefix(a, "--dry-run=") {
			return
		}
	}
	container.PrimeCgroupJoin(args[0] != Exec.Name)
	joinPrimed = true
}
