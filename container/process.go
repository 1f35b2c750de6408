package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/cinit"
	"github.com/mydocker/mydocker/container/logfile"
	"github.com/mydocker/mydocker/internal/exeseal"
	"github.com/mydocker/mydocker/internal/kernel"
)

// stdio says where a container's standard streams go. Without a terminal
// the container never gets these files themselves (one of them may be the
// caller's terminal, which a process holding it can type into with
// TIOCSTI): it gets pipes, and mydocker copies (see streams).
type stdio struct {
	In       *os.File // nil: /dev/null
	Out, Err *os.File
	Tty      bool // give the container a terminal; Out gets what it prints, In (if any) is typed into it
	// Log, if set, keeps what the container prints (see logs.go), each
	// stream apart; Out and Err, if set, get it too.
	Log *logfile.File
	// Attached, if set, are the clients of the shim's attach socket: they
	// get what the container prints too (see attachserve.go).
	Attached *attachHub
}

// initProcess is a started `mydocker init`, blocked before the go signal;
// or, in a plan, the stand-in for one (plan set): its steps are planned at
// release, and it exits at once, with 0.
type initProcess struct {
	plan    *kernel.Plan
	spec    *initSpec // (a stand-in's, for its steps)
	cmd     *exec.Cmd
	specW   *os.File
	reportR *os.File
	console *os.File // with a tty: our end of the socket the init sends the pty master on
	// logDone closes once the init has exec'd or exited, its steps told
	// and failure set (nil: the command runs).
	logDone   chan struct{}
	following bool
	failure   error
	log       *heldWriter // the init's narration, held until the go signal
	pty       *os.File    // with a tty: the master side, once released
	io        *streams    // without a tty: the pipes of its stdio
}

// Pid is the init's pid as the host sees it (a stand-in's: DryRunPid).
func (p *initProcess) Pid() int {
	if p.plan != nil {
		return DryRunPid
	}
	return p.cmd.Process.Pid
}

// DryRunPid stands for the pid a container's init would have in a plan:
// the plan's stand-in, which it narrates as $PID.
const DryRunPid = kernel.StandInPid

// startOp starts a process (an exec'd command in a container): cmd is
// the shell command that does the same.
type startOp struct {
	why   string
	cmd   kernel.Command
	start func() error
}

func (o startOp) Why() string              { return o.why }
func (o startOp) Command() kernel.Command  { return o.cmd }
func (o startOp) Apply(*kernel.Exec) error { return o.start() }

// startInitOp starts the container's init (see startInit); in a plan it
// makes a stand-in, whose steps the plan takes at release.
type startInitOp struct {
	r      *Runtime
	c      *Config
	sio    stdio
	spec   *initSpec    // for a script's stand-in
	cgroup string       // a v2 cgroup to clone the init into, or ""
	p      *initProcess // the result
}

func (o *startInitOp) Why() string { _, why, _ := initNamespaces(o.c); return why }
func (o *startInitOp) Command() kernel.Command {
	_, _, argv := initNamespaces(o.c)
	unshare := argv[:len(argv)-2] // up to --fork, without "mydocker init"
	return kernel.Command{Argv: argv, Script: standIn(unshare, o.spec, o.c.Detach)}
}
func (o *startInitOp) Apply(*kernel.Exec) error {
	p, err := o.r.startInit(o.c, o.sio, o.cgroup)
	o.p = p
	return err
}
func (o *startInitOp) Plan(pl *kernel.Plan) error {
	o.p = &initProcess{plan: pl}
	return nil
}

// startInit starts `mydocker init` in new namespaces: a sealed copy of
// this binary whose C constructor (package cinit) waits for its program on
// the spec pipe, runs it, and blocks before the exec until release, so the
// caller can place it in its cgroup and network first. With cgroup (a v2
// directory), it is cloned into that cgroup.
func (r *Runtime) startInit(c *Config, sio stdio, cgroup string) (*initProcess, error) {
	var ours, theirs []*os.File // our ends, and the init's (fds 3, 4, 5)
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	for i := 0; i < 2; i++ {
		rd, wr, err := os.Pipe()
		if err != nil {
			closeAll(ours)
			closeAll(theirs)
			return nil, err
		}
		if i == 0 { // spec: the init reads
			ours, theirs = append(ours, wr), append(theirs, rd)
		} else { // reports: the init writes
			ours, theirs = append(ours, rd), append(theirs, wr)
		}
	}
	if sio.Tty {
		// The init makes the pty inside the container's own devpts (so
		// `tty` names it there) and sends us the master over this socket.
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			closeAll(ours)
			closeAll(theirs)
			return nil, fmt.Errorf("console socket: %w", err)
		}
		ours = append(ours, os.NewFile(uintptr(fds[0]), "console"))
		theirs = append(theirs, os.NewFile(uintptr(fds[1]), "console"))
	}
	defer closeAll(theirs)

	flags, _, _ := initNamespaces(c)
	// The init runs from a sealed copy of this binary (see internal/exeseal):
	// until it execs the command, a process in the container could find it
	// as /proc/1/exe, and the host's mydocker must not be what it finds.
	exe, err := exeseal.Open(filepath.Join(r.Paths.Root, "exeseal"))
	if err != nil {
		closeAll(ours)
		return nil, err
	}
	defer exe.Close() // after cmd.Start: the init holds its own reference
	cmd := &exec.Cmd{
		Path:       exe.Path(),
		Args:       append([]string{"mydocker"}, append(r.globalArgs(), "init")...),
		Env:        []string{cinit.Env}, // the command's environment travels in the program
		Dir:        "/",
		ExtraFiles: theirs, // fds 3, 4 (5): see fdSpec, fdReport, fdConsole
		// A session of its own, from the start: the container never shares
		// the caller's session, so never its controlling terminal.
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: flags, Setsid: true},
	}
	if cgroup != "" {
		fd, err := unix.Open(cgroup, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll(ours)
			return nil, fmt.Errorf("open the container's cgroup: %w", err)
		}
		defer unix.Close(fd) // after cmd.Start: the clone has used it
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	}
	var sp *streams
	if !sio.Tty {
		if sp, err = pipeStdio(cmd, sio); err != nil {
			closeAll(ours)
			return nil, err
		}
	}
	inheritNothing()
	if err := cmd.Start(); err != nil {
		closeAll(ours)
		sp.abandon()
		return nil, fmt.Errorf("start container init: %w", err)
	}
	sp.start(sio)
	p := &initProcess{cmd: cmd, specW: ours[0], reportR: ours[1], logDone: make(chan struct{}), log: &heldWriter{out: r.logOut()}, io: sp}
	if sio.Tty {
		p.console = ours[2]
	}
	return p, nil
}

