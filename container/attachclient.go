package container

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"

	"github.com/mydocker/mydocker/internal/kernel"
)

// AttachOptions are `attach`'s flags.
type AttachOptions struct {
	NoStdin    bool   // do not send our stdin, even to a container run with -i
	SigProxy   bool   // pass the signals we get on to the container (not with a terminal, as docker's)
	DetachKeys string // the keys that detach (with a terminal), as docker writes them; "": ctrl-p,ctrl-q
}

// DefaultDetachKeys are docker's.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ParseDetachKeys reads a key sequence as docker's --detach-keys: keys
// separated by commas, each a single character or ctrl-X (X one of a-z,
// @, [, \, ], ^, _).
func ParseDetachKeys(s string) ([]byte, error) {
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			c := strings.ToLower(k)[5]
			switch {
			case c >= 'a' && c <= 'z':
				keys = append(keys, c-'a'+1)
			case c == '@':
				keys = append(keys, 0)
			case c >= '[' && c <= '_': // [ \ ] ^ _
				keys = append(keys, c-'['+27)
			default:
				return nil, fmt.Errorf("invalid detach keys %q: unknown character %q", s, k)
			}
		default:
			return nil, fmt.Errorf("invalid detach keys %q: unknown character %q", s, k)
		}
	}
	return keys, nil
}

// escaper watches typed input for the detach keys: what it passes on is
// the input without them (keys that begin the sequence are held until
// it is known whether the rest follows).
type escaper struct {
	keys    []byte
	matched int
}

// feed returns what of in is the container's, and whether the detach
// keys were typed (what followed them is dropped).
func (e *escaper) feed(in []byte, out []byte) ([]byte, bool) {
	for _, b := range in {
		if b == e.keys[e.matched] {
			if e.matched++; e.matched == len(e.keys) {
				return out, true
			}
			continue
		}
		// Not the sequence: the keys held were typed, and b may start it anew.
		out = append(out, e.keys[:e.matched]...)
		e.matched = 0
		if b == e.keys[0] {
			e.matched = 1
			if len(e.keys) == 1 {
				return out, true
			}
			continue
		}
		out = append(out, b)
	}
	return out, false
}

// Attach connects to a running detached container's stdio, through its
// shim's attach socket (see attachserve.go): what it prints from now on
// goes to out and errOut, and, if it was run with -i, our input to it.
// It returns the container's exit code once it exits; a user who types
// the detach keys (ctrl-p ctrl-q, with -t) detaches, and the container
// goes on.
func (r *Runtime) Attach(ref string, o AttachOptions, in, out, errOut *os.File) (int, error) {
	if o.DetachKeys == "" {
		o.DetachKeys = DefaultDetachKeys
	}
	keys, err := ParseDetachKeys(o.DetachKeys)
	if err != nil {
		return 0, err
	}
	c, err := r.store().Get(ref)
	if err != nil {
		return 0, err
	}
	if !c.IsRunning() {
		return 0, fmt.Errorf("container %s is not running: you cannot attach to a stopped container, start it first", c.Name)
	}
	if c.Paused {
		return 0, fmt.Errorf("container %s is paused: you cannot attach to a paused container, unpause it first", c.Name)
	}
	conn, err := dialAttach(r.Paths.attachSocket(c.ID))
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("container %s runs in the foreground of its `mydocker run`, which holds its terminal: only a detached container can be attached", c.Name)
	}
	if err != nil {
		return 0, fmt.Errorf("attach to container %s: its shim does not answer: %w", c.Name, err)
	}
	defer conn.Close()
	withStdin := c.OpenStdin && !o.NoStdin
	inTerm := term.IsTerminal(int(in.Fd()))
	if c.Tty && withStdin && !inTerm {
		return 0, fmt.Errorf("the input device is not a TTY: container %s has a terminal (-t); attach from a terminal, or with --no-stdin", c.Name)
	}
	if c.Tty && inTerm {
		sendSize(conn, in)
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGWINCH)
		defer signal.Stop(sigs)
		go func() {
			for range sigs {
				sendSize(conn, in)
			}
		}()
		if withStdin {
			// Raw: keys go to the container's terminal as typed; it echoes.
			if old, err := term.MakeRaw(int(in.Fd())); err == nil {
				defer term.Restore(int(in.Fd()), old)
			}
		}
	}
	if o.SigProxy && !c.Tty {
		stop := r.proxySignals(c)
		defer stop()
	}
	var detached atomic.Bool
	if withStdin {
		var esc *escaper
		if c.Tty {
			esc = &escaper{keys: keys}
		}
		go sendInput(conn, in, esc, &detached)
	}
	code, exited := receiveOutput(conn, out, errOut)
	if detached.Load() {
		fmt.Fprint(errOut, "read escape sequence\r\n")
		return 1, reportedError{1} // docker's code for a detach
	}
	if exited {
		return code, nil
	}
	// The shim went without telling the exit (killed): the record has it.
	return r.Wait(c.ID)
}

// dialAttach connects to the attach socket at path.
func dialAttach(path string) (*net.UnixConn, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	var conn *net.UnixConn
	err := shortSocketPath(path, func(p string) error {
		var err error
		conn, err = net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: p, Net: "unixpacket"})
		return err
	})
	return conn, err
}

// sendSize tells the shim the size of our terminal, for the container's.
func sendSize(conn *net.UnixConn, tty *os.File) {
	cols, rows, err := term.GetSize(int(tty.Fd()))
	if err != nil {
		return
	}
	msg := []byte{attachResize, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(msg[1:], uint16(rows))
	binary.BigEndian.PutUint16(msg[3:], uint16(cols))
	conn.Write(msg)
}

// sendInput sends what we read from in as the container's input, until
// EOF (the container's stdin stays open, as docker's) or, with a
// terminal, the detach keys (esc; nil without a terminal): then it marks
// detached and closes conn.
func sendInput(conn *net.UnixConn, in io.Reader, esc *escaper, detached *atomic.Bool) {
	buf := make([]byte, attachChunk)
	msg := make([]byte, 0, attachChunk+16)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			msg = append(msg[:0], attachStdin)
			detach := false
			if esc != nil {
				msg, detach = esc.feed(buf[:n], msg)
			} else {
				msg = append(msg, buf[:n]...)
			}
			if len(msg) > 1 {
				if _, err := conn.Write(msg); err != nil {
					return
				}
			}
			if detach {
				detached.Store(true)
				conn.Close()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// receiveOutput writes the container's output to out and errOut until
// the shim tells its exit code (exited) or the connection ends.
func receiveOutput(conn *net.UnixConn, out, errOut io.Writer) (code int, exited bool) {
	buf := make([]byte, attachChunk+1)
	for {
		n, err := conn.Read(buf)
		if err != nil || n == 0 {
			return 0, false
		}
		switch buf[0] {
		case attachStdout:
			out.Write(buf[1:n])
		case attachStderr:
			errOut.Write(buf[1:n])
		case attachExit:
			if n == 5 {
				return int(int32(binary.BigEndian.Uint32(buf[1:]))), true
			}
		}
	}
}

// proxySignals passes the signals attach gets on to the container's
// command, as docker attach's --sig-proxy; stop ends that.
func (r *Runtime) proxySignals(c *Config) (stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			if processAlive(c.Pid, c.PidStart) {
				r.K.Do(kernel.Signal{Pid: c.Pid, Sig: s.(syscall.Signal),
					Reason: "attach --sig-proxy: pass the signal mydocker got on to the container's command"})
			}
		}
	}()
	return func() { signal.Stop(sigs); close(sigs) }
}
