// Package shimwait is where a detached container's shim waits while its
// container is quiet: a constructor in C (shimwait.c) that runs before
// the Go runtime when the shim has exec'd itself with Env set, polls the
// descriptors it names, and returns when one is ready: then the Go
// runtime starts and the shim carries on (container/shimhandoff.go).
// A waiting shim is then a process of a few pages: no Go heap, no
// runtime threads, no binary's code beyond the constructor's.
//
// Importing it (main.go does, for its side effect) links the constructor;
// without Env set it does nothing.
package shimwait

// #cgo CFLAGS: -Wall -Wextra -std=gnu11
import "C"

// Env names what a waiting shim holds, as space-separated key=value
// pairs (shimwait.c): the fds of pidfd, stdout, stderr and attach are
// polled for input; the others are for the shim (container/shimhandoff.go).
const Env = "_MYDOCKER_SHIM_WAIT"
