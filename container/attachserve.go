package container

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// # Attach: the shim serves the container's stdio
//
// The shim of a detached container holds its stdio: the pipes of its
// stdout and stderr (or its terminal's master, with -t), and, with -i,
// the write end of its stdin. It logs what the container prints and also
// serves it, live, on a unix socket in the container's state directory,
// attach.sock, as conmon's attach socket: `mydocker attach` connects
// there. The socket is SOCK_SEQPACKET, so every message keeps its
// boundaries and starts with a byte that says what it is:
//
//	shim -> attach   1 stdout data | 2 stderr data (a terminal's output is
//	                 stdout) | 4 exit: the container's exit code, 4 bytes,
//	                 big-endian, then the shim closes the connection
//	attach -> shim   0 stdin data (taken only if the container was run
//	                 with -i) | 3 resize: rows, cols, 2 bytes each
//
// Data messages carry at most attachChunk bytes. There is no history:
// attach sees what is printed from the moment it connects (logs has the
// rest), as docker's. Several clients may attach at once; each gets all
// of the output and may type. A client that does not take its output for
// attachSlow is disconnected rather than stalling the container (which
// the log must not miss). A client's end of input (EOF) leaves the
// container's stdin open, as docker's for a container started with -d:
// another attach may type into it later.
//
// The shim keeps no buffer per client and one goroutine per client (its
// input); the output is written to the clients by the goroutines that
// already copy it into the log.

const (
	attachStdin  byte = 0
	attachStdout byte = 1
	attachStderr byte = 2
	attachResize byte = 3
	attachExit   byte = 4
)

// attachChunk is the most data one message carries.
const attachChunk = 4096

// attachSlow is how long a write to an attached client may wait.
const attachSlow = 5 * time.Second

// attachSocket is where a detached container's shim serves its stdio.
func (p Paths) attachSocket(id string) string { return filepath.Join(p.StateDir(id), "attach.sock") }

// shortSocketPath calls fn with a path to the socket at path that fits a
// sockaddr_un (108 bytes): a long state directory is reached through a
// descriptor of it, /proc/self/fd/N/NAME, as conmon does.
func shortSocketPath(path string, fn func(string) error) error {
	if len(path) < 100 {
		return fn(path)
	}
	dir, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: filepath.Dir(path), Err: err}
	}
	defer unix.Close(dir)
	return fn(fmt.Sprintf("/proc/self/fd/%d/%s", dir, filepath.Base(path)))
}

// attachHub is the shim's attach socket and the clients attached to it.
type attachHub struct {
	ln    *net.UnixListener
	path  string
	mu    sync.Mutex
	conns map[*net.UnixConn]bool
	done  bool
	stdin io.Writer // where clients' input goes; nil: it is dropped
	pty   *os.File  // the terminal clients resize; nil without -t
	// accepting is closed when the accept loop ends (the socket closed,
	// or a deadline set by a shim that hands off: shimhandoff.go).
	accepting chan struct{}
}

// listenAttach makes container c's attach socket; its clients wait in
// the backlog until serve.
func (r *Runtime) listenAttach(c *Config) (*attachHub, error) {
	h := &attachHub{path: r.Paths.attachSocket(c.ID), conns: map[*net.UnixConn]bool{}}
	os.Remove(h.path) // a shim killed before (a restart) left it
	err := shortSocketPath(h.path, func(p string) error {
		ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: p, Net: "unixpacket"})
		if err == nil {
			ln.SetUnlinkOnClose(false) // p may not name it any more: close removes h.path
			h.ln = ln
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("attach socket of container %s: %w", c.Name, err)
	}
	return h, nil
}

// serve accepts clients from now on: their input goes to stdin, their
// terminal's size to pty (either may be nil).
func (h *attachHub) serve(stdin io.Writer, pty *os.File) {
	if h == nil {
		return
	}
	h.stdin, h.pty = stdin, pty
	h.accept()
}

// accept takes clients until the socket is closed or its deadline passes.
func (h *attachHub) accept() {
	h.accepting = make(chan struct{})
	go func() {
		defer close(h.accepting)
		for {
			conn, err := h.ln.AcceptUnix()
			if err != nil {
				return // closed
			}
			h.mu.Lock()
			if h.done {
				conn.Close()
			} else {
				h.conns[conn] = true
			}
			h.mu.Unlock()
			go h.input(conn)
		}
	}()
}

