// Package nsenter joins a running container's namespaces and cgroup before
// the Go runtime starts, for `mydocker exec`. Importing it (main.go does, for
// its side effect) links nsexec.c, whose constructor runs before Go's and
// does nothing at all unless `mydocker exec` set _MYDOCKER_NSENTER_PID: see
// the comment at the top of nsexec.c.
package nsenter

// #cgo CFLAGS: -Wall -Wextra -std=gnu11
import "C"
