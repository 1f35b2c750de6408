package cgroups

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	devconfig "github.com/opencontainers/cgroups/devices/config"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// hybridTree lays out a hybrid host like this machine: the v1 controllers,
// blkio, the named systemd hierarchy, and a cgroup2 with no controllers.
// The devices root allows everything, as the kernel's does.
func hybridTree(t *testing.T) *fakeFS {
	f := v1Tree(t)
	f.put("devices/devices.list", "a *:* rwm\n")
	f.put("blkio/cgroup.procs", "")
	f.put("name=systemd/cgroup.procs", "")
	f.put("unified/cgroup.controllers", "hugetlb\n")
	f.put("unified/cgroup.subtree_control", "")
	return f
}

// docker's devices.list as the v1 writes after the deny of everything.
func defaultAllows() []string {
	var out []string
	for _, e := range mustList(security.DefaultDeviceRules()) {
		out = append(out, "echo '"+e.String()+"' > /cg/devices/mydocker/c1/devices.allow")
	}
	return out
}

func mustList(rules []*devconfig.Rule) []security.DeviceEntry {
	l, err := security.ExpectedDevicesList(rules)
	if err != nil {
		panic(err)
	}
	return l
}

// A container on a hybrid host: a cgroup in every hierarchy, the v1
// devices controller set to docker's allowlist and read back, the device
// program on its cgroup2 directory; the init in all of them; all removed.
func TestHybridEveryHierarchyAndDevices(t *testing.T) {
	f := hybridTree(t)
	m := f.manager("c1")
	if err := m.Set(nil); err != nil { // a config with no limits and no rules
		t.Fatal(err)
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	hierarchies := []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio", "name=systemd", "unified"}
	var want []string
	for _, h := range hierarchies {
		want = append(want, "mkdir -p /cg/"+h+"/mydocker/c1")
	}
	want = append(want,
		"cat /cg/cpuset/cpuset.cpus > /cg/cpuset/mydocker/cpuset.cpus",
		"cat /cg/cpuset/cpuset.mems > /cg/cpuset/mydocker/cpuset.mems",
		"cat /cg/cpuset/mydocker/cpuset.cpus > /cg/cpuset/mydocker/c1/cpuset.cpus",
		"cat /cg/cpuset/mydocker/cpuset.mems > /cg/cpuset/mydocker/c1/cpuset.mems",
		"echo a > /cg/devices/mydocker/c1/devices.deny")
	want = append(want, defaultAllows()...)
	want = append(want, "cat /cg/devices/mydocker/c1/devices.list", programCmd("/cg/unified/mydocker/c1"))
	for _, h := range hierarchies {
		want = append(want, "echo 4242 > /cg/"+h+"/mydocker/c1/cgroup.procs")
	}
	sameLines(t, "narrated commands", f.takeCmds(), want)

	got, err := security.ParseDevicesList(strings.NewReader(f.get("devices/mydocker/c1/devices.list")))
	if err != nil || !security.SameDevicesList(got, defaultList(t)) {
		t.Errorf("devices.list = %v (%v), want docker's %v", got, err, defaultList(t))
	}
	if p := f.programs["/cg/unified/mydocker/c1"]; !security.SameDevicesList(p, defaultList(t)) {
		t.Errorf("the cgroup2 device program allows %v, want docker's", p)
	}
	if len(m.Paths()) != len(hierarchies) || m.Paths()[""] != f.root+"/unified/mydocker/c1" || m.Paths()["name=systemd"] != f.root+"/name=systemd/mydocker/c1" {
		t.Errorf("Paths() = %v", m.Paths())
	}

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	var rm []string
	for _, h := range hierarchies {
		rm = append(rm, "rmdir /cg/"+h+"/mydocker/c1")
		if f.exists(h + "/mydocker/c1") {
			t.Errorf("%s: cgroup left after Destroy", h)
		}
	}
	sameLines(t, "destroy", f.takeCmds(), rm)
	if err := m.Destroy(); err != nil || len(f.takeCmds()) != 0 {
		t.Errorf("a second Destroy: %v, narrated %q", err, f.cmds)
	}
}

// Every write of the devices controller says why, in one voice, and the
// nodes of docker's list are named.
func TestDeviceWhys(t *testing.T) {
	ops, err := devicesV1(nil, "/d", security.DefaultDeviceRules())
	if err != nil {
		t.Fatal(err)
	}
	var whys []string
	for _, op := range ops {
		why := op.Why()
		if why == "" || strings.ToLower(why[:1]) != why[:1] || strings.HasSuffix(why, ".") {
			t.Errorf("%s: why %q", op.Command().Text(nil), why)
		}
		whys = append(whys, why)
	}
	all := strings.Join(whys, "\n")
	for _, want := range []string{"allow /dev/null: read, write, mknod", "the pseudo-terminals", "any block device node (mknod)", "first deny every device"} {
		if !strings.Contains(all, want) {
			t.Errorf("no why says %q:\n%s", want, all)
		}
	}
	prog := deviceProgram{dir: "/u", rules: security.DefaultDeviceRules()}
	if c := prog.Command(); len(c.Argv)+len(c.Shell) != 0 || !strings.Contains(c.Comment, "c 1:3 rwm") || !strings.Contains(c.Comment, "/u") {
		t.Errorf("the program's step: %+v, want a comment naming the allowed devices and the cgroup", c)
	}
	if why := prog.Why(); strings.ToLower(why[:1]) != why[:1] {
		t.Errorf("program why %q", why)
	}
}

// A --device rule after docker's list: its node is allowed too, on v1 and
// in the program. --privileged: every device, one write.
func TestDeviceRulesFromConfig(t *testing.T) {
	f := hybridTree(t)
	kmsg := &devconfig.Rule{Type: devconfig.CharDevice, Major: 1, Minor: 11, Permissions: "r", Allow: true}
	m := f.manager("c1")
	if err := m.Set(&Resources{Devices: append(security.DefaultDeviceRules(), kmsg)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(f.takeCmds(), "\n"), "echo 'c 1:11 r' > /cg/devices/mydocker/c1/devices.allow") {
		t.Errorf("no allow write for --device's rule")
	}
	if !strings.Contains(f.get("devices/mydocker/c1/devices.list"), "c 1:11 r\n") {
		t.Errorf("devices.list lacks c 1:11 r:\n%s", f.get("devices/mydocker/c1/devices.list"))
	}
	if p := f.programs["/cg/unified/mydocker/c1"]; len(p) != len(defaultList(t))+1 {
		t.Errorf("the program allows %v", p)
	}

	p := f.manager("p")
	if err := p.Set(&Resources{Devices: security.PrivilegedDeviceRules()}); err != nil {
		t.Fatal(err)
	}
	var dev []string
	for _, c := range f.takeCmds() {
		if strings.Contains(c, "devices") || strings.Contains(c, "eBPF") {
			dev = append(dev, c)
		}
	}
	sameLines(t, "--privileged", dev, []string{
		"mkdir -p /cg/devices/mydocker/p",
		"echo a > /cg/devices/mydocker/p/devices.allow",
		"cat /cg/devices/mydocker/p/devices.list",
		deviceProgram{dir: "/cg/unified/mydocker/p", rules: security.PrivilegedDeviceRules()}.Command().Text(nil),
	})
	if f.get("devices/mydocker/p/devices.list") != "a *:* rwm\n" {
		t.Errorf("privileged devices.list = %q", f.get("devices/mydocker/p/devices.list"))
	}
}

// The list read back is the kernel's word: one that differs from the
// rules' (a write the kernel dropped) fails Set, before the init joins.
func TestDevicesListMismatch(t *testing.T) {
	f := hybridTree(t)
	m := f.manager("c1").(*v1)
	m.fs.Write = func(p, value string) error {
		if strings.HasSuffix(p, "devices.allow") && value == "c 1:3 rwm" {
			return nil // lost
		}
		return kernelWrite(p, value)
	}
	err := m.Set(nil)
	if err == nil || !strings.Contains(err.Error(), "devices.list") {
		t.Errorf("Set with /dev/null missing from devices.list: %v", err)
	}
}

// A rule list that does not start by denying everything (other than
// --privileged's) is refused, not applied on top of the parent's.
func TestDeviceRulesMustDenyFirst(t *testing.T) {
	f := hybridTree(t)
	err := f.manager("c1").Set(&Resources{Devices: []*devconfig.Rule{{Type: devconfig.CharDevice, Major: 1, Minor: 3, Permissions: "rwm", Allow: true}}})
	if err == nil {
		t.Errorf("an allow-only list was applied")
	}
}

// A program that cannot be attached (a kernel without BPF device
// programs) is an error: the container does not start unconfined.
func TestDeviceProgramFailure(t *testing.T) {
	f := v2Tree(t)
	m := f.manager("c1").(*v2)
	m.attach = func(string, []*devconfig.Rule) error { return errors.New("BPF_PROG_ATTACH: invalid argument") }
	if err := m.Set(nil); err == nil || !strings.Contains(err.Error(), "no shell command attaches one") {
		t.Errorf("Set with a failing attach: %v", err)
	}
}

// A container's config written before there were device rules has none:
// it gets docker's allowlist, never every device.
func TestOldConfigGetsDefaultDevices(t *testing.T) {
	var r Resources
	if err := json.Unmarshal([]byte(`{"Memory":67108864}`), &r); err != nil {
		t.Fatal(err)
	}
	if got := mustList(deviceRules(&r)); !security.SameDevicesList(got, defaultList(t)) {
		t.Errorf("rules of an old config: %v", got)
	}
	if got := mustList(deviceRules(nil)); !security.SameDevicesList(got, defaultList(t)) {
		t.Errorf("rules of no resources: %v", got)
	}
	// The rules survive the state file.
	b, _ := json.Marshal(Resources{Devices: security.PrivilegedDeviceRules()})
	var back Resources
	if err := json.Unmarshal(b, &back); err != nil || len(back.Devices) != 1 || !back.Devices[0].Allow || back.Devices[0].Type != 'a' {
		t.Errorf("round trip of %s: %+v, %v", b, back.Devices, err)
	}
}

// A plan of a hybrid container makes and writes nothing, reads nothing
// back, attaches nothing, and plans the same steps as a real run.
func TestHybridPlan(t *testing.T) {
	f := hybridTree(t)
	p := kernel.NewPlan(kernel.NewReal(nil), nil)
	m, err := NewAt(f.root, "c1", p)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(4194304); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	cmds := strings.ReplaceAll(strings.Join(p.Commands(), "\n"), f.root, "/cg")
	for _, want := range []string{
		"mkdir -p /cg/name=systemd/mydocker/c1", "mkdir -p /cg/unified/mydocker/c1",
		"echo a > /cg/devices/mydocker/c1/devices.deny", "cat /cg/devices/mydocker/c1/devices.list",
		programCmd("/cg/unified/mydocker/c1"),
		"echo 4194304 > /cg/blkio/mydocker/c1/cgroup.procs", "rmdir /cg/unified/mydocker/c1",
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("plan lacks %q:\n%s", want, cmds)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(f.root, "unified")); len(ents) != 2 || f.exists("devices/mydocker") {
		t.Errorf("a plan changed the tree")
	}
	for _, o := range p.Made() {
		if filepath.Base(o.Name) != Parent && filepath.Base(filepath.Dir(o.Name)) != Parent {
			t.Errorf("the plan leaves %s", o)
		}
	}
}
