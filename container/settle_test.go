package container

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/internal/statefile"
)

// Records whose owner died are settled by the next listing: an abandoned
// creation is undone, a container that died unrecorded is recorded
// exited (255) and released, an interrupted --rm removal is finished; a
// record whose owner or init lives is left alone. Planned: the steps are
// checked, nothing changes.
func TestSettle(t *testing.T) {
	r, p := planRuntime(t)
	me := os.Getpid()
	start := pidStart(me)
	dead := start + 1 // this pid, but another process: gone
	recs := map[string]*Config{
		"abandoned":  {Status: StatusCreated, Creator: me, CreatorStart: dead},
		"creating":   {Status: StatusCreated, Creator: me, CreatorStart: start},
		"unrecorded": {Status: StatusRunning, Pid: me, PidStart: dead, MonitorPid: me, MonitorStart: dead},
		"removing":   {Status: StatusExited, AutoRemove: true, Releasing: true, MonitorPid: me, MonitorStart: dead},
		"orphaned":   {Status: StatusRunning, Pid: me, PidStart: start, MonitorPid: me, MonitorStart: dead},
		"done":       {Status: StatusExited, ExitCode: 3, MonitorPid: me, MonitorStart: dead},
	}
	ids := map[string]string{}
	i := 0
	for name, c := range recs {
		i++
		c.ID, c.Name, c.Cmd, c.Created = strings.Repeat(fmt.Sprintf("%x", i), 64), name, []string{"sh"}, time.Now()
		ids[name] = c.ID
		if err := statefile.WriteJSON(r.Paths.configPath(c.ID), c); err != nil {
			t.Fatal(err)
		}
	}
	alive := map[string]bool{}
	for name, id := range ids {
		alive[name] = r.ContainerAlive(id)
	}
	list, err := r.Store().List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Config{}
	for _, c := range list {
		got[c.Name] = c
	}
	for _, gone := range []string{"abandoned", "removing"} {
		if got[gone] != nil {
			t.Errorf("%s: still listed: %+v", gone, got[gone])
		}
	}
	for name, want := range map[string]string{"creating": StatusCreated, "unrecorded": StatusExited, "orphaned": StatusRunning, "done": StatusExited} {
		if got[name] == nil || got[name].Status != want {
			t.Errorf("%s: %+v, want status %s", name, got[name], want)
		}
	}
	if c := got["unrecorded"]; c != nil && (c.ExitCode != exitUnknown || c.Releasing || c.Error == "") {
		t.Errorf("unrecorded: exit %d, releasing %v, error %q", c.ExitCode, c.Releasing, c.Error)
	}
	if c := got["done"]; c != nil && c.ExitCode != 3 {
		t.Errorf("done: exit %d", c.ExitCode)
	}
	cmds := strings.Join(lines(r, p), "\n")
	for _, name := range []string{"abandoned", "removing"} {
		for _, want := range []string{"rm -rf /lib/containers/" + ids[name], "rm -rf /run/containers/" + ids[name]} {
			if !strings.Contains(cmds, want) {
				t.Errorf("%s: no %q in the plan:\n%s", name, want, cmds)
			}
		}
	}
	for _, name := range []string{"creating", "orphaned", "done", "unrecorded"} {
		if strings.Contains(cmds, "rm -rf /run/containers/"+ids[name]) {
			t.Errorf("%s: removed", name)
		}
	}
	// Network reconcile keeps the endpoints of what lives or is being made.
	for name, want := range map[string]bool{"abandoned": false, "creating": true, "unrecorded": false, "removing": false, "orphaned": true, "done": false} {
		if alive[name] != want {
			t.Errorf("ContainerAlive(%s) = %v, want %v", name, alive[name], want)
		}
	}
}
