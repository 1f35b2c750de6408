package container

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/shimwait"
)

// # The shim's wait, handed off
//
// A shim spends nearly all its life waiting for a quiet container, and a
// waiting Go runtime of mydocker's size holds about 4 MB (heap, stacks,
// runtime threads, the binary's pages its wait touches). So once the
// container has printed nothing for shimQuiet and no client is attached,
// the shim hands the wait off: it stops copying (the pipes stay open, and
// what the container prints next stays in them), marks what it holds
// inheritable, and execs its own binary again with the same arguments and
// shimwait.Env naming what it holds. There a constructor in C, before the
// Go runtime starts (container/shimwait), polls those descriptors; when
// one is ready (the container's exit, a line of output, a client at
// attach.sock) it returns, the Go runtime starts, and Shim takes them
// over (resumeShim) and goes on as before, down to handing off again when
// it is quiet again. It is the same process all along: its pid and start
// time (the container's MonitorPid and MonitorStart), its session, its
// children (the container's init stays its child, reaped by it), its
// stderr (shim.log). Nothing is recorded for it: a shim killed while it
// waits in C is a shim killed (doc/crash-safety.md), as before.
//
// Only a container without a terminal and without -i is handed off: with
// -t the shim holds the terminal's master and copies it, with -i the
// pipe its clients type into; those shims wait in Go (shimIdle).

// shimQuiet is how long a container prints nothing, no client attached,
// before its shim hands the wait off; each wake of the waiter sooner than
// shimWakeSoon after the hand-off doubles it, up to shimQuietMax, and a
// later one sets it back. A container that prints a line every second or
// so would otherwise cost its shim a Go start (9 ms of CPU here) a line:
// its shim stays in Go after a few wakes instead.
const (
	shimQuiet    = 500 * time.Millisecond
	shimQuietMax = 8 * time.Second
	shimWakeSoon = 5 * time.Second
)

