package network

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Orchestration tests without root: the Manager on a kernel.Plan over a
// MapWorld, so the steps, their order and their rollback are checked with
// no kernel change at all.

// planWorld is a host as the plan starts from: ip_forward already on (it
// is a host-wide setting mydocker turns on and never off).
func planWorld() kernel.MapWorld {
	return kernel.MapWorld{kernel.SysctlObj("net.ipv4.ip_forward", "1"): true}
}

func planManager(t *testing.T) (*Manager, *kernel.Plan) {
	t.Helper()
	l, _ := testLogger(t)
	p := kernel.NewPlan(planWorld(), l)
	return NewManager(t.TempDir(), p), p
}

var errInjected = errors.New("injected failure")

// failAt makes the k-th op from now on fail (k from 1).
func failAt(p *kernel.Plan, k int) *kernel.Op { return failFrom(p, k, k) }

// dieAt makes the plan stop changing anything from its k-th op on (k from
// 1), as a mydocker process killed there would: no rollback runs either.
func dieAt(p *kernel.Plan, k int) *kernel.Op { return failFrom(p, k, math.MaxInt) }

// failFrom fails the ops k to last from now on, and returns where the
// first of them will be.
func failFrom(p *kernel.Plan, k, last int) *kernel.Op {
	i := 0
	var failed kernel.Op
	p.Fail = func(op kernel.Op) error {
		if i++; i == k {
			failed = op
		}
		if i >= k && i <= last {
			return errInjected
		}
		return nil
	}
	return &failed
}

// objects lists objects, sorted.
func objects(os []kernel.Object) string {
	var s []string
	for _, o := range os {
		s = append(s, o.String())
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}

// noState checks that the plan holds no file for the network (its
// addresses with it).
func noState(t *testing.T, m *Manager, name string) {
	t.Helper()
	var nw Network
	if err := kernel.ReadState(m.k, m.netPath(name), &nw); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("network file left: %+v (%v)", nw, err)
	}
}

const planSubnet = "10.66.0.0/24"

func TestPlanCreateRollsBackAtEveryStep(t *testing.T) {
	m, p := planManager(t)
	if _, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet}); err != nil {
		t.Fatal(err)
	}
	n := len(p.Ops)
	if n < 7 { // 2 records, 5 link and sysctl steps, 1 restore
		t.Fatalf("a create of %d ops?\n%s", n, strings.Join(p.Commands(), "\n"))
	}
	for k := 1; k <= n; k++ {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			m, p := planManager(t)
			failed := failAt(p, k)
			_, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet})
			if !errors.Is(err, errInjected) {
				t.Fatalf("failing op %d (%v): err = %v", k, *failed, err)
			}
			if made := objects(p.Made()); made != "" {
				t.Errorf("failing op %d (%s), left:\n%s", k, (*failed).Command().Text(nil), made)
			}
			if rm := p.Removed(); len(rm) > 0 {
				t.Errorf("failing op %d, removed:\n%s", k, objects(rm))
			}
			noState(t, m, "plannet")
		})
	}
}

// created is a plan with a network and the made objects after its
// creation.
func created(t *testing.T) (*Manager, *kernel.Plan, string) {
	t.Helper()
	m, p := planManager(t)
	if _, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet}); err != nil {
		t.Fatal(err)
	}
	return m, p, objects(p.Made())
}

const planPid = 4242

func planAttach() Attachment {
	return attach("c0ffee00c0ffee00", planPid, "plannet", "18080:80", "127.0.0.1:18081:81/udp")
}

func TestPlanConnectRollsBackAtEveryStep(t *testing.T) {
	m, p, _ := created(t)
	before := len(p.Ops)
	if _, err := m.Connect(planAttach()); err != nil {
		t.Fatal(err)
	}
	n := len(p.Ops) - before
	if n < 9 {
		t.Fatalf("a connect of %d ops?\n%s", n, strings.Join(p.Commands()[before:], "\n"))
	}
	for k := 1; k <= n; k++ {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			m, p, made := created(t)
			failed := failAt(p, k)
			_, err := m.Connect(planAttach())
			if !errors.Is(err, errInjected) {
				t.Fatalf("failing op %d (%v): err = %v", k, *failed, err)
			}
			if now := objects(p.Made()); now != made {
				t.Errorf("failing op %d (%s): made\n%s\nwant\n%s", k, (*failed).Command().Text(nil), now, made)
			}
			if rm := p.Removed(); len(rm) > 0 {
				t.Errorf("failing op %d, removed:\n%s", k, objects(rm))
			}
			nw, err := m.Inspect("plannet")
			if err != nil {
				t.Fatal(err)
			}
			if len(nw.Containers) != 0 {
				t.Errorf("failing op %d: endpoint left: %+v", k, nw.Containers)
			}
			if pool, _ := poolOf(nw); len(pool.Allocated()) != 1 {
				t.Errorf("failing op %d: addresses still taken: %v", k, pool.Allocated())
			}
		})
	}
}

