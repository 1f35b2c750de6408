package cgroups

import (
	"errors"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
)

// v1Tree lays out a v1 host like this machine: cpu and cpuacct mounted
// apart, a root cpuset with two CPUs and one memory node.
func v1Tree(t *testing.T) *fakeFS {
	f := newFake(t)
	for _, c := range []string{"cpu", "cpuacct", "memory", "pids", "freezer"} {
		f.put(c+"/cgroup.procs", "")
	}
	f.put("cpuset/cpuset.cpus", "0-1\n")
	f.put("cpuset/cpuset.mems", "0\n")
	return f
}

func TestV1ApplySetDestroy(t *testing.T) {
	f := v1Tree(t)
	m := f.manager("c1")
	if m.Mode() != V1 {
		t.Fatalf("mode %v, want v1", m.Mode())
	}
	r := &Resources{Memory: 64 << 20, CPUShares: 512, NanoCPUs: 5e8, CpusetCpus: "0", PidsLimit: 20}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "narrated commands", f.takeCmds(), []string{
		"mkdir -p /cg/cpu/mydocker/c1",
		"mkdir -p /cg/cpuacct/mydocker/c1",
		"mkdir -p /cg/cpuset/mydocker/c1",
		"mkdir -p /cg/memory/mydocker/c1",
		"mkdir -p /cg/pids/mydocker/c1",
		"mkdir -p /cg/freezer/mydocker/c1",
		"cat /cg/cpuset/cpuset.cpus > /cg/cpuset/mydocker/cpuset.cpus",
		"cat /cg/cpuset/cpuset.mems > /cg/cpuset/mydocker/cpuset.mems",
		"cat /cg/cpuset/mydocker/cpuset.cpus > /cg/cpuset/mydocker/c1/cpuset.cpus",
		"cat /cg/cpuset/mydocker/cpuset.mems > /cg/cpuset/mydocker/c1/cpuset.mems",
		"echo 67108864 > /cg/memory/mydocker/c1/memory.limit_in_bytes",
		"echo 512 > /cg/cpu/mydocker/c1/cpu.shares",
		"echo 100000 > /cg/cpu/mydocker/c1/cpu.cfs_period_us",
		"echo 50000 > /cg/cpu/mydocker/c1/cpu.cfs_quota_us",
		"echo 0 > /cg/cpuset/mydocker/c1/cpuset.cpus",
		"echo 20 > /cg/pids/mydocker/c1/pids.max",
		"echo 4242 > /cg/cpu/mydocker/c1/cgroup.procs",
		"echo 4242 > /cg/cpuacct/mydocker/c1/cgroup.procs",
		"echo 4242 > /cg/cpuset/mydocker/c1/cgroup.procs",
		"echo 4242 > /cg/memory/mydocker/c1/cgroup.procs",
		"echo 4242 > /cg/pids/mydocker/c1/cgroup.procs",
		"echo 4242 > /cg/freezer/mydocker/c1/cgroup.procs",
	})
	for file, want := range map[string]string{
		"cpuset/mydocker/cpuset.cpus":     "0-1",
		"cpuset/mydocker/cpuset.mems":     "0",
		"cpuset/mydocker/c1/cpuset.cpus":  "0",
		"cpuset/mydocker/c1/cpuset.mems":  "0",
		"memory/mydocker/c1/cgroup.procs": "4242",
	} {
		if got := f.get(file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	paths := m.Paths()
	if paths["memory"] != f.root+"/memory/mydocker/c1" || len(paths) != 6 {
		t.Errorf("Paths() = %v", paths)
	}

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"} {
		if f.exists(c+"/mydocker/c1") || !f.exists(c+"/mydocker") {
			t.Errorf("%s: after Destroy, mydocker/c1 must be gone and mydocker/ stay", c)
		}
	}
	cmds := f.takeCmds()
	if len(cmds) != 6 || cmds[0] != "rmdir /cg/cpu/mydocker/c1" || cmds[5] != "rmdir /cg/freezer/mydocker/c1" {
		t.Errorf("destroy commands: %q", cmds)
	}
	// Gone already: not an error, and nothing to say.
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if cmds := f.takeCmds(); len(cmds) != 0 {
		t.Errorf("second Destroy narrated %q", cmds)
	}
}