// waitQuiet waits until the container's command p has exited (not
// reaping it: waitServed does), handing the wait off whenever it is
// quiet, from which it does not return.
func (r *Runtime) waitQuiet(c *Config, p *initProcess, sio *shimIO) {
	if p.plan != nil || p.pty != nil || p.io == nil || sio.inW != nil || sio.Attached == nil {
		shimIdle()
		return
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		var info unix.Siginfo
		for unix.Waitid(unix.P_PID, p.Pid(), &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
	}()
	if sio.quiet == 0 {
		sio.quiet = shimQuiet
	}
	reads, idle := p.io.reads.Load(), false
	quiet := time.NewTimer(sio.quiet)
	defer quiet.Stop()
	for {
		select {
		case <-exited:
			return
		case <-quiet.C:
		}
		if n := p.io.reads.Load(); n != reads {
			reads = n
			if !idle { // it prints: the shim stays, what started it can go
				shimIdle()
				idle = true
			}
		} else if err := r.handOff(c, p, sio); err != nil {
			r.K.Log().Warnf("container %s: the shim cannot hand its wait off, it waits itself: %v", c.Name, err)
			shimIdle()
			return
		}
		quiet.Reset(sio.quiet)
	}
}

// handOff execs the waiter (see above) if the container is still quiet:
// no client attached, no line begun and not ended. If it is not quiet, it
// goes on copying and returns nil; an error if the exec failed.
func (r *Runtime) handOff(c *Config, p *initProcess, sio *shimIO) error {
	h, s := sio.Attached, p.io
	if h.clients() > 0 {
		return nil
	}
	// Stop the copiers and the accept loop; what comes meanwhile waits in
	// the pipes and in the socket's backlog.
	s.held.Store(true)
	for _, f := range s.outs {
		f.SetReadDeadline(time.Now())
	}
	s.wg.Wait()
	h.ln.SetDeadline(time.Now())
	<-h.accepting
	undo := func() {
		s.held.Store(false)
		for _, f := range s.outs {
			f.SetReadDeadline(time.Time{})
		}
		s.copy()
		h.ln.SetDeadline(time.Time{})
		h.accept()
	}
	s.dropClosed()
	for _, dst := range s.dsts {
		if t, ok := dst.(logTee); ok && !t.log.Ended() {
			undo()
			return nil
		}
	}
	if h.clients() > 0 {
		undo()
		return nil
	}
	held, err := r.holdForWaiter(p, sio)
	if err == nil {
		r.K.Log().Debugf("container %s: quiet: its shim waits in shimwait (%s)", c.Name, held)
		env := append(withoutEnv(os.Environ(), shimwait.Env), shimwait.Env+"="+held)
		err = syscall.Exec("/proc/self/exe", os.Args, env)
		err = fmt.Errorf("exec the shim's waiter: %w", err)
	}
	undo()
	return err
}

// holdForWaiter makes what the waiter holds inheritable, and says it as
// shimwait.Env's value.
func (r *Runtime) holdForWaiter(p *initProcess, sio *shimIO) (string, error) {
	s, h := p.io, sio.Attached
	pidfd, err := unix.PidfdOpen(p.Pid(), 0)
	if err != nil {
		return "", fmt.Errorf("pidfd of the container's init %d: %w", p.Pid(), err)
	}
	held := []string{"pid=" + strconv.Itoa(p.Pid()), "pidfd=" + strconv.Itoa(pidfd),
		"quiet=" + strconv.FormatInt(sio.quiet.Milliseconds(), 10), "since=" + strconv.FormatInt(time.Now().UnixMilli(), 10)}
	keep := func(name string, sc syscall.Conn) error {
		rc, err := sc.SyscallConn()
		if err != nil {
			return err
		}
		var ferr error
		if err := rc.Control(func(fd uintptr) {
			_, ferr = unix.FcntlInt(fd, unix.F_SETFD, 0)
			held = append(held, name+"="+strconv.Itoa(int(fd)))
		}); err != nil {
			return err
		}
		return ferr
	}
	unix.FcntlInt(uintptr(pidfd), unix.F_SETFD, 0)
	for i, f := range s.outs {
		if err := keep(s.names[i], f); err != nil {
			unix.Close(pidfd)
			return "", fmt.Errorf("the container's %s: %w", s.names[i], err)
		}
	}
	if err := keep("attach", h.ln); err != nil {
		unix.Close(pidfd)
		return "", fmt.Errorf("the attach socket: %w", err)
	}
	// (Should the exec fail, they stay inheritable: the next container
	// start marks every descriptor close-on-exec first, inheritNothing.)
	return strings.Join(held, " "), nil
}

// dropClosed forgets the pipes whose copier has ended (their end of file:
// the container closed that stream), once the copiers are stopped.
func (s *streams) dropClosed() {
	outs, dsts, names := s.outs[:0], s.dsts[:0], s.names[:0]
	for i, f := range s.outs {
		rc, err := f.SyscallConn()
		if err == nil && rc.Control(func(uintptr) {}) == nil {
			outs, dsts, names = append(outs, f), append(dsts, s.dsts[i]), append(names, s.names[i])
		}
	}
	s.outs, s.dsts, s.names = outs, dsts, names
}

// clients is how many clients are attached.
func (h *attachHub) clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// resumeShim is the shim of container id again, after its waiter
// returned: it takes over what it held (held, shimwait.Env's value) and
// supervises the container as before.
func (r *Runtime) resumeShim(id, held string) error {
	os.Unsetenv(shimwait.Env) // not for what it starts
	fds := map[string]int{}
	var quiet time.Duration
	var since int64
	for _, kv := range strings.Fields(held) {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("shim of container %s: bad %s %q", id, shimwait.Env, held)
		}
		switch k {
		case "quiet":
			quiet = time.Duration(n) * time.Millisecond
		case "since":
			since = n
		default:
			fds[k] = int(n)
		}
	}
	pid, ok := fds["pid"]
	if !ok {
		return fmt.Errorf("shim of container %s: no pid in %s %q", id, shimwait.Env, held)
	}
	delete(fds, "pid")
	if time.Since(time.UnixMilli(since)) < shimWakeSoon {
		quiet = min(2*quiet, shimQuietMax)
	} else {
		quiet = shimQuiet
	}
	files := map[string]*os.File{}
	for k, fd := range fds {
		unix.CloseOnExec(fd)
		if k == "pidfd" {
			unix.Close(fd) // os.FindProcess opens its own
			continue
		}
		unix.SetNonblock(fd, true) // (so that Go's poller takes it)
		files[k] = os.NewFile(uintptr(fd), k)
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("shim of container %s: its init %d: %w", id, pid, err)
	}
	p := &initProcess{cmd: &exec.Cmd{Process: proc}, io: &streams{}}
	c, err := r.store().load(id)
	if err != nil {
		p.wait()
		return ignoreGone(err)
	}
	sio := &shimIO{stdio: stdio{Tty: c.Tty}, openStdin: c.OpenStdin, quiet: quiet}
	if sio.Log, err = r.openLog(c); err != nil {
		r.K.Log().Warnf("container %s: its log: %v", c.Name, err)
	}
	sio.Attached = &attachHub{path: r.Paths.attachSocket(id), conns: map[*net.UnixConn]bool{}}
	if f := files["attach"]; f != nil {
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("shim of container %s: its attach socket: %w", c.Name, err)
		}
		sio.Attached.ln = ln.(*net.UnixListener)
		sio.Attached.ln.SetUnlinkOnClose(false)
	} else {
		return errors.New("shim of container " + c.Name + ": no attach socket")
	}
	for _, name := range []string{"stdout", "stderr"} {
		if f := files[name]; f != nil {
			p.io.outs = append(p.io.outs, f)
			p.io.dsts = append(p.io.dsts, tee(sio.Log, name, sio.Attached.stream(name)))
			p.io.names = append(p.io.names, name)
		}
	}
	p.io.start(sio.stdio)
	sio.serve(p)
	return r.supervise(c, p, sio)
}

// withoutEnv is env without name's entries.
func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
