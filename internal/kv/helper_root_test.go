package kv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/mydocker/mydocker/internal/testetcd"
	"github.com/mydocker/mydocker/internal/testns"
)

// A mydocker-kv killed under a client: every stream ends (a kept-alive
// lease is reported lost, a watch's channel closes) and every call after
// fails at once, in one line that says what became of it; none hangs.
func TestKilledHelperFailsCallsAndEndsStreams(t *testing.T) {
	_, c := withEtcd(t)
	id := grant(t, c, 60*time.Second, "/t/subnet")
	lost, err := c.KeepAlive(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	events := c.Watch(context.Background(), "/t/", 0)
	<-events // the first resync
	pid := c.h.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan struct{}{"keep-alive's lost": lost, "watch's events": drained(events)} {
		select {
		case <-ch:
		case <-time.After(2 * time.Second):
			t.Errorf("%s still open 2 s after mydocker-kv was killed", name)
		}
	}
	start := time.Now()
	_, _, _, err = c.Get(ctx(t), "/t/subnet")
	want := fmt.Sprintf("etcd get /t/subnet: mydocker-kv (pid %d) ended: signal: killed", pid)
	if err == nil || err.Error() != want {
		t.Errorf("get after mydocker-kv was killed: %v, want %q", err, want)
	}
	if err := realKernel().Do(Put{C: c, Key: "/t/x", Value: []byte("x")}); err == nil || !strings.Contains(err.Error(), "signal: killed") {
		t.Errorf("put after mydocker-kv was killed: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("calls to a killed mydocker-kv took %v to fail", d)
	}
	if _, err := c.KeepAlive(context.Background(), id); err == nil {
		t.Error("keep-alive after mydocker-kv was killed: no error")
	}
	if _, ok := <-c.Watch(context.Background(), "/t/", 0); ok {
		t.Error("a watch after mydocker-kv was killed delivered an event")
	}
}

// drained is closed once events is.
func drained(events <-chan Event) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range events {
		}
		close(done)
	}()
	return done
}

// Close ends mydocker-kv, and a mydocker killed with its client open takes
// mydocker-kv with it: its stdin closes, it exits. Nothing outlives mydocker.
func TestHelperEndsWithItsClient(t *testing.T) {
	srv, c := withEtcd(t)
	pid := c.h.cmd.Process.Pid
	c.Close()
	if c.h.cmd.ProcessState == nil {
		t.Errorf("mydocker-kv (pid %d) still running after Close", pid)
	}

	// A process of its own that dials and is then killed: this test
	// binary again, run as dialAndWait (TestMain).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), dialAndWaitEnv+"="+srv.Endpoint())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the dialling process said nothing: %v", err)
	}
	helperPid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the dialling process said %q", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for alive(helperPid) {
		if time.Now().After(deadline) {
			syscall.Kill(helperPid, syscall.SIGKILL) // it is the test's: end it
			t.Fatalf("mydocker-kv (pid %d) still runs 3 s after the mydocker that started it was killed", helperPid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive: pid runs (a zombie, which its parent, init, reaps, counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// dialAndWaitEnv makes the test binary a stand-in mydocker: dial the etcd
// named, print mydocker-kv's pid, and wait to be killed.
const dialAndWaitEnv = "KV_TEST_DIAL_AND_WAIT"

func dialAndWait() {
	c, err := Dial([]string{os.Getenv(dialAndWaitEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(c.h.cmd.Process.Pid)
	select {}
}

// What a kv call costs through mydocker-kv, beside etcd's client in the
// process (as internal/kv was before): Dial is an exec of mydocker-kv, its
// connection to etcd and one read; Get is one request and answer through
// the pipes. Figures in the package doc.
//
//	go test -run '^$' -bench 'Dial|Get' -benchtime 100x ./internal/kv   (as root)
func BenchmarkDialClose(b *testing.B) {
	testns.RequireRoot(b)
	srv := testetcd.Start(b, b.TempDir(), loopback)
	for b.Loop() {
		c, err := Dial([]string{srv.Endpoint()})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

func BenchmarkDialCloseInProcess(b *testing.B) {
	testns.RequireRoot(b)
	srv := testetcd.Start(b, b.TempDir(), loopback)
	for b.Loop() {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Get(context.Background(), Prefix, clientv3.WithCountOnly()); err != nil {
			b.Fatal(err)
		}
		cli.Close()
	}
}

func BenchmarkGet(b *testing.B) {
	testns.RequireRoot(b)
	srv := testetcd.Start(b, b.TempDir(), loopback)
	c, err := Dial([]string{srv.Endpoint()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if _, _, _, err := c.Get(context.Background(), "/t/none"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetInProcess(b *testing.B) {
	testns.RequireRoot(b)
	srv := testetcd.Start(b, b.TempDir(), loopback)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	for b.Loop() {
		if _, err := cli.Get(context.Background(), "/t/none"); err != nil {
			b.Fatal(err)
		}
	}
}
