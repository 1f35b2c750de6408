package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/exeseal"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
)

// The handshake with nsenter/nsexec.c, whose constructor reads these
// variables before the Go runtime starts (the names are repeated there).
const (
	envNsenterPid      = "_MYDOCKER_NSENTER_PID"
	envNsenterPidStart = "_MYDOCKER_NSENTER_PIDSTART"
	envNsenterCgroups  = "_MYDOCKER_NSENTER_CGROUPS"
	envNsenterTty      = "_MYDOCKER_NSENTER_TTY"
)

// fdExecSpec is exec-internal's pipe from `mydocker exec`: one execSpec.
// The command and its environment travel there, not in argv and environ,
// so the container's variables never meet mydocker's own (MYDOCKER_ROOT...).
const fdExecSpec = 3

// ErrNotRunning is returned when a verb needs a running container.
var ErrNotRunning = errors.New("container is not running")

type notRunningError struct{ name string }

func (e notRunningError) Error() string        { return "container " + e.name + " is not running" }
func (e notRunningError) Is(target error) bool { return target == ErrNotRunning }

// ExecOptions is what `mydocker exec` was asked for.
type ExecOptions struct {
	Container   string
	Cmd         []string
	Env         []string // -e: KEY=VAL, or KEY taken from the caller's environment
	WorkDir     string   // -w; default: the container's working directory
	Interactive bool
	Tty         bool
	User        string // -u: default, the container's user
	Privileged  bool   // --privileged: every capability
}

type execSpec struct {
	Cmd     []string
	Env     []string
	WorkDir string
	// Security is the container's confinement, with exec's -u and
	// --privileged: exec-internal applies it before it execs the command.
	Security *security.Config `json:",omitempty"`
}

// Exec runs a command in a running container and returns its exit code.
//
// The process tree is: this process (on the host) -> `mydocker
// exec-internal`, whose C constructor (nsenter/nsexec.c) joins the
// container's cgroup and namespaces and forks -> the child, inside the
// container's pid namespace too, where Go starts and execs the command. The
// middle process forwards signals and passes the exit status on.
func (r *Runtime) Exec(o ExecOptions, in, out, errOut *os.File) (int, error) {
	if len(o.Cmd) == 0 {
		return 0, errors.New("exec needs a command")
	}
	c, err := r.store().Get(o.Container)
	if err != nil {
		return 0, err
	}
	if !c.IsRunning() {
		return 0, notRunningError{c.Name}
	}
	if c.Paused {
		return 0, fmt.Errorf("container %s is paused: unpause it first", c.Name)
	}
	extra, err := ParseEnv(o.Env, os.LookupEnv)
	if err != nil {
		return 0, err
	}
	spec := execSpec{Cmd: o.Cmd, Env: execEnv(c, extra, o.Tty), WorkDir: o.WorkDir}
	if spec.WorkDir == "" {
		spec.WorkDir = c.WorkingDir
	}
	if spec.WorkDir == "" {
		spec.WorkDir = "/"
	}
	if !filepath.IsAbs(spec.WorkDir) {
		return 0, fmt.Errorf("invalid working directory %q: it must be an absolute path", spec.WorkDir)
	}
	if err := r.store().LoadProgram(c); err != nil {
		return 0, err
	}
	if spec.Security, err = execSecurity(c, o); err != nil {
		return 0, err
	}
	if o.User != "" && spec.Security != nil && spec.Security.User.Home != "" {
		spec.Env = mergeEnv(mergeEnv(spec.Env, []string{"HOME=" + spec.Security.User.Home}), extra)
	}
	procs, err := cgroupProcsToJoin(c.Pid)
	if err != nil {
		return 0, fmt.Errorf("find the cgroups of container %s: %w", c.Name, err)
	}

	specR, specW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer specW.Close()
	cmd := &exec.Cmd{
		Args: append([]string{"mydocker"}, append(r.globalArgs(), "exec-internal")...),
		Env: []string{
			envNsenterPid + "=" + strconv.Itoa(c.Pid),
			envNsenterPidStart + "=" + strconv.FormatUint(c.PidStart, 10),
			envNsenterCgroups + "=" + strings.Join(procs, "\n"),
		},
		Dir:        "/",
		ExtraFiles: []*os.File{specR},
		// A session of its own (and nsexec.c gives the command another):
		// nothing it runs shares the caller's session, so nothing can reach
		// the caller's terminal; a ^C typed there reaches the command once,
		// forwarded by us.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	p := &initProcess{cmd: cmd} // attach and wait only need cmd, pty and io
	sio := stdio{Out: out, Err: errOut, Tty: o.Tty}
	if o.Interactive {
		sio.In = in
	}
	var slave *os.File
	if o.Tty {
		if p.pty, slave, err = openPtyIn(c.Pid); err != nil {
			specR.Close()
			return 0, fmt.Errorf("allocate a pty in container %s: %w", c.Name, err)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		// nsexec.c makes it the controlling terminal of the command's
		// session, inside the container's pid namespace.
		cmd.Env = append(cmd.Env, envNsenterTty+"=1")
	} else if p.io, err = pipeStdio(cmd, sio); err != nil {
		// Pipes that we copy, never our own files: one of them may be
		// the caller's terminal.
		specR.Close()
		return 0, err
	}
	// Started from a sealed copy of this binary (see internal/exeseal): the
	// container sees the command's process, and until it execs the command
	// its /proc/PID/exe must not be the host's mydocker.
	start := func() error {
		exe, err := exeseal.Open(filepath.Join(r.Paths.Root, "exeseal"))
		if err != nil {
			return err
		}
		defer exe.Close() // after cmd.Start: the child holds its own reference
		cmd.Path = exe.Path()
		inheritNothing()
		return cmd.Start()
	}
	why := r.execWhy(c, procs) + ", in a session of its own" + execConfinementWhy(spec.Security, o) + "; the helper that joins runs from a sealed, read-only copy of mydocker"
	err = r.K.Do(startOp{why: why, cmd: execCommand(c.Pid, procs, spec), start: start})
	specR.Close()
	if slave != nil {
		slave.Close()
	}
	if err != nil {
		p.io.abandon()
		if p.pty != nil {
			p.pty.Close()
		}
		return 0, fmt.Errorf("start exec in container %s: %w", c.Name, err)
	}
	p.io.start(sio)
	// If the child dies before reading (say, a failed setns), the write
	// fails with EPIPE and its own message on stderr says why.
	json.NewEncoder(specW).Encode(spec)
	specW.Close()
	return r.attach(p, sio), nil
}

// openPtyIn allocates a pty from the container's own devpts instance,
// through its /dev/pts/ptmx as the host sees it: inside, the command's
// terminal is then /dev/pts/N, as `tty` shows, not a host pty it cannot name.
func openPtyIn(pid int) (master, slave *os.File, err error) {
	ptmx := filepath.Join("/proc", strconv.Itoa(pid), "root/dev/pts/ptmx")
	mfd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", ptmx, err)
	}
	master = os.NewFile(uintptr(mfd), ptmx)
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("get pty number: %w", err)
	}
	// TIOCGPTPEER opens the slave of this very master, with no path lookup
	// the container could redirect.
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("open pty slave: %w", errno)
	}
	return master, os.NewFile(sfd, "/dev/pts/"+strconv.Itoa(n)), nil
}

