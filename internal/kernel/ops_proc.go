package kernel

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Sethostname sets the hostname of the UTS namespace of Pid, as a process
// inside it does: `nsenter -t PID -u hostname NAME`.
type Sethostname struct {
	At     // where it was made, for source=
	Pid    int
	Name   string
	Reason string
}

func (s Sethostname) Why() string { return s.Reason }
func (s Sethostname) Command() Command {
	return Command{In: Where{Pid: s.Pid, NS: "-u"}, Argv: []string{"hostname", s.Name}}
}
func (Sethostname) Apply(*Exec) error { return ErrInInit }

// UnshareCgroupns gives the calling thread (the container's init, just
// before it execs the command) a new cgroup namespace, rooted at the cgroup
// it is in. No shell command can do that to a process that is already
// running: the step is a comment, and a script starts its command under
// `unshare --cgroup` instead.
type UnshareCgroupns struct {
	At     // where it was made, for source=
	Pid    int
	Reason string
}

func (u UnshareCgroupns) Why() string { return u.Reason }
func (u UnshareCgroupns) Command() Command {
	return Command{In: Where{Pid: u.Pid}, Comment: "the process calls unshare(CLONE_NEWCGROUP) itself: no command can do it to a running process (to start one in a new cgroup namespace: unshare --cgroup CMD)"}
}
func (UnshareCgroupns) Apply(*Exec) error { return ErrInInit }

// Signal sends Sig to Pid: `kill -TERM PID`.
type Signal struct {
	Pid    int
	Sig    syscall.Signal
	Reason string
}

func (s Signal) Why() string { return s.Reason }
func (s Signal) Command() Command {
	name := strings.TrimPrefix(unix.SignalName(s.Sig), "SIG")
	if name == "" {
		name = strconv.Itoa(int(s.Sig))
	}
	c := Command{Argv: []string{"kill", "-" + name, strconv.Itoa(s.Pid)}}
	if s.Sig == syscall.SIGKILL {
		// A script goes on once the process is gone, as mydocker does:
		// a cgroup cannot be removed while it still holds it.
		pid := strconv.Itoa(s.Pid)
		c.Script = "kill -KILL " + pid + " && while kill -0 " + pid + " 2>/dev/null; do sleep 0.01; done"
	}
	return c
}
func (s Signal) Apply(*Exec) error {
	if err := syscall.Kill(s.Pid, s.Sig); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("kill -%d %d: %w", s.Sig, s.Pid, err)
	}
	return nil
}