// initNamespaces are the clone flags of a container's init, and its
// narration: why (from the namespaces really made), and the unshare(1) +
// setsid(1) command that does the same.
func initNamespaces(c *Config) (flags uintptr, why string, argv []string) {
	flags = uintptr(unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWIPC)
	argv = []string{"unshare", "--uts", "--pid", "--mount", "--ipc"}
	kinds := "UTS, PID, mount and IPC namespaces"
	net := ", sharing the host's network namespace (--net host)"
	if c.NetworkMode != NetworkHost {
		flags |= unix.CLONE_NEWNET
		argv = append(argv, "--net")
		kinds = "UTS, PID, mount, IPC and network namespaces"
		net = ""
	}
	exe, _ := os.Executable()
	argv = append(argv, "--fork", "setsid", exe, "init")
	why = "start the container's init process in new " + kinds + net + " and a session of its own (never the caller's terminal)," +
		" from a sealed, read-only copy of mydocker; it waits for its spec and the go signal on a pipe"
	return flags, why, argv
}

// sendSpec sends the init the program of its steps; it starts building the
// container's root filesystem, then waits for the go signal. Its steps are
// narrated as it reports them (follow).
func (p *initProcess) sendSpec(spec *initSpec) error {
	if p.plan != nil {
		p.spec = spec
		return nil
	}
	ops := initOps(spec)
	prog, err := initProgram(spec, ops)
	if err == nil {
		var flags uint32
		if logrus.IsLevelEnabled(logrus.InfoLevel) { // else nothing is narrated
			flags |= cinit.FlagNarrated
		}
		err = prog.WriteTo(p.specW, flags)
	}
	if err != nil {
		return fmt.Errorf("send the container its spec: %w", err)
	}
	p.follow(spec, ops)
	return nil
}

// joined tells the init it is in its cgroup: it may start its cgroup
// namespace there.
func (p *initProcess) joined() error {
	if p.plan != nil {
		return nil
	}
	if _, err := p.specW.Write([]byte{joinedByte}); err != nil {
		return fmt.Errorf("tell the container it joined its cgroup: %w", err)
	}
	return nil
}

// release gives the go signal and waits until the init has exec'd the
// command or failed (it says why).
func (p *initProcess) release() error {
	if p.plan != nil {
		return initSteps(p.plan, p.spec)
	}
	p.log.release()
	_, err := p.specW.Write([]byte{goByte})
	p.follow(nil, nil) // (if sendSpec failed: nothing to tell)
	<-p.logDone
	p.specW.Close()
	if p.failure != nil {
		return p.failure
	}
	if err != nil {
		return fmt.Errorf("give the container the go signal: %w", err)
	}
	if p.console != nil {
		master, err := recvFd(p.console)
		p.console.Close()
		if err != nil {
			return fmt.Errorf("receive the container's terminal: %w", err)
		}
		p.pty = master
	}
	return nil
}

// recvFd receives one file descriptor sent with SCM_RIGHTS.
func recvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("no terminal was sent")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("no terminal was sent")
	}
	return os.NewFile(uintptr(fds[0]), "/dev/ptmx"), nil
}

// heldWriter keeps what is written until release, then passes it on.
type heldWriter struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	open bool
}

func (w *heldWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.open {
		w.buf = append(w.buf, b...)
		return len(b), nil
	}
	return w.out.Write(b)
}

func (w *heldWriter) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(w.buf)
	w.buf, w.open = nil, true
}

// abort kills an init that never got its go signal, and reaps it. If the
// init had failed on its own, its reason is returned: it explains the
// failure better than whatever the parent then ran into.
func (p *initProcess) abort() error {
	if p.plan != nil {
		p.plan.Gone(DryRunPid) // killed: its namespaces, and their mounts, go
		return nil
	}
	// Killed before its spec pipe closes: an init that read EOF there
	// would report "the parent went away", hiding the real cause.
	p.cmd.Process.Kill()
	p.follow(nil, nil) // (if it never got its program)
	if p.console != nil {
		p.console.Close()
	}
	p.cmd.Wait()
	p.io.finish()
	<-p.logDone
	p.specW.Close()
	p.log.release() // what the init did before it was stopped
	return p.failure
}

// wait reaps the init (or exec's process) and returns the container's
// exit code, as a shell reports it: the status, or 128+signal. Without a
// tty, what it wrote is passed on before wait returns.
func (p *initProcess) wait() int {
	if p.plan != nil {
		p.plan.Gone(DryRunPid) // its command exits at once, with 0
		return 0
	}
	err := p.cmd.Wait()
	p.io.finish()
	st, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		if err != nil {
			return 255
		}
		return 0
	}
	if st.Signaled() {
		return 128 + int(st.Signal())
	}
	return st.ExitStatus()
}
