// Command probe runs inside containers for the end-to-end tests: it makes
// one harmless call, as a hostile container would, and prints its outcome,
// "ok" or the errno's name ("EPERM"), so a test sees what the container
// may do without ever harming the host. It is built static (CGO_ENABLED=0)
// and bind-mounted into the container.
//
//	probe NAME [ARGS...]
//
// Each probe is registered by name in probes, one file per area.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"
)

// probes maps a name to a call; its error (nil: "ok") is what is printed.
var probes = map[string]func(args []string) error{}

func main() {
	if len(os.Args) < 2 || probes[os.Args[1]] == nil {
		names := make([]string, 0, len(probes))
		for n := range probes {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: probe NAME [ARGS...]; NAME is one of %v\n", names)
		os.Exit(2)
	}
	fmt.Println(outcome(probes[os.Args[1]](os.Args[2:])))
}

// outcome is "ok", the errno's name, or the error's text.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	return err.Error()
}
