package main

// Terminal probes: what a container can do to the terminal of whoever
// started it (issue 11: "TIOCSTI can type into the operator's root shell").

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	probes["tiocsti"] = tiocsti
	probes["session"] = session
}

// tiocsti FD|PATH [CHAR]: push CHAR (default '#', a shell comment, so a
// character that does reach a shell's input runs nothing) into the input
// of the terminal on file descriptor FD, or of the terminal PATH opens
// (/dev/tty: the controlling terminal), as if typed there. A container
// without a terminal of its own should get ENOTTY (its stdio are pipes) or
// ENXIO (/dev/tty: it has no controlling terminal).
func tiocsti(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: tiocsti FD|PATH [CHAR]")
	}
	c := byte('#')
	if len(args) > 1 && len(args[1]) > 0 {
		c = args[1][0]
	}
	fd, err := strconv.Atoi(args[0])
	if err != nil {
		fd, err = unix.Open(args[0], unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
	if errno != 0 {
		return errno
	}
	return nil
}

// session prints the probe's pid, session, process group and the
// foreground process group of the terminal on fd 0, 1 and 2 (or the
// error), as "pid=P sid=S pgrp=G fg0=... fg1=... fg2=...". A container
// with a session of its own has sid = pid of its session leader (its
// first process, pid 1 for `run`); in the caller's session, whose leader
// is outside the container's pid namespace, getsid says 0.
func session([]string) error {
	sid, err := unix.Getsid(0)
	if err != nil {
		return err
	}
	fmt.Printf("pid=%d sid=%d pgrp=%d", os.Getpid(), sid, unix.Getpgrp())
	for fd := 0; fd < 3; fd++ {
		pg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		if err != nil {
			fmt.Printf(" fg%d=%s", fd, outcome(err))
		} else {
			fmt.Printf(" fg%d=%d", fd, pg)
		}
	}
	fmt.Println()
	return nil
}
