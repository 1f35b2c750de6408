//go:build cgroupv2vm

package cgroupv2

import (
	"strings"
	"testing"
)

// info says the host is unified and lists the controllers mydocker uses.
func TestInfoSaysUnified(t *testing.T) {
	e := newEnv(t)
	out := e.ok("info")
	if !strings.Contains(out, "Cgroup Version: 2 (unified") {
		t.Errorf("info does not say cgroup v2, unified:\n%s", out)
	}
	for _, c := range []string{"cpu", "cpuset", "memory", "pids"} {
		if !strings.Contains(out, " "+c) {
			t.Errorf("info lacks the %s controller:\n%s", c, out)
		}
	}
	t.Logf("info:\n%s", out)

	// The narration says it too, at the container's first cgroup step.
	r := e.run("run", "--rm", "--net", "none", "busybox", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "// this host is cgroup v2, unified (one cgroup2 hierarchy at /sys/fs/cgroup), with the controllers cpu cpuset") {
		t.Errorf("run's narration does not say the host is cgroup v2, unified (exit %d):\n%s", r.code, r.stderr)
	}
}