// index is the position of the first command holding sub, from from on.
func index(t *testing.T, cmds []string, from int, sub string) int {
	t.Helper()
	for i := from; i < len(cmds); i++ {
		if strings.Contains(cmds[i], sub) {
			return i
		}
	}
	t.Fatalf("no %q in\n%s", sub, strings.Join(cmds[from:], "\n"))
	return -1
}

// Disconnect unhooks the port chain before emptying and deleting it, and
// deletes the veth pair; what connect made is gone, what create made stays.
func TestPlanDisconnectOrder(t *testing.T) {
	m, p, made := created(t)
	if _, err := m.Connect(planAttach()); err != nil {
		t.Fatal(err)
	}
	from := len(p.Ops)
	if err := m.Disconnect("plannet", "c0ffee00c0ffee00"); err != nil {
		t.Fatal(err)
	}
	// One restore holds the rules' steps: their order is the lines'.
	cmds := strings.Split(strings.Join(p.Commands(), "\n"), "\n")
	from = index(t, cmds, 0, "-D MYDOCKER -j MYDOCKER-P-c0ffee00c0ff")
	jump := from
	hairpin := index(t, cmds, from, "-D MYDOCKER-POSTROUTING -s 10.66.0.2/32")
	flush := index(t, cmds, from, "-F MYDOCKER-P-c0ffee00c0ff")
	del := index(t, cmds, from, "-X MYDOCKER-P-c0ffee00c0ff")
	veth := index(t, cmds, from, "ip link del veth")
	if !(jump < flush && hairpin < flush && flush < del && del < veth) {
		t.Errorf("disconnect order:\n%s", strings.Join(cmds[from:], "\n"))
	}
	if now := objects(p.Made()); now != made {
		t.Errorf("after disconnect, made\n%s\nwant\n%s", now, made)
	}
	// Again: nothing left to do, nothing planned.
	n := len(p.Ops)
	if err := m.Disconnect("plannet", "c0ffee00c0ffee00"); err != nil || len(p.Ops) != n {
		t.Errorf("second disconnect: %v, %d ops", err, len(p.Ops)-n)
	}
}