// input takes a client's messages until it goes.
func (h *attachHub) input(conn *net.UnixConn) {
	buf := make([]byte, attachChunk+1)
	for {
		n, err := conn.Read(buf)
		if err != nil || n == 0 {
			h.drop(conn)
			return
		}
		switch {
		case buf[0] == attachStdin && h.stdin != nil:
			h.stdin.Write(buf[1:n])
		case buf[0] == attachResize && h.pty != nil && n == 5:
			pty.Setsize(h.pty, &pty.Winsize{Rows: binary.BigEndian.Uint16(buf[1:]), Cols: binary.BigEndian.Uint16(buf[3:])})
		}
	}
}

func (h *attachHub) drop(conn *net.UnixConn) {
	h.mu.Lock()
	delete(h.conns, conn)
	h.mu.Unlock()
	conn.Close()
}

// stream is a writer of one of the container's output streams ("stdout",
// "stderr") to every attached client; it never fails (a client that
// cannot take it is dropped). One goroutine writes it.
func (h *attachHub) stream(name string) io.Writer {
	if h == nil {
		return nil
	}
	kind := attachStdout
	if name == "stderr" {
		kind = attachStderr
	}
	return &hubStream{h: h, kind: kind}
}

type hubStream struct {
	h    *attachHub
	kind byte
	msg  []byte // made on the first write with a client attached
}

func (s *hubStream) Write(p []byte) (int, error) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.conns) == 0 {
		return len(p), nil
	}
	if s.msg == nil {
		s.msg = make([]byte, attachChunk+1)
		s.msg[0] = s.kind
	}
	for rest := p; len(rest) > 0; {
		n := copy(s.msg[1:], rest)
		rest = rest[n:]
		h.send(s.msg[:n+1])
	}
	return len(p), nil
}

// send writes one message to every client (h.mu held).
func (h *attachHub) send(msg []byte) {
	for conn := range h.conns {
		conn.SetWriteDeadline(time.Now().Add(attachSlow))
		if _, err := conn.Write(msg); err != nil {
			delete(h.conns, conn)
			conn.Close()
		}
	}
}

// exit tells the clients the container's exit code and closes the socket.
func (h *attachHub) exit(code int) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	h.done = true
	msg := []byte{attachExit, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(msg[1:], uint32(code))
	h.send(msg)
	for conn := range h.conns {
		conn.Close()
	}
	h.conns = map[*net.UnixConn]bool{}
	h.ln.Close()
	os.Remove(h.path)
}

// shimIO is the stdio a shim gives its container: its log, its attach
// socket, and with -i (no terminal) the pipe its clients type into.
type shimIO struct {
	stdio
	inW       *os.File // our end of the container's stdin, with -i and no terminal
	openStdin bool     // -i: clients' input goes to the container
	// quiet is how long the container prints nothing before the shim
	// hands its wait off (shimhandoff.go); 0: shimQuiet.
	quiet time.Duration
}

// shimStdio opens container c's log and attach socket.
func (r *Runtime) shimStdio(c *Config) (*shimIO, error) {
	s := &shimIO{stdio: stdio{Tty: c.Tty}, openStdin: c.OpenStdin}
	var err error
	if s.Log, err = r.openLog(c); err != nil {
		return nil, err
	}
	if s.Attached, err = r.listenAttach(c); err != nil {
		s.close()
		return nil, err
	}
	if c.OpenStdin && !c.Tty {
		rd, w, err := os.Pipe()
		if err != nil {
			s.close()
			return nil, fmt.Errorf("stdin of container %s: %w", c.Name, err)
		}
		s.In, s.inW = rd, w
	}
	return s, nil
}

// serve lets clients attach to the started container p.
func (s *shimIO) serve(p *initProcess) {
	switch {
	case p.pty != nil && s.openStdin:
		s.Attached.serve(p.pty, p.pty)
	case p.pty != nil:
		s.Attached.serve(nil, p.pty)
	case s.inW != nil:
		s.Attached.serve(s.inW, nil)
	default:
		s.Attached.serve(nil, nil)
	}
}

func (s *shimIO) close() {
	s.Log.Close()
	s.Attached.exit(-1) // (once the container has exited, done already)
	if s.inW != nil {
		s.inW.Close()
		s.In.Close()
	}
}
