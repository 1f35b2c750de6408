package container

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// attach connects the caller's terminal to a foreground container until it
// exits, and returns its exit code. Signals sent to mydocker go on to the
// container, as docker's --sig-proxy does.
func (r *Runtime) attach(p *initProcess, sio stdio) int {
	if p.plan != nil {
		return p.wait() // a stand-in: nothing runs
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == syscall.SIGWINCH {
				if p.pty != nil && sio.In != nil {
					pty.InheritSize(sio.In, p.pty)
				}
				continue
			}
			p.cmd.Process.Signal(s)
		}
	}()
	if p.pty == nil {
		return p.wait()
	}
	if sio.In != nil && term.IsTerminal(int(sio.In.Fd())) {
		pty.InheritSize(sio.In, p.pty)
		// Raw mode: keys go to the container's terminal as typed (^C, ^D,
		// arrows), and it does the echoing.
		if old, err := term.MakeRaw(int(sio.In.Fd())); err == nil {
			defer term.Restore(int(sio.In.Fd()), old)
		}
	}
	if sio.In != nil {
		go io.Copy(p.pty, sio.In)
	}
	copied := make(chan struct{})
	go func() {
		copyTerminal(tee(sio.Log, "stdout", sio.Out), p.pty)
		close(copied)
	}()
	code := p.wait()
	<-copied
	p.pty.Close()
	return code
}

// copyTerminal copies what the container's terminal prints to dst until
// the last holder of the pty exits (EIO), then logs a last line left
// without a newline.
func copyTerminal(dst io.Writer, pty *os.File) {
	io.Copy(dst, pty)
	if f, ok := dst.(interface{ Flush() }); ok {
		f.Flush()
	}
}

// streams are a container's stdio without a terminal: pipes whose far ends
// are the container's fds 0, 1 and 2, and goroutines that copy between them
// and the caller's files, as runc and conmon do. The caller's files
// themselves (possibly its terminal, into which any process holding it may
// type with TIOCSTI) never reach the container. A nil *streams (with a
// tty) does nothing.
type streams struct {
	theirs []*os.File  // the child's ends, closed once it has started
	in     *os.File    // our end of stdin's pipe; nil: the child's stdin is /dev/null
	outs   []*os.File  // our ends of stdout's and stderr's pipes (one pipe when both go to one file)
	dsts   []io.Writer // where each of outs goes
	names  []string    // the stream each of outs is: "stdout", "stderr"
	wg     sync.WaitGroup
	// A shim that hands its pipes to its waiter (shimhandoff.go) stops
	// the copiers with held set: they return at the deadline leaving the
	// pipes open and the lines they have not ended unflushed. reads
	// counts the reads that returned data.
	held  atomic.Bool
	reads atomic.Int64
}

// pipeStdio makes the pipes of a child started without a terminal and sets
// them as cmd's stdio: stdin only if sio.In is set, a pipe for each of
// stdout and stderr (the log keeps them apart, as docker's), but one pipe
// for both when the caller's two are one file (its terminal, a `>out
// 2>&1`), so that their order there stays as written: two pipes read by
// two goroutines would mix them up under load (docker's and podman's
// streams do). The log then has that one stream, as stdout, as it has a
// terminal's (-t).
func pipeStdio(cmd *exec.Cmd, sio stdio) (*streams, error) {
	s := &streams{}
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err != nil {
			s.abandon()
			return nil, nil, fmt.Errorf("a pipe for the container's stdio: %w", err)
		}
		return r, w, nil
	}
	if sio.In != nil {
		r, w, err := pipe()
		if err != nil {
			return nil, err
		}
		s.theirs, s.in, cmd.Stdin = append(s.theirs, r), w, r
	}
	out := func(dst *os.File, stream string) (*os.File, error) {
		if dst == nil && sio.Log == nil && sio.Attached == nil {
			return nil, nil // /dev/null
		}
		r, w, err := pipe()
		if err != nil {
			return nil, err
		}
		var to io.Writer
		if dst != nil {
			to = dst
		} else if sio.Attached != nil {
			to = sio.Attached.stream(stream)
		}
		s.theirs, s.outs, s.dsts = append(s.theirs, w), append(s.outs, r), append(s.dsts, tee(sio.Log, stream, to))
		s.names = append(s.names, stream)
		return w, nil
	}
	w, err := out(sio.Out, "stdout")
	if err != nil {
		return nil, err
	}
	if w != nil {
		cmd.Stdout = w
	}
	if sio.Out != nil && sameFile(sio.Out, sio.Err) {
		if w != nil {
			cmd.Stderr = w
		}
		return s, nil
	}
	if w, err = out(sio.Err, "stderr"); err != nil {
		return nil, err
	}
	if w != nil {
		cmd.Stderr = w
	}
	return s, nil
}

