// Package testetcd runs a real etcd for tests: Debian's etcd-server
// (/usr/bin/etcd, 3.4), a single member listening on one address of the
// network namespace the test is in (127.0.0.1 of a namespace the test made,
// never the host's own loopback), its data under the test's directory. It
// is ended by t.Cleanup, by its pid.
package testetcd

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is Debian's etcd server.
const Binary = "/usr/bin/etcd"

// healthyWithin bounds a start: a fresh single member elects itself in
// about a second.
const healthyWithin = 15 * time.Second

// Server is one etcd member.
type Server struct {
	t       testing.TB
	dataDir string
	logPath string
	ip      string
	netns   string // the network namespace it runs in; "": the caller's
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
}

// Start runs etcd on listenIP:2379 (clients) and :2380 (its peer port),
// its data and log under dir, and waits until it answers /health.
func Start(t testing.TB, dir, listenIP string) *Server { return StartIn(t, dir, listenIP, "") }

// StartIn is Start in another network namespace, the one netns names
// (/proc/PID/ns/net, /run/netns/NAME): the etcd host of a test that
// simulates several hosts. It is run through `nsenter --net`, which execs
// etcd (no fork: the pid is etcd's), and asked whether it is healthy
// from that namespace, with etcdctl.
func StartIn(t testing.TB, dir, listenIP, netns string) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("etcd: %v (apt-get install etcd-server: `make deps` does)", err)
	}
	s := &Server{t: t, dataDir: filepath.Join(dir, "etcd.data"), logPath: filepath.Join(dir, "etcd.log"), ip: listenIP, netns: netns}
	t.Cleanup(func() { s.Kill() })
	s.start()
	return s
}

// Endpoint is the client URL: http://IP:2379.
func (s *Server) Endpoint() string { return "http://" + s.ip + ":2379" }

func (s *Server) start() {
	s.t.Helper()
	peer := "http://" + s.ip + ":2380"
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	args := []string{
		"--name", "test",
		"--data-dir", s.dataDir,
		"--listen-client-urls", s.Endpoint(),
		"--advertise-client-urls", s.Endpoint(),
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "test=" + peer,
		"--initial-cluster-state", "new",
		"--logger", "zap", "--log-outputs", "stderr"}
	cmd := exec.Command(Binary, args...)
	if s.netns != "" {
		cmd = exec.Command("nsenter", append([]string{"--net=" + s.netns, Binary}, args...)...)
	}
	// Only these flags: an ETCD_* variable of the caller's would change it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = log, log
	// If the test binary dies, so does its etcd.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start etcd: %v", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.exited)
	deadline := time.Now().Add(healthyWithin)
	for {
		select {
		case <-s.exited:
			s.t.Fatalf("etcd exited at start:\n%s", s.logTail())
		default:
		}
		if s.healthy() {
			return
		}
		if time.Now().After(deadline) {
			s.Kill()
			s.t.Fatalf("etcd not healthy within %v:\n%s", healthyWithin, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthy asks etcd's /health (from its own namespace, with etcdctl).
func (s *Server) healthy() bool {
	if s.netns != "" {
		return exec.Command("nsenter", "--net="+s.netns, "etcdctl", "--endpoints="+s.Endpoint(),
			"--dial-timeout=1s", "--command-timeout=1s", "endpoint", "health").Run() == nil
	}
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get(s.Endpoint() + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`)
}

// logTail is the end of etcd's log, for a failure's message.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Pid is etcd's process id (0 when stopped).
func (s *Server) Pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop ends etcd as a service manager would (SIGTERM) and waits for it.
func (s *Server) Stop() { s.end(syscall.SIGTERM) }

// Kill ends etcd at once (SIGKILL), as a crash would, and waits for it. A
// stopped server is left as it is.
func (s *Server) Kill() { s.end(syscall.SIGKILL) }

func (s *Server) end(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart starts etcd again on its data (after Stop or Kill: the keys and
// leases it had are kept) and waits until it is healthy.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// String names the server in messages.
func (s *Server) String() string { return fmt.Sprintf("etcd at %s (pid %d)", s.Endpoint(), s.Pid()) }