// The shared mydocker/ is made once: an existing mydocker/ cpuset is not
// copied over again, and it stays, empty, after the last container.
func TestV1SharedParent(t *testing.T) {
	f := v1Tree(t)
	a, b := f.manager("a"), f.manager("b")
	if err := a.Apply(1); err != nil {
		t.Fatal(err)
	}
	f.takeCmds()
	if err := b.Apply(2); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.takeCmds() {
		if c == "cat /cg/cpuset/cpuset.cpus > /cg/cpuset/mydocker/cpuset.cpus" {
			t.Errorf("second container copied the parent cpuset again")
		}
	}
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !f.exists("memory/mydocker/b") || f.exists("memory/mydocker/a") {
		t.Errorf("destroying a must leave b and remove a")
	}
	if err := b.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !f.exists("memory/mydocker") || f.exists("memory/mydocker/b") {
		t.Errorf("after the last container, mydocker/ stays (empty) for the next")
	}
}

// memsw must never be below the memory limit at any moment: a new cgroup
// starts unlimited, so limit first then memsw; raising goes memsw first.
func TestV1MemorySwapOrder(t *testing.T) {
	f := v1Tree(t)
	f.put("memory/memory.memsw.limit_in_bytes", "9223372036854771712\n") // swap is accounted
	f.put("memory/mydocker/c/memory.memsw.limit_in_bytes", "9223372036854771712\n")
	m := f.manager("c")
	if err := m.Set(&Resources{Memory: 32 << 20, MemorySwap: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.takeCmds() {
		if strings.Contains(c, "memory.") {
			got = append(got, c)
		}
	}
	sameLines(t, "shrinking", got, []string{
		"echo 33554432 > /cg/memory/mydocker/c/memory.limit_in_bytes",
		"echo 67108864 > /cg/memory/mydocker/c/memory.memsw.limit_in_bytes",
	})
	if err := m.Set(&Resources{Memory: 128 << 20, MemorySwap: 256 << 20}); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "growing", f.takeCmds(), []string{
		"echo 268435456 > /cg/memory/mydocker/c/memory.memsw.limit_in_bytes",
		"echo 134217728 > /cg/memory/mydocker/c/memory.limit_in_bytes",
	})
	if err := m.Set(&Resources{Memory: 128 << 20, MemorySwap: -1}); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "unlimited swap", f.takeCmds(), []string{
		"echo -1 > /cg/memory/mydocker/c/memory.memsw.limit_in_bytes",
		"echo 134217728 > /cg/memory/mydocker/c/memory.limit_in_bytes",
	})
}

