package testetcd

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/testns"
)

func TestMain(m *testing.M) { testns.Main(m) }

// An etcd in a network namespace of its own (a simulated etcd host)
// answers there, not in the caller's namespace, and is ended by its pid.
func TestStartInAnotherNamespace(t *testing.T) {
	testns.RequireRoot(t)
	holder := exec.Command("unshare", "--net", "sleep", "300")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	netns := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	// The namespace is there once the process's differs from ours.
	ours, _ := os.Readlink("/proc/self/ns/net")
	for i := 0; ; i++ {
		if theirs, _ := os.Readlink(netns); theirs != "" && theirs != ours {
			break
		}
		if i == 100 {
			t.Fatal("unshare --net made no namespace in 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := exec.Command("nsenter", "--net="+netns, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	s := StartIn(t, t.TempDir(), "127.0.0.1", netns)
	if s.Pid() == 0 {
		t.Fatal("no pid")
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:2379", time.Second); err == nil {
		c.Close()
		t.Error("etcd of another namespace answers on this namespace's loopback")
	}
	s.Kill()
	if s.healthy() {
		t.Error("healthy after Kill")
	}
	s.Restart()
	if !s.healthy() {
		t.Error("not healthy after Restart")
	}
}