// Remove refuses while an endpoint remains, and changes nothing then; once
// the container is gone, it takes everything with it, the base chains too.
func TestPlanRemoveRefusedWhileConnected(t *testing.T) {
	m, p, _ := created(t)
	if _, err := m.Connect(planAttach()); err != nil {
		t.Fatal(err)
	}
	n := len(p.Ops)
	if err := m.Remove("plannet"); !errors.Is(err, ErrInUse) {
		t.Fatalf("remove with an endpoint: %v", err)
	}
	if len(p.Ops) != n {
		t.Errorf("a refused remove planned:\n%s", strings.Join(p.Commands()[n:], "\n"))
	}
	if err := m.Disconnect("plannet", "c0ffee00c0ffee00"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("plannet"); err != nil {
		t.Fatal(err)
	}
	if made := objects(p.Made()); made != "" {
		t.Errorf("left after remove:\n%s", made)
	}
	noState(t, m, "plannet")
}

// The base chains stay while another network's rules are in them.
func TestPlanBaseChainsStayWhileUsed(t *testing.T) {
	m, p, _ := created(t)
	if _, err := m.Create(CreateOptions{Name: "other", Subnet: "10.67.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	from := len(p.Ops)
	if err := m.Remove("plannet"); err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Commands()[from:] {
		if strings.Contains(c, " -X ") {
			t.Errorf("a chain deleted while another network uses it: %s", c)
		}
	}
	if err := m.Remove("other"); err != nil {
		t.Fatal(err)
	}
	if made := objects(p.Made()); made != "" {
		t.Errorf("left after the last remove:\n%s", made)
	}
}

// Every step says why: a "$" line without its own "//" line only
// continues the step before it (the -X after a chain's -F).
func TestPlanEveryStepSaysWhy(t *testing.T) {
	m, p, _ := created(t)
	if _, err := m.Connect(planAttach()); err != nil {
		t.Fatal(err)
	}
	if err := m.Disconnect("plannet", "c0ffee00c0ffee00"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("plannet"); err != nil {
		t.Fatal(err)
	}
	for i, op := range p.Ops {
		cmd := op.Command()
		if len(cmd.Argv) == 0 && len(cmd.Shell) == 0 {
			continue // a record of mydocker's own state, not a kernel change
		}
		why := op.Why()
		if why == "" {
			_, isDelete := op.(kernel.ChainDelete)
			if _, flushed := p.Ops[i-1].(kernel.ChainFlush); !isDelete || !flushed {
				t.Errorf("no why for %s", cmd.Text(nil))
			}
			continue
		}
		if f := strings.Fields(why)[0]; f != strings.ToLower(f) && f != strings.ToUpper(f) {
			t.Errorf("why %q: lowercase, one voice", why)
		}
	}
}

// A command killed at any step leaves what the next command puts back: the
// state before it (a create or connect undone), or with wantAfter the state
// after it too (a remove finished, a retry that succeeds). Each case runs
// op, killed at every step in turn, then next on a fresh Manager (the next
// process), and compares the plan's objects.
func TestPlanCrashAtEveryStepIsRecovered(t *testing.T) {
	type manager = *Manager
	reconcile := func(m manager) error { return m.Reconcile(func(string) bool { return false }) }
	for _, tc := range []struct {
		name  string
		setup func(m manager) error
		op    func(m manager) error
		next  func(m manager) error
		// after the op too: what next may leave besides the state before it
		wantAfter bool
	}{
		{name: "create then list", op: func(m manager) error {
			_, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet})
			return err
		}, next: func(m manager) error { _, err := m.List(); return err }},
		{name: "create then retry", op: func(m manager) error {
			_, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet})
			return err
		}, next: func(m manager) error {
			_, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet})
			if errors.Is(err, ErrExists) {
				return nil
			}
			return err
		}, wantAfter: true},
		{name: "remove then list", setup: func(m manager) error {
			_, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet})
			return err
		}, op: func(m manager) error { return m.Remove("plannet") },
			next: func(m manager) error { _, err := m.List(); return err }, wantAfter: true},
		{name: "connect then reconcile", setup: func(m manager) error {
			_, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet})
			return err
		}, op: func(m manager) error { _, err := m.Connect(planAttach()); return err }, next: reconcile},
		{name: "disconnect then disconnect", setup: func(m manager) error {
			if _, err := m.Create(CreateOptions{Name: "plannet", Subnet: planSubnet}); err != nil {
				return err
			}
			_, err := m.Connect(planAttach())
			return err
		}, op: func(m manager) error { return m.Disconnect("plannet", planAttach().Container) },
			next: func(m manager) error { return m.Disconnect("plannet", planAttach().Container) }, wantAfter: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One run to the end: the number of steps, and the state after.
			m, p := planManager(t)
			if tc.setup != nil {
				if err := tc.setup(m); err != nil {
					t.Fatal(err)
				}
			}
			made := func(m *Manager, p *kernel.Plan) string {
				return strings.ReplaceAll(objects(p.Made()), filepath.Dir(m.dir), "$ROOT")
			}
			before, start := made(m, p), len(p.Ops)
			if err := tc.op(m); err != nil {
				t.Fatal(err)
			}
			after, n := made(m, p), len(p.Ops)-start
			want := before
			if tc.wantAfter {
				want = after + "\n-- or --\n" + before
			}
			for k := 1; k <= n; k++ {
				m, p := planManager(t)
				if tc.setup != nil {
					tc.setup(m)
				}
				at := dieAt(p, k)
				if err := tc.op(m); err == nil {
					t.Fatalf("killed at step %d, the op succeeded", k)
				}
				p.Fail = nil
				if err := tc.next(NewManager(filepath.Dir(m.dir), p)); err != nil {
					t.Errorf("killed at step %d: the next command: %v", k, err)
				}
				if got := made(m, p); got != before && (!tc.wantAfter || got != after) {
					t.Errorf("killed at step %d of %d (%s): left\n%s\nwant\n%s", k, n, (*at).Command().Text(nil), got, want)
				}
			}
			t.Logf("%d kill points", n)
		})
	}
}

// Rename renames the endpoint and rewrites the hosts files; cut short
// before the hosts files, running it again writes them (and says no
// endpoint had another name any more).
func TestPlanRename(t *testing.T) {
	m, p, _ := created(t)
	a := planAttach()
	a.HostsPath = "/run/c0ffee/hosts"
	if _, err := m.Connect(a); err != nil {
		t.Fatal(err)
	}
	dieAt(p, 2) // the network's record is written, its hosts file is not
	if _, err := m.Rename(a.Container, "newname"); err == nil {
		t.Fatal("no op was cut short")
	}
	p.Fail = nil
	before := len(p.Commands())
	changed, err := m.Rename(a.Container, "newname")
	if err != nil || changed {
		t.Fatalf("Rename again = %v, %v; want no endpoint to rename", changed, err)
	}
	if cmds := strings.Join(p.Commands()[before:], "\n"); !strings.Contains(cmds, a.HostsPath) || !strings.Contains(cmds, "newname") {
		t.Errorf("the second rename did not write the hosts file the first left undone:\n%s", cmds)
	}
	nw, _ := m.Inspect("plannet")
	if ep := nw.Containers[a.Container]; ep == nil || ep.Name != "newname" {
		t.Errorf("endpoint after rename: %+v", ep)
	}
}