// Without swap accounting there is no memsw file: the memory limit still
// applies and the swap limit is skipped (with a warning), as docker does.
func TestV1NoSwapAccounting(t *testing.T) {
	f := v1Tree(t)
	m := f.manager("c")
	if err := m.Set(&Resources{Memory: 32 << 20, MemorySwap: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := f.get("memory/mydocker/c/memory.limit_in_bytes"); got != "33554432" {
		t.Errorf("limit = %q", got)
	}
	if f.exists("memory/mydocker/c/memory.memsw.limit_in_bytes") {
		t.Errorf("memsw written without swap accounting")
	}
}

func TestV1Stats(t *testing.T) {
	f := v1Tree(t)
	f.put("memory/mydocker/c/memory.usage_in_bytes", "10485760\n")
	f.put("memory/mydocker/c/memory.stat", "cache 0\ntotal_inactive_file 1048576\n")
	f.put("memory/mydocker/c/memory.limit_in_bytes", "16777216\n")
	f.put("memory/mydocker/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
	f.put("cpuacct/mydocker/c/cpuacct.usage", "123456789\n")
	f.put("pids/mydocker/c/pids.current", "3\n")
	st, err := f.manager("c").Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 9 << 20, MemoryLimit: 16 << 20, CPUUsageNs: 123456789, Pids: 3, OOMKilled: true}
	if *st != want {
		t.Errorf("Stats = %+v, want %+v", *st, want)
	}
	if oom, err := f.manager("c").OOMKilled(); err != nil || !oom {
		t.Errorf("OOMKilled = %v, %v; want true", oom, err)
	}
	// An unlimited v1 limit reads as 0; no oom_kill line: failcnt decides.
	f.put("memory/mydocker/c/memory.limit_in_bytes", "9223372036854771712\n")
	f.put("memory/mydocker/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n")
	f.put("memory/mydocker/c/memory.failcnt", "0\n")
	st, err = f.manager("c").Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.MemoryLimit != 0 || st.OOMKilled {
		t.Errorf("Stats = %+v, want no limit and no OOM", *st)
	}
	if oom, err := f.manager("c").OOMKilled(); err != nil || oom {
		t.Errorf("OOMKilled = %v, %v; want false", oom, err)
	}
	if _, err := f.manager("gone").Stats(); !errors.Is(err, ErrNotExist) {
		t.Errorf("Stats of a missing cgroup: %v, want ErrNotExist", err)
	}
	if _, err := f.manager("gone").OOMKilled(); !errors.Is(err, ErrNotExist) {
		t.Errorf("OOMKilled of a missing cgroup: %v, want ErrNotExist", err)
	}
}

// Limits for a controller the host does not mount are refused, not ignored.
func TestV1MissingController(t *testing.T) {
	f := newFake(t)
	f.put("memory/cgroup.procs", "")
	m := f.manager("c")
	if err := m.Set(&Resources{PidsLimit: 10}); err == nil {
		t.Errorf("pids limit without a pids controller: no error")
	}
}

func TestBadIDs(t *testing.T) {
	f := v1Tree(t)
	for _, id := range []string{"", ".", "..", "a/b"} {
		if _, err := NewAt(f.root, id, nil); err == nil {
			t.Errorf("NewAt(%q): no error", id)
		}
	}
}

// A plan over the host (here the fake tree) makes nothing, and plans what
// a real run does: the container's cgroup in each hierarchy, the cpuset
// copied down (the shared parent's first: it has none yet), the limits,
// the move; then the removal.
func TestV1Plan(t *testing.T) {
	f := v1Tree(t)
	p := kernel.NewPlan(kernel.NewReal(nil), nil)
	m, err := NewAt(f.root, "c1", p)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&Resources{PidsLimit: 20}); err != nil {
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
	want := []string{}
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"} {
		want = append(want, "mkdir -p /cg/"+c+"/mydocker/c1")
	}
	want = append(want,
		"cat /cg/cpuset/cpuset.cpus > /cg/cpuset/mydocker/cpuset.cpus",
		"cat /cg/cpuset/cpuset.mems > /cg/cpuset/mydocker/cpuset.mems",
		"cat /cg/cpuset/mydocker/cpuset.cpus > /cg/cpuset/mydocker/c1/cpuset.cpus",
		"cat /cg/cpuset/mydocker/cpuset.mems > /cg/cpuset/mydocker/c1/cpuset.mems",
		"echo 20 > /cg/pids/mydocker/c1/pids.max")
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"} {
		want = append(want, "echo 4194304 > /cg/"+c+"/mydocker/c1/cgroup.procs")
	}
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"} {
		want = append(want, "rmdir /cg/"+c+"/mydocker/c1")
	}
	sameLines(t, "plan", got, want)
	if f.exists("memory/mydocker") {
		t.Errorf("a plan changed the tree")
	}
}

// pause and unpause: freezer.state written, then read back until it says so.
func TestV1Freeze(t *testing.T) {
	f := v1Tree(t)
	m := f.manager("c")
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	f.takeCmds()
	if err := m.Freeze(true); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(false); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "narrated commands", f.takeCmds(), []string{
		"echo FROZEN > /cg/freezer/mydocker/c/freezer.state",
		"# mydocker waits until /cg/freezer/mydocker/c/freezer.state says FROZEN",
		"echo THAWED > /cg/freezer/mydocker/c/freezer.state",
		"# mydocker waits until /cg/freezer/mydocker/c/freezer.state says THAWED",
	})
}

// A --memory-swap the user chose cannot be honoured without swap
// accounting: an error, before anything is written.
func TestV1NoSwapAccountingChosenSwap(t *testing.T) {
	f := v1Tree(t)
	err := f.manager("c").Set(&Resources{Memory: 32 << 20, MemorySwap: 96 << 20})
	if err == nil || !strings.Contains(err.Error(), "--memory-swap cannot be honoured") {
		t.Fatalf("Set = %v, want the --memory-swap refused", err)
	}
	if f.exists("memory/mydocker/c/memory.limit_in_bytes") && f.get("memory/mydocker/c/memory.limit_in_bytes") == "33554432" {
		t.Errorf("the memory limit was written before the refusal")
	}
}
