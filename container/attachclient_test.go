package container

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDetachKeys(t *testing.T) {
	for in, want := range map[string]string{
		"ctrl-p,ctrl-q":  "\x10\x11",
		"ctrl-a,x":       "\x01x",
		"ctrl-@,ctrl-[":  "\x00\x1b",
		"ctrl-\\,ctrl-_": "\x1c\x1f",
		"CTRL-Z":         "\x1a",
	} {
		got, err := ParseDetachKeys(in)
		if err != nil || string(got) != want {
			t.Errorf("ParseDetachKeys(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q"} {
		if _, err := ParseDetachKeys(bad); err == nil {
			t.Errorf("ParseDetachKeys(%q): no error", bad)
		}
	}
}

// The detach keys are held until the sequence is complete; keys that
// only begin it were typed, and are passed on.
func TestEscaper(t *testing.T) {
	for _, tc := range []struct {
		reads  []string
		out    string
		detach bool
	}{
		{[]string{"ls\r"}, "ls\r", false},
		{[]string{"a\x10\x11b"}, "a", true},
		{[]string{"a\x10", "\x11"}, "a", true},
		{[]string{"\x10x"}, "\x10x", false},
		{[]string{"\x10\x10\x11"}, "\x10", true},
		{[]string{"\x10", "y"}, "\x10y", false},
	} {
		e := &escaper{keys: []byte{0x10, 0x11}}
		var out []byte
		detach := false
		for _, r := range tc.reads {
			out, detach = e.feed([]byte(r), out)
			if detach {
				break
			}
		}
		if string(out) != tc.out || detach != tc.detach {
			t.Errorf("%q: %q, %v; want %q, %v", tc.reads, out, detach, tc.out, tc.detach)
		}
	}
}

// The shim's side and attach's side of the attach socket, in one process:
// output to every client, in order and by stream, a client's input to the
// container's stdin, the exit code; a state directory too long for a
// socket's address is reached through a descriptor.
func TestAttachSocket(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 60))
	r := &Runtime{Paths: Paths{Root: long}}
	c := &Config{ID: strings.Repeat("a", 64), Name: "x"}
	if err := os.MkdirAll(r.Paths.StateDir(c.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if len(r.Paths.attachSocket(c.ID)) < 108 {
		t.Fatalf("the socket's path is short enough for sockaddr_un: the test proves nothing")
	}
	h, err := r.listenAttach(c)
	if err != nil {
		t.Fatal(err)
	}
	stdinR, stdinW, _ := os.Pipe()
	defer stdinR.Close()
	h.serve(stdinW, nil)
	conns := make([]*net.UnixConn, 2)
	for i := range conns {
		if conns[i], err = dialAttach(r.Paths.attachSocket(c.ID)); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	// Accepted (serve's goroutine) before the output starts.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		h.mu.Lock()
		n := len(h.conns)
		h.mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
	}
	big := strings.Repeat("x", 3*attachChunk+5) + "\n"
	out, errOut := h.stream("stdout"), h.stream("stderr")
	out.Write([]byte("one\n"))
	errOut.Write([]byte("oops\n"))
	out.Write([]byte(big))
	conns[0].Write(append([]byte{attachStdin}, "typed\n"...))
	got := make([]byte, 6)
	if _, err := io.ReadFull(stdinR, got); err != nil || string(got) != "typed\n" {
		t.Errorf("stdin: %q, %v", got, err)
	}
	h.exit(7)
	if _, err := os.Stat(r.Paths.attachSocket(c.ID)); !os.IsNotExist(err) {
		t.Errorf("the socket is left after exit: %v", err)
	}
	for i, conn := range conns {
		var o, e strings.Builder
		code, exited := receiveOutput(conn, &o, &e)
		if !exited || code != 7 || o.String() != "one\n"+big || e.String() != "oops\n" {
			t.Errorf("client %d: exit %d (%v), stdout of %d bytes, stderr %q", i, code, exited, o.Len(), e.String())
		}
	}
}
