package cgroups

import (
	"strings"
	"testing"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// v2Tree lays out a cgroup2 mount whose root offers the usual controllers
// and has enabled none of them yet.
func v2Tree(t *testing.T) *fakeFS {
	f := newFake(t)
	f.put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
	f.put("cgroup.subtree_control", "\n")
	f.put("cgroup.procs", "")
	return f
}

func TestV2ApplySetDestroy(t *testing.T) {
	f := v2Tree(t)
	m := f.manager("c1")
	if m.Mode() != V2 {
		t.Fatalf("mode %v, want v2", m.Mode())
	}
	r := &Resources{Memory: 64 << 20, MemorySwap: 96 << 20, CPUShares: 512, NanoCPUs: 15e8, CpusetCpus: "0", CpusetMems: "0", PidsLimit: 20}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "narrated commands", f.takeCmds(), []string{
		"mkdir -p /cg/mydocker",
		"echo '+cpu +cpuset +memory +pids' > /cg/cgroup.subtree_control",
		"echo '+cpu +cpuset +memory +pids' > /cg/mydocker/cgroup.subtree_control",
		"mkdir -p /cg/mydocker/c1",
		"echo 67108864 > /cg/mydocker/c1/memory.max",
		"echo 33554432 > /cg/mydocker/c1/memory.swap.max",
		"echo 20 > /cg/mydocker/c1/cpu.weight",
		"echo '150000 100000' > /cg/mydocker/c1/cpu.max",
		"echo 0 > /cg/mydocker/c1/cpuset.cpus",
		"echo 0 > /cg/mydocker/c1/cpuset.mems",
		"echo 20 > /cg/mydocker/c1/pids.max",
		programCmd("/cg/mydocker/c1"),
		"echo 4242 > /cg/mydocker/c1/cgroup.procs",
	})
	if got, want := f.programs["/cg/mydocker/c1"], defaultList(t); !security.SameDevicesList(got, want) {
		t.Errorf("device program allows %v, want docker's %v", got, want)
	}
	if got := f.get("mydocker/c1/cgroup.controllers"); got != "cpuset cpu memory pids" {
		t.Errorf("leaf controllers = %q: subtree_control was not enabled down to it", got)
	}
	if p := m.Paths()[""]; p != f.root+"/mydocker/c1" {
		t.Errorf("Paths() = %v", m.Paths())
	}

	// A second container finds the controllers already on: no writes.
	b := f.manager("c2")
	if err := b.Apply(7); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "second container", f.takeCmds(), []string{
		"mkdir -p /cg/mydocker/c2",
		"echo 7 > /cg/mydocker/c2/cgroup.procs",
	})

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if f.exists("mydocker/c1") || !f.exists("mydocker/c2") {
		t.Errorf("Destroy of c1 must remove c1 only")
	}
	if err := b.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !f.exists("mydocker") || f.exists("mydocker/c2") {
		t.Errorf("after the last container, mydocker/ stays (empty) for the next")
	}
	sameLines(t, "destroy", f.takeCmds(), []string{
		"rmdir /cg/mydocker/c1",
		"rmdir /cg/mydocker/c2",
	})
	if err := m.Destroy(); err != nil {
		t.Errorf("Destroy of a gone cgroup: %v", err)
	}
}

// Only the controllers the parent offers are enabled (a v2 host without
// cpuset delegation, say).
func TestV2EnablesOnlyWhatIsOffered(t *testing.T) {
	f := newFake(t)
	f.put("cgroup.controllers", "memory pids\n")
	f.put("cgroup.subtree_control", "memory\n")
	if err := f.manager("c").Apply(1); err != nil {
		t.Fatal(err)
	}
	cmds := f.takeCmds()
	if cmds[1] != "echo +pids > /cg/cgroup.subtree_control" {
		t.Errorf("enable step = %q", cmds[1])
	}
}

func TestV2Stats(t *testing.T) {
	f := v2Tree(t)
	f.put("mydocker/c/memory.current", "10485760\n")
	f.put("mydocker/c/memory.stat", "anon 1\ninactive_file 1048576\n")
	f.put("mydocker/c/memory.max", "max\n")
	f.put("mydocker/c/cpu.stat", "usage_usec 1500\nuser_usec 1000\n")
	f.put("mydocker/c/pids.current", "2\n")
	f.put("mydocker/c/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
	st, err := f.manager("c").Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 9 << 20, MemoryLimit: 0, CPUUsageNs: 1500000, Pids: 2, OOMKilled: true}
	if *st != want {
		t.Errorf("Stats = %+v, want %+v", *st, want)
	}
	if oom, err := f.manager("c").OOMKilled(); err != nil || !oom {
		t.Errorf("OOMKilled = %v, %v; want true", oom, err)
	}
}

