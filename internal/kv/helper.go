package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mydocker/mydocker/internal/kv/wire"
)

// HelperName is the executable that holds etcd's client (cmd/mydocker-kv).
const HelperName = "mydocker-kv"

// HelperEnv, when set, is the path of mydocker-kv to run, wherever it is
// (tests, and installs that keep it out of $PATH and away from mydocker).
// Not MYDOCKER_KV: that one is --kv's, the etcd URLs.
const HelperEnv = "MYDOCKER_KV_HELPER"

// helperPath finds mydocker-kv: $MYDOCKER_KV_HELPER, else beside the running
// mydocker (as `make install` puts it), else in $PATH. A mydocker running
// sealed (internal/exeseal: a memfd, or a detached overlay) has no
// directory of its own to look in; it has $PATH.
func helperPath() (string, error) {
	if p := os.Getenv(HelperEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s (etcd's client) not found: $%s=%s: %w", HelperName, HelperEnv, p, errors.Unwrap(err))
		}
		return p, nil
	}
	beside := ""
	if exe, err := os.Executable(); err == nil && filepath.IsAbs(exe) && !strings.HasPrefix(exe, "/memfd:") {
		beside = filepath.Join(filepath.Dir(exe), HelperName)
		if st, err := os.Stat(beside); err == nil && !st.IsDir() {
			return beside, nil
		}
	}
	p, err := exec.LookPath(HelperName)
	if err == nil {
		return p, nil
	}
	where := "in $PATH"
	if beside != "" {
		where = "at " + beside + " or in $PATH"
	}
	return "", fmt.Errorf("%s (etcd's client, installed beside mydocker by `make install`) not found %s", HelperName, where)
}

// helper is one running mydocker-kv: requests go to its stdin, a reader
// hands each response to the inbox of its request.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	wmu   sync.Mutex
	enc   *json.Encoder

	mu     sync.Mutex
	next   uint64
	inbox  map[uint64]*inbox
	closed bool // Close was called

	dead    chan struct{} // closed once the helper has exited
	deadErr error         // why, once dead is closed
	stderr  tail
}

// startHelper execs mydocker-kv at path.
func startHelper(path string) (*helper, error) {
	h := &helper{inbox: map[uint64]*inbox{}, dead: make(chan struct{})}
	h.cmd = exec.Command(path)
	h.cmd.Stderr = &h.stderr
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	h.enc = json.NewEncoder(h.stdin)
	go h.read(stdout)
	return h, nil
}

// read delivers every response until the helper's stdout ends; then the
// helper is dead, every call in flight fails and every stream ends.
func (h *helper) read(stdout io.Reader) {
	dec := json.NewDecoder(stdout)
	var readErr error
	for {
		var r wire.Response
		if readErr = dec.Decode(&r); readErr != nil {
			break
		}
		h.mu.Lock()
		b := h.inbox[r.ID]
		if r.End {
			delete(h.inbox, r.ID)
		}
		h.mu.Unlock()
		if b != nil {
			b.put(r, r.End)
		}
	}
	waitErr := h.cmd.Wait()
	h.mu.Lock()
	switch {
	case h.closed:
		h.deadErr = errors.New("etcd client closed")
	case waitErr != nil:
		h.deadErr = fmt.Errorf("%s (pid %d) ended: %v%s", HelperName, h.cmd.Process.Pid, waitErr, h.stderr.line())
	case !errors.Is(readErr, io.EOF):
		h.deadErr = fmt.Errorf("%s (pid %d): reading its answer: %v", HelperName, h.cmd.Process.Pid, readErr)
	default:
		h.deadErr = fmt.Errorf("%s (pid %d) exited%s", HelperName, h.cmd.Process.Pid, h.stderr.line())
	}
	boxes := h.inbox
	h.inbox = map[uint64]*inbox{}
	h.mu.Unlock()
	close(h.dead)
	for _, b := range boxes {
		b.put(wire.Response{}, true)
	}
}

// err is why the helper is gone.
func (h *helper) err() error {
	<-h.dead
	return h.deadErr
}

