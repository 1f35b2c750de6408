// Package reaper is mydocker-init, the pid 1 of a container run with
// --init (docker's tini, podman's catatonit): it starts the command as its
// child, forwards it the signals it gets, reaps every process orphaned to
// it, and exits with the command's exit code (128+N if a signal N ended it).
//
// Why a reaper: pid 1 of a pid namespace gets only the signals it has a
// handler for (a plain `sleep` ignores stop's SIGTERM and waits for the
// SIGKILL), and every orphan of the namespace becomes its child: a command
// that never waits leaves them as zombies.
//
// It is mydocker's own binary, not a copy of it: the container's init execs
// /proc/self/exe, the sealed, read-only file it runs from (internal/
// exeseal), with argv[0] Name; main dispatches on that name before the
// command line is parsed. Docker binds tini into the container at
// /sbin/docker-init; nothing is bound here, so nothing of the host's is in
// the container's filesystem to find or remount writable.
package reaper

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Name is argv[0] of the reaper, how main knows it.
const Name = "mydocker-init"

// Main runs args ("--" then the command and its arguments) as the child
// of this process and returns the exit code to exit with.
func Main(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, Name+": no command given: "+Name+" -- COMMAND [ARG...]")
		return 125
	}
	// Exec'd as /proc/self/exe, the kernel named it "exe": ps says its name
	// (the main thread's, which any thread of the process may set).
	os.WriteFile("/proc/self/task/"+strconv.Itoa(os.Getpid())+"/comm", []byte(Name), 0)
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Name, err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	// Every signal that can be caught, before the child exists: none is
	// lost between its start and the loop.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	attr := &syscall.SysProcAttr{Setpgid: true}
	if term.IsTerminal(0) {
		// Its own process group, in the terminal's foreground: ^C reaches
		// the command once, from the terminal, not again from us.
		attr = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0}
	}
	start := func(attr *syscall.SysProcAttr) (int, error) {
		return syscall.ForkExec(path, args, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}, Sys: attr})
	}
	pid, err := start(attr)
	if err != nil && attr.Foreground {
		pid, err = start(&syscall.SysProcAttr{Setpgid: true}) // a terminal that is not ours to control
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: exec %s: %v\n", Name, args[0], err)
		return 126
	}
	for sig := range sigs {
		s := sig.(syscall.Signal)
		if s != syscall.SIGCHLD {
			if forwarded(s) {
				unix.Kill(pid, s)
			}
			continue
		}
		if code, done := reap(pid); done {
			return code
		}
	}
	return 125 // (never: the channel is never closed)
}

// reap waits for every child that has exited; done once child is one of
// them, with its exit code as a shell reports it.
func reap(child int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return code, done
		}
		if pid != child {
			continue // an orphan: reaped, nothing more
		}
		done = true
		code = ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
}

// forwarded: the signals the reaper passes on, as tini does. Not those
// the Go runtime uses (SIGURG preempts its threads), nor the faults it
// could only have caused itself, nor the terminal's job control stops.
func forwarded(s syscall.Signal) bool {
	switch s {
	case syscall.SIGURG, syscall.SIGCHLD, syscall.SIGFPE, syscall.SIGILL, syscall.SIGSEGV, syscall.SIGBUS,
		syscall.SIGTRAP, syscall.SIGSYS, syscall.SIGABRT, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGTSTP, syscall.SIGPIPE:
		return false
	}
	return s < 32 || s > 33 // 32 and 33: the C library's own
}
