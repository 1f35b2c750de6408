//go:build cgroupv2vm

package cgroupv2

import (
	"strings"
	"testing"
)

// On v2 the init is cloned straight into its cgroup (clone3's
// CLONE_INTO_CGROUP): the command runs at the root of its own cgroup
// namespace, and the log says how it got there, with the write a shell
// would make instead.
func TestInitBornInItsCgroup(t *testing.T) {
	e := newEnv(t)
	r := e.run("run", "--rm", "--net", "none", "busybox", "cat", "/proc/self/cgroup")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "0::/" {
		t.Fatalf("run cat /proc/self/cgroup: exit %d, %q\n%s", r.code, r.stdout, r.stderr)
	}
	born := ""
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "CLONE_INTO_CGROUP") {
			born = l
		}
	}
	if born == "" || !strings.Contains(r.stderr, "/cgroup.procs") {
		t.Errorf("the log does not say the init was born in its cgroup:\n%s", r.stderr)
	}
}