// A plan over the host (here the fake tree) makes nothing, and plans what
// a real run does: the shared parent, the controllers enabled down to it
// (those the root offers: the planned mydocker/ has no files to read), the
// container's cgroup, the move; then its removal, the parent staying.
func TestV2Plan(t *testing.T) {
	f := v2Tree(t)
	p := kernel.NewPlan(kernel.NewReal(nil), nil)
	m, err := NewAt(f.root, "c1", p)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&Resources{PidsLimit: 20, NanoCPUs: 5e8}); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(4194304); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Commands() {
		got = append(got, strings.ReplaceAll(c, f.root, "/cg"))
	}
	sameLines(t, "plan", got, []string{
		"mkdir -p /cg/mydocker",
		"echo '+cpu +cpuset +memory +pids' > /cg/cgroup.subtree_control",
		"echo '+cpu +cpuset +memory +pids' > /cg/mydocker/cgroup.subtree_control",
		"mkdir -p /cg/mydocker/c1",
		"echo '50000 100000' > /cg/mydocker/c1/cpu.max",
		"echo 20 > /cg/mydocker/c1/pids.max",
		programCmd("/cg/mydocker/c1"),
		"echo 4194304 > /cg/mydocker/c1/cgroup.procs",
		"rmdir /cg/mydocker/c1",
	})
	if f.exists("mydocker") || f.get("cgroup.subtree_control") != "\n" {
		t.Errorf("a plan changed the tree")
	}
	if made := p.Made(); len(made) != 1 || made[0].Name != f.root+"/mydocker" {
		t.Errorf("the plan leaves made %v, want the shared parent only", made)
	}
}

// Each narrated step names the Manager code that decided it, not a helper.
func TestSourceIsTheDecidingLine(t *testing.T) {
	f := v1Tree(t)
	if err := f.manager("c").Set(&Resources{PidsLimit: 5}); err != nil {
		t.Fatal(err)
	}
	if len(f.srcs) < 3 {
		t.Fatalf("narrated %q", f.cmds)
	}
	for i, src := range f.srcs {
		if !strings.HasPrefix(src, "cgroups/fs.go:") {
			t.Errorf("%s: source=%s, want cgroups/fs.go:LINE", f.cmds[i], src)
		}
	}
}

// A limit whose controller the host does not offer is an error naming
// the flag and the controller, and nothing of the container is made.
func TestV2LimitNotHonoured(t *testing.T) {
	f := newFake(t)
	f.put("cgroup.controllers", "cpu memory\n")
	f.put("cgroup.subtree_control", "\n")
	for _, tc := range []struct {
		r    Resources
		want string
	}{
		{Resources{PidsLimit: 20}, "--pids-limit cannot be honoured: this cgroup v2 host does not offer the pids controller"},
		{Resources{CpusetCpus: "0"}, "--cpuset-cpus/--cpuset-mems cannot be honoured: this cgroup v2 host does not offer the cpuset controller"},
	} {
		err := f.manager("c").Set(&tc.r)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%+v) = %v, want %q", tc.r, err, tc.want)
		}
	}
	// Without swap accounting (memory.max but no memory.swap.max), a
	// chosen --memory-swap is refused; docker's default is let go.
	if err := f.manager("d").Set(&Resources{Memory: 32 << 20, MemorySwap: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	f.put("mydocker/memory.max", "max\n")
	f.takeCmds()
	err := f.manager("e").Set(&Resources{Memory: 32 << 20, MemorySwap: 96 << 20})
	if err == nil || !strings.Contains(err.Error(), "--memory-swap cannot be honoured: the kernel does not account swap") {
		t.Errorf("Set with --memory-swap and no swap accounting = %v", err)
	}
	if err := f.manager("f").Set(&Resources{Memory: 32 << 20, MemorySwap: 64 << 20}); err != nil {
		t.Errorf("docker's default swap without swap accounting: %v", err)
	}
	for _, c := range f.takeCmds() {
		if strings.Contains(c, "memory.swap.max") {
			t.Errorf("memory.swap.max written without swap accounting: %s", c)
		}
	}
}