// sameFile says whether a and b are one file (both nil, too).
func sameFile(a, b *os.File) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	var sa, sb unix.Stat_t
	// (Stat through the *os.File: Fd would make it blocking.)
	ca, err := a.SyscallConn()
	if err != nil {
		return false
	}
	cb, err := b.SyscallConn()
	if err != nil {
		return false
	}
	var ea, eb error
	ca.Control(func(fd uintptr) { ea = unix.Fstat(int(fd), &sa) })
	cb.Control(func(fd uintptr) { eb = unix.Fstat(int(fd), &sb) })
	return ea == nil && eb == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// start closes the child's ends (it has its own now) and starts copying:
// the caller's stdin into the container until EOF, which closes the pipe
// (as `echo hi | cat` expects), and what it prints out to the caller.
func (s *streams) start(sio stdio) {
	if s == nil {
		return
	}
	for _, f := range s.theirs {
		f.Close()
	}
	s.theirs = nil
	// A reader of our output that goes away (`mydocker run ... | head -1`)
	// must not kill us by SIGPIPE with the container still running: the
	// write fails with EPIPE instead, and the container meets a closed pipe
	// in turn (stopCopy), as it would have with the caller's pipe itself.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	if s.in != nil {
		go func() {
			io.Copy(s.in, sio.In)
			s.in.Close()
		}()
	}
	s.copy()
}

// copy starts a goroutine per output pipe that copies it to its
// destination.
func (s *streams) copy() {
	for i, src := range s.outs {
		s.wg.Add(1)
		go func(dst io.Writer, src *os.File) {
			defer s.wg.Done()
			if !copyOut(dst, src, s) {
				return // held
			}
			if f, ok := dst.(interface{ Flush() }); ok {
				f.Flush() // a last line without a newline
			}
		}(s.dsts[i], src)
	}
}

// copyOut copies what the container prints to dst until EOF, or until
// finish sets a deadline once the container has exited: what is left in
// the pipe is then passed on without waiting for a writer that a process
// left behind (an exec'd `sleep 100 &`) may keep open. If dst fails, src is
// closed: the container's next write fails with EPIPE. With s.held set,
// the deadline stops it instead, src left open: false.
func copyOut(dst io.Writer, src *os.File, s *streams) bool {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			s.reads.Add(1)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return true
			}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if s.held.Load() {
				return false
			}
			break
		}
		if err != nil {
			src.Close()
			return true
		}
	}
	defer src.Close()
	// The deadline has passed: read what the pipe holds, without waiting.
	src.SetReadDeadline(time.Time{})
	rc, err := src.SyscallConn()
	if err != nil {
		return true
	}
	for left := drainMax; left > 0; {
		var n int
		var rerr error
		rc.Read(func(fd uintptr) bool {
			n, rerr = unix.Read(int(fd), buf)
			return true // one try: EAGAIN means the pipe is empty
		})
		if n <= 0 || rerr != nil {
			return true
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return true
		}
		left -= n
	}
	return true
}

// drainMax bounds what copyOut passes on after the container has exited: a
// pipe holds 64 KiB by default, and more can only come from a process left
// behind that is still writing.
const drainMax = 1 << 20

// finish, once the child has exited, waits until what it printed has
// been passed on. It never waits on a pipe that a process the child left
// behind still holds open.
func (s *streams) finish() {
	if s == nil {
		return
	}
	for _, f := range s.outs {
		f.SetReadDeadline(time.Now())
	}
	s.wg.Wait()
}

// abandon closes both ends of every pipe, for a child that never started.
func (s *streams) abandon() {
	if s == nil {
		return
	}
	for _, f := range append(append(s.theirs, s.outs...), s.in) {
		if f != nil {
			f.Close()
		}
	}
	s.theirs, s.outs, s.in = nil, nil, nil
}

// inheritNothing marks every descriptor of this process from 3 up
// close-on-exec, before it starts a container's process: Go opens its own
// files that way, but what mydocker inherited from its caller (a shell's
// `3</dev/tty`, a terminal a wrapper kept open) stays open across exec,
// and would reach the container. The child then gets exactly what its
// exec.Cmd lists (ExtraFiles are dup'ed into place, which clears the flag).
func inheritNothing() {
	if unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	// Before Linux 5.11: one by one.
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}
