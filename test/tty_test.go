package test

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"testing"
	"time"

	"github.com/creack/pty"
)

// tty runs mydocker on a pty pair the test makes itself (CI has no
// terminal), types input after the first prompt and final at the end, and
// returns everything the terminal showed.
func (e *env) tty(t *testing.T, final, input string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--root", e.root, "--data-root", e.dataRoot}, args...)...)
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatalf("start on a pty: %v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, f); close(done) }()
	time.Sleep(500 * time.Millisecond) // let the shell print its prompt
	f.Write([]byte(input))
	time.Sleep(500 * time.Millisecond)
	f.Write([]byte(final))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mydocker %v: %v\n%s", args, err, out.String())
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	return out.String()
}
