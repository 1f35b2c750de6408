package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
	"github.com/mydocker/mydocker/network"
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

// A command killed before any of its steps (planned: its owners are
// recorded dead, the init dies with its parent), then the next command,
// leave the state before or after it: for run, nothing made and no record,
// or (once its command ran) a record, exited, holding nothing but its own
// files; for rm -f of a running container, after the next rm -f, nothing.
func TestKilledAtEveryStep(t *testing.T) {
	none := RunOptions{Image: "busybox", Cmd: []string{"true"}, Network: NetworkNone, Detach: true}
	onNet := RunOptions{Image: "busybox", Cmd: []string{"true"}, Network: "n1", Publish: []string{"8080:80"}, Detach: true}
	// A network made first (not killed): its bridge and chains stay, the
	// container's endpoint (veth, address, port rules) goes.
	makeNet := func(r *Runtime) error {
		_, err := r.Networks().Create(network.CreateOptions{Name: "n1", Driver: "bridge", Subnet: "10.77.0.0/24"})
		return err
	}
	run := func(o RunOptions) func(*Runtime) error {
		return func(r *Runtime) error { _, _, err := r.Run(o, nil, nil, nil); return err }
	}
	list := func(r *Runtime) error { _, err := r.Store().List(); return err }
	var id string
	runIt := func(o RunOptions) func(*Runtime) error {
		return func(r *Runtime) (err error) { id, _, err = r.Run(o, nil, nil, nil); return err }
	}
	rm := func(r *Runtime) error { _, err := r.Remove(id, true); return err }
	rmAgain := func(r *Runtime) error {
		if _, err := r.Remove(id, true); err != nil && !errors.Is(err, ErrNotExist) {
			return err
		}
		return nil
	}
	foreground := none
	foreground.Detach = false
	for _, tc := range []struct {
		name         string
		made, before func(*Runtime) error // made first and kept; made first, to be changed
		act, next    func(*Runtime) error
	}{
		{"run -d", nil, nil, run(none), list},
		{"run", nil, nil, run(foreground), list},
		{"run -d --net -p", makeNet, nil, run(onNet), list},
		{"rm -f", nil, runIt(none), rm, rmAgain},
		{"rm -f --net -p", makeNet, runIt(onNet), rm, rmAgain},
	} {
		t.Run(tc.name, func(t *testing.T) { killedAtEveryStep(t, tc.made, tc.before, tc.act, tc.next) })
	}
}

// killedAtEveryStep does act once per step, on a fresh plan where made and
// before were done first, killed before that step; then next; and checks
// what is left against what made made.
func killedAtEveryStep(t *testing.T, made, before, act, next func(*Runtime) error) {
	type killed struct{}
	fresh := func() (*Runtime, *kernel.Plan, map[kernel.Object]bool) {
		r, p := planRuntime(t)
		base := map[kernel.Object]bool{}
		for i, f := range []func(*Runtime) error{made, before} {
			if f == nil {
				continue
			}
			if err := f(r); err != nil {
				t.Fatal(err)
			}
			mirror(p)
			if i == 0 {
				for _, o := range p.Made() {
					base[o] = true
				}
			}
		}
		return r, p, base
	}
	r, p, _ := fresh()
	first := len(p.Ops)
	if err := act(r); err != nil {
		t.Fatal(err)
	}
	steps := len(p.Ops) - first
	t.Logf("%d steps", steps)
	// With a network, the init's own steps (in its namespaces) and the
	// cgroup's, the same on any network, are left to the cases without
	// one: each step costs a plan of the network over the host's iptables.
	skip := func(n int) bool {
		cmd := p.Ops[first+n].Command().Text(nil)
		return made != nil && (strings.Contains(cmd, fmt.Sprintf("nsenter -t %d ", DryRunPid)) || strings.Contains(cmd, "/sys/fs/cgroup/"))
	}
	me := os.Getpid()
	alive := self
	defer func() { self = alive }()
	for n := 0; n < steps; n++ {
		if skip(n) {
			continue
		}
		r, p, base := fresh()
		i := 0
		var at kernel.Op
		p.Fail = func(op kernel.Op) error {
			if i++; i == n+1 {
				at = op
				panic(killed{})
			}
			return nil
		}
		self = func() (int, uint64) { return me, pidStart(me) + 1 }
		func() {
			defer func() {
				if v := recover(); v != nil && v != (killed{}) {
					panic(v)
				}
			}()
			act(r)
		}()
		what := fmt.Sprintf("step %d of %d: ", n, steps)
		if at == nil {
			// Fewer steps this time (the host's shared cgroup parent came
			// or went meanwhile): not killed, and checked all the same.
			what += "none, it ended"
		} else {
			what += at.Command().Text(nil)
		}
		p.Fail, self = nil, alive
		p.Gone(DryRunPid) // the init dies with its parent's pipe
		recorded := mirror(p)
		if err := next(r); err != nil {
			t.Errorf("killed before %s: the next command: %v", what, err)
			continue
		}
		list, err := r.Store().List()
		if err != nil {
			t.Fatalf("killed before %s: List: %v", what, err)
		}
		for _, c := range list {
			if c.Status != StatusExited || c.Releasing {
				t.Errorf("killed before %s: left %s %s", what, c.Status, ShortID(c.ID))
			}
		}
		for _, o := range p.Removed() {
			if base[o] {
				t.Errorf("killed before %s: removed %s", what, o)
			}
		}
		for _, o := range p.Made() {
			if base[o] || filepath.Base(o.Name) == cgroups.Parent || filepath.Base(filepath.Dir(o.Name)) == cgroups.Parent && o.Kind == "cgroupval" {
				continue // the network, the shared cgroup parent (and its cpuset) stay
			}
			if len(list) == 1 && strings.Contains(o.Name, list[0].ID) && !strings.Contains(o.Name, "cgroup") && o.In == 0 {
				continue // the exited container's own layer and state
			}
			if !recorded && filepath.Dir(o.Name) == filepath.Join(r.Paths.Root, "containers") {
				continue // a state directory with no record yet: on disk, swept (TestStoreSweepsEmptyStateDirs)
			}
			t.Errorf("killed before %s: left %s", what, o)
		}
	}
}

// mirror puts the state files as the plan has them where the next command
// reads them (the disk: it lists directories), and reports whether a
// container's record was among them.
func mirror(p *kernel.Plan) (record bool) {
	for _, op := range p.Ops {
		path := ""
		switch o := op.(type) {
		case kernel.WriteState:
			path = o.Path
		case kernel.RemoveState:
			path = o.Path
		default:
			continue
		}
		var raw json.RawMessage
		if kernel.ReadState(p, path, &raw) == nil {
			statefile.WriteFile(path, raw, 0o644)
		} else {
			os.Remove(path)
		}
		record = record || filepath.Base(path) == "config.json"
	}
	return record
}