func (r *Runtime) execWhy(c *Config, procs []string) string {
	if len(procs) == 0 {
		return fmt.Sprintf("join %s's namespaces (it has no cgroup of its own), then run the command there", c.Name)
	}
	return fmt.Sprintf("join %s's namespaces and cgroup, then run the command there", c.Name)
}

// execCommand renders an exec as the util-linux commands that do the same:
// nsenter into every namespace, the container's root (-r) and working
// directory (-w), with exactly the command's environment (env -i).
//
// nsenter opens -w's directory before it enters the mount namespace, so
// `-w/tmp` would put the command in the host's /tmp, outside the
// container's root. Through /proc/<pid>/root the path is the container's.
// Joining the cgroup has no nsenter flag (-C is the cgroup namespace): a
// shell writes its own pid to each cgroup.procs first (tee fails if any
// write does) and then becomes nsenter.
func execCommand(pid int, procs []string, s execSpec) kernel.Command {
	wd := filepath.Join("/proc", strconv.Itoa(pid), "root", s.WorkDir)
	args := []string{"nsenter", "-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w" + wd, "env", "-i"}
	args = append(append(args, s.Env...), s.Cmd...)
	if len(procs) == 0 {
		return kernel.Command{Argv: args}
	}
	return kernel.Command{Argv: []string{"sh", "-c", "echo $$ | tee " + narrate.Quote(procs...) + " >/dev/null && exec " + narrate.Quote(args...)}}
}

// execEnv is the exec'd command's environment: the container's, TERM with
// a tty, then -e, a later value of a key replacing an earlier one.
func execEnv(c *Config, extra []string, tty bool) []string {
	env := containerEnv(c)
	if tty {
		env = mergeEnv([]string{"TERM=xterm"}, env)
	}
	return mergeEnv(env, extra)
}

// ExecInternal is `mydocker exec-internal`, the process nsenter/nsexec.c
// has already placed in the container's cgroup, namespaces and root: it
// moves to the working directory and execs the command. It returns only on
// failure, with the exit code docker uses (126 cannot invoke, 127 not found).
func ExecInternal() error {
	// The confinement is per thread: this one applies it and execs.
	runtime.LockOSThread()
	if os.Getenv(envNsenterPid) == "" {
		return errors.New("exec-internal is run by `mydocker exec`, inside a container's namespaces, never by hand")
	}
	for _, k := range []string{envNsenterPid, envNsenterPidStart, envNsenterCgroups, envNsenterTty} {
		os.Unsetenv(k)
	}
	f := os.NewFile(fdExecSpec, "exec-spec")
	var s execSpec
	err := json.NewDecoder(f).Decode(&s)
	f.Close()
	if err != nil {
		return fmt.Errorf("read the command to exec: %w", err)
	}
	if len(s.Cmd) == 0 {
		return errors.New("no command to exec")
	}
	if err := os.Chdir(s.WorkDir); err != nil {
		return &initError{Code: 126, Msg: fmt.Sprintf("exec: working directory %s: %v", s.WorkDir, errors.Unwrap(err))}
	}
	path, err := lookPath(s.Cmd[0], s.Env)
	if err != nil {
		return err
	}
	// Exactly the container's confinement, in the init's order, through
	// a silent kernel: this process's stderr is the command's.
	if s.Security != nil {
		k := kernel.NewReal(logrus.StandardLogger())
		if err := k.Do(kernel.Finalize(0, s.Security, finalizeWhys(s.Security))...); err != nil {
			return &initError{Msg: "confine the exec'd command: " + err.Error(), Code: 126}
		}
	}
	err = unix.Exec(path, s.Cmd, s.Env)
	code := 126
	if errors.Is(err, unix.ENOENT) {
		code = 127
	}
	return &initError{Msg: fmt.Sprintf("exec %s: %v", s.Cmd[0], err), Code: code}
}
