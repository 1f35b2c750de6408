//go:build cgroupv2vm

package cgroupv2

import (
	"strings"
	"testing"
)

// pause and unpause drive cgroup2's freezer (cgroup.freeze, read back in
// cgroup.events); top lists the cgroup's processes; rm -f of a paused
// container thaws it first and leaves nothing.
func TestPauseTopOnV2(t *testing.T) {
	e := newEnv(t)
	id := e.quiet("run", "-d", "--net", "none", "--name", "p", "busybox", "sh", "-c", "sleep 600")
	if out := e.quiet("top", "p"); !strings.Contains(out, "sleep 600") {
		t.Errorf("top p does not list the sleep:\n%s", out)
	}
	e.quiet("pause", "p")
	if keyed(t, id, "cgroup.events", "frozen") != 1 || cgroupFile(t, id, "cgroup.freeze") != "1" {
		t.Errorf("after pause: cgroup.freeze %s, cgroup.events %q", cgroupFile(t, id, "cgroup.freeze"), cgroupFile(t, id, "cgroup.events"))
	}
	if out := e.quiet("ps"); !strings.Contains(out, "(Paused)") {
		t.Errorf("ps after pause:\n%s", out)
	}
	e.quiet("unpause", "p")
	if keyed(t, id, "cgroup.events", "frozen") != 0 {
		t.Errorf("after unpause: cgroup.events %q", cgroupFile(t, id, "cgroup.events"))
	}
	if out := e.quiet("exec", "p", "echo", "thawed"); out != "thawed" {
		t.Errorf("exec after unpause: %q", out)
	}
	e.quiet("pause", "p")
	e.quiet("rm", "-f", "p")
	noCgroupLeft(t, id)
}