// open sends r under a new id and returns the inbox of its responses.
func (h *helper) open(r wire.Request) (*inbox, error) {
	h.mu.Lock()
	select {
	case <-h.dead:
		h.mu.Unlock()
		return nil, h.err()
	default:
	}
	h.next++
	r.ID = h.next
	b := newInbox(r.ID)
	h.inbox[r.ID] = b
	h.mu.Unlock()
	if err := h.write(r); err != nil {
		h.forget(r.ID)
		select {
		case <-h.dead:
			return nil, h.err()
		case <-time.After(time.Second): // a write error means it is ending
		}
		return nil, fmt.Errorf("%s: %w", HelperName, err)
	}
	return b, nil
}

func (h *helper) write(r wire.Request) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	return h.enc.Encode(r)
}

func (h *helper) forget(id uint64) {
	h.mu.Lock()
	delete(h.inbox, id)
	h.mu.Unlock()
}

// cancel ends request id in the helper (a stream, or a call given up).
func (h *helper) cancel(id uint64) {
	h.forget(id)
	h.write(wire.Request{Op: wire.OpCancel, Cancel: id}) // a dead helper has ended it already
}

// call sends r and waits for its answer, or for ctx to end (the helper
// is told to give up), or for the helper to die (its error).
func (h *helper) call(ctx context.Context, r wire.Request) (wire.Response, error) {
	if d, ok := ctx.Deadline(); ok {
		r.TimeoutMS = max(time.Until(d).Milliseconds(), 1)
	}
	b, err := h.open(r)
	if err != nil {
		return wire.Response{}, err
	}
	resp, ok := b.get(ctx)
	if !ok {
		if ctx.Err() != nil {
			h.cancel(b.id)
			return wire.Response{}, ctx.Err()
		}
		return wire.Response{}, h.err()
	}
	return resp, remoteErr(resp)
}

// close ends the helper: its stdin closes, it closes its connection to etcd
// and exits. Waits for that (a second at most; then it is killed).
func (h *helper) close() error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.stdin.Close()
	select {
	case <-h.dead:
	case <-time.After(time.Second):
		h.cmd.Process.Kill()
		<-h.dead
	}
	return nil
}

// errLeaseNotFound is etcd's "requested lease not found", told by the
// helper; leaseErr makes it ErrLeaseGone naming the lease.
var errLeaseNotFound = errors.New("etcdserver: requested lease not found")

// remoteError is an error the helper reported: its text, and what
// errors.Is should match it with.
type remoteError struct {
	msg string
	is  error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.is }

// remoteErr is r's error, if any, as mydocker's errors (ErrExists is left
// to CreateIfAbsent, which names the key).
func remoteErr(r wire.Response) error {
	if r.Err == "" {
		return nil
	}
	e := &remoteError{msg: r.Err}
	switch r.Code {
	case wire.CodeLeaseNotFound:
		e.is = errLeaseNotFound
	case wire.CodeDeadline:
		e.is = context.DeadlineExceeded
	case wire.CodeCanceled:
		e.is = context.Canceled
	case wire.CodeExists:
		e.is = ErrExists
	}
	return e
}

// inbox holds the responses to one request until they are taken: the
// reader never waits for a slow taker (a watch's events queue here).
type inbox struct {
	id    uint64
	mu    sync.Mutex
	q     []wire.Response
	ended bool
	ready chan struct{} // a token when q or ended changed
}

func newInbox(id uint64) *inbox { return &inbox{id: id, ready: make(chan struct{}, 1)} }

// put queues r (none when the helper died) and marks the end.
func (b *inbox) put(r wire.Response, end bool) {
	b.mu.Lock()
	if r.ID != 0 {
		b.q = append(b.q, r)
	}
	b.ended = b.ended || end
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// get takes the next response; false once ended and empty, or ctx ended.
func (b *inbox) get(ctx context.Context) (wire.Response, bool) {
	for {
		b.mu.Lock()
		if len(b.q) > 0 {
			r := b.q[0]
			b.q = b.q[1:]
			b.mu.Unlock()
			return r, true
		}
		ended := b.ended
		b.mu.Unlock()
		if ended {
			return wire.Response{}, false
		}
		select {
		case <-b.ready:
		case <-ctx.Done():
			return wire.Response{}, false
		}
	}
}

// tail keeps the end of what the helper writes on stderr (a Go panic's
// first line, a message) for the error that says it died.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

// line is ": " and the first non-empty line of the stderr kept, or "".
func (t *tail) line() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range bytes.Split(t.buf, []byte("\n")) {
		if s := strings.TrimSpace(string(l)); s != "" {
			return ": " + s
		}
	}
	return ""
}
