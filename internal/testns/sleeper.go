package testns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sleeper starts `unshare --net sleep 600`, a process in a network
// namespace of its own (standing for a container, or a simulated host),
// and returns its pid once it is there; it is killed, by pid, when the test
// ends.
func Sleeper(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL); cmd.Wait() })
	// unshare execs sleep in place: wait until the namespace is the new one.
	self, _ := os.Readlink("/proc/self/ns/net")
	for i := 0; i < 400; i++ {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && ns != self {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); strings.HasSuffix(exe, "sleep") {
				return pid
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("unshare --net sleep did not enter its namespace")
	return 0
}
