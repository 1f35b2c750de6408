package cgroups

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/testns"
)

// Root tests drive the real cgroup filesystems of this machine, under a
// parent of their own (mydocker-test-<random>) so they never touch a real
// container's cgroup, and check nothing is left behind.

func TestMain(m *testing.M) { testns.Main(m) }

// realHost is this machine's host with a private parent, checked empty
// after the test.
func realHost(t *testing.T) *Host {
	t.Helper()
	testns.RequireRoot(t)
	h, err := DetectHost()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	h.Parent = "mydocker-test-" + hex.EncodeToString(b)
	t.Cleanup(func() { noLeftovers(t, h.Parent) })
	return h
}

// noLeftovers fails the test if anything named parent is left in any
// hierarchy, and removes it so the machine stays clean.
func noLeftovers(t *testing.T, parent string) {
	left, _ := filepath.Glob(filepath.Join(DefaultRoot, "*", parent))
	if st, err := os.Stat(filepath.Join(DefaultRoot, parent)); err == nil && st.IsDir() {
		left = append(left, filepath.Join(DefaultRoot, parent))
	}
	for _, d := range left {
		// The parent itself stays by design (Manager.Destroy); nothing
		// may be left in it. The test then removes its own parent.
		subs, _ := filepath.Glob(filepath.Join(d, "*"))
		for _, s := range subs {
			if fi, err := os.Stat(s); err == nil && fi.IsDir() {
				t.Errorf("left behind: %s", s)
				_ = syscall.Rmdir(s)
			}
		}
		if err := syscall.Rmdir(d); err != nil {
			t.Errorf("remove the test's parent %s: %v", d, err)
		}
	}
}

// blocked starts `sh -c script` waiting on its stdin, as a container's child
// waits for the go signal; go() releases it.
type blocked struct {
	cmd    *exec.Cmd
	signal io.WriteCloser
	out    bytes.Buffer
}

func startBlocked(t *testing.T, script string) *blocked {
	t.Helper()
	b := &blocked{cmd: exec.Command("sh", "-c", "read go; "+script)}
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	var err error
	if b.signal, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cmd.Process.Kill(); _ = b.cmd.Wait() })
	return b
}

func (b *blocked) release(t *testing.T) {
	if _, err := io.WriteString(b.signal, "go\n"); err != nil {
		t.Fatal(err)
	}
}

// wait waits at most d for the process to end.
func (b *blocked) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = b.cmd.Process.Kill()
		<-done
		t.Fatalf("process still running after %v; output: %s", d, b.out.String())
		return nil
	}
}

// file reads back a limit from the container's cgroup, from the hierarchy
// its name belongs to on v1.
func file(t *testing.T, m Manager, name string) string {
	t.Helper()
	dir := m.Paths()[""]
	if m.Mode() == V1 {
		dir = m.Paths()[strings.SplitN(name, ".", 2)[0]]
	}
	s, err := readString(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recorded(cmds *[]string) kernel.Kernel {
	return recorder(func(c, _ string) { *cmds = append(*cmds, c) })
}

func TestRealLimitsStatsDestroy(t *testing.T) {
	h := realHost(t)
	var cmds []string
	m, err := h.Manager("c1", recorded(&cmds))
	if err != nil {
		t.Fatal(err)
	}
	p := startBlocked(t, "sleep 60")
	r := &Resources{Memory: 64 << 20, MemorySwap: 64 << 20, CPUShares: 512, NanoCPUs: 5e8, CpusetCpus: "0", PidsLimit: 20}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory.max": "67108864", "cpu.weight": "20", "cpu.max": "50000 100000", "cpuset.cpus": "0", "pids.max": "20"}
	if m.Mode() == V1 {
		want = map[string]string{"memory.limit_in_bytes": "67108864", "cpu.shares": "512", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "cpuset.cpus": "0", "pids.max": "20"}
		if _, err := os.Stat(filepath.Join(m.Paths()["memory"], "memory.memsw.limit_in_bytes")); err == nil {
			want["memory.memsw.limit_in_bytes"] = "67108864"
		}
	}
	for name, v := range want {
		if got := file(t, m, name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	// The kernel agrees: the process is in our cgroup and pinned to CPU 0,
	// and so is the child it forks once released.
	p.release(t)
	// Wait for the fork (sh starting sleep) rather than guess how long it
	// takes on a loaded machine.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st, err := m.Stats(); err == nil && st.Pids == 2 {
			break
		}
	}
	pc, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/cgroup")
	if !strings.Contains(string(pc), "/"+h.Parent+"/c1\n") {
		t.Errorf("/proc/<pid>/cgroup does not show our cgroup:\n%s", pc)
	}
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if !strings.Contains(string(status), "Cpus_allowed_list:\t0\n") {
		t.Errorf("process not pinned to CPU 0")
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pids != 2 || st.MemoryLimit != 64<<20 || st.MemoryUsage == 0 || st.CPUUsageNs == 0 || st.OOMKilled {
		t.Errorf("Stats = %+v, want 2 pids (sh, sleep), limit 64MiB, some usage, no OOM", *st)
	}

	// A cgroup with a live task cannot go: Destroy reports it.
	if err := m.Destroy(); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("Destroy with a live task: %v, want EBUSY", err)
	}
	killCgroup(t, m)
	_ = p.wait(t, 5*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("Destroy when already gone: %v", err)
	}
	for _, d := range m.Paths() {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s left after Destroy", d)
		}
	}
	// The narration is the exact commands: the "$" lines name the real files.
	joined := strings.Join(cmds, "\n")
	for _, want := range []string{"echo 67108864 > " + filepath.Join(m.Paths()["memory"], "memory.limit_in_bytes"), "rmdir "} {
		if m.Mode() == V1 && !strings.Contains(joined, want) {
			t.Errorf("narration lacks %q:\n%s", want, joined)
		}
	}
}

// killCgroup kills every task of the container's cgroup by pid.
func killCgroup(t *testing.T, m Manager) {
	t.Helper()
	for _, dir := range m.Paths() {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func TestRealOOMKill(t *testing.T) {
	h := realHost(t)
	m, err := h.Manager("oom", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	p := startBlocked(t, "exec tail /dev/zero")
	if err := m.Set(&Resources{Memory: 16 << 20, MemorySwap: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	p.release(t)
	err = p.wait(t, 60*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("tail /dev/zero in 16m ended with %v, want killed by SIGKILL", err)
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !st.OOMKilled {
		t.Errorf("Stats after the OOM kill = %+v, want OOMKilled", *st)
	}
	if oom, err := m.OOMKilled(); err != nil || !oom {
		t.Errorf("OOMKilled after the OOM kill = %v, %v", oom, err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}

func TestRealPidsLimit(t *testing.T) {
	h := realHost(t)
	m, err := h.Manager("pids", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	p := startBlocked(t, "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 30 >/dev/null 2>&1 & done; exit 0")
	if err := m.Set(&Resources{PidsLimit: 5}); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	p.release(t)
	_ = p.wait(t, 10*time.Second)
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pids == 0 || st.Pids > 5 {
		t.Errorf("%d tasks in the cgroup, want 1..5", st.Pids)
	}
	if !strings.Contains(strings.ToLower(p.out.String()), "fork") && !strings.Contains(p.out.String(), "Resource temporarily unavailable") {
		t.Errorf("no fork failure reported; output: %q", p.out.String())
	}
	killCgroup(t, m)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := m.Stats()
		if err != nil || st.Pids == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// --cpus 0.5 lets a busy loop have about half a CPU, read from the
// cgroup's own CPU accounting over one-second windows. The quota is a
// ceiling, so no window may go above it; other tests running at the same
// time can push a window below, so one window near 0.5 is enough.
func TestRealCPUQuota(t *testing.T) {
	h := realHost(t)
	m, err := h.Manager("cpu", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	p := startBlocked(t, `exec timeout 6 sh -c 'while :; do :; done'`)
	if err := m.Set(&Resources{NanoCPUs: 5e8}); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	p.release(t)
	var shares []float64
	near := false
	for i := 0; i < 5 && !near; i++ {
		a, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		time.Sleep(time.Second)
		b, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		share := float64(b.CPUUsageNs-a.CPUUsageNs) / float64(time.Since(start).Nanoseconds())
		shares = append(shares, share)
		if share > 0.7 {
			t.Fatalf("a busy loop under --cpus 0.5 used %.2f CPUs in a second", share)
		}
		near = share >= 0.3
	}
	t.Logf("CPUs used per one-second window: %.2f", shares)
	if !near {
		t.Errorf("a busy loop under --cpus 0.5 never came near half a CPU: %.2f", shares)
	}
	killCgroup(t, m)
	_ = p.wait(t, 10*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// On a hybrid host the cgroup2 mount has no controllers of ours, but the v2
// manager's mkdir / subtree_control / cgroup.procs / rmdir path still runs
// against the real kernel there.
func TestRealV2OnHybrid(t *testing.T) {
	h := realHost(t)
	if h.Mode == V2 {
		t.Skip("pure v2 host: the other root tests already drive v2")
	}
	unified := h.Unified
	if unified == "" {
		t.Skip("no cgroup2 mount on this host")
	}
	v2h := &Host{Mode: V2, Unified: unified, Parent: h.Parent}
	t.Cleanup(func() { noLeftovers(t, h.Parent) })
	m, err := v2h.Manager("c", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	p := startBlocked(t, "sleep 60")
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	pc, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/cgroup")
	if !strings.Contains(string(pc), "0::/"+h.Parent+"/c\n") {
		t.Errorf("/proc/<pid>/cgroup does not show the v2 cgroup:\n%s", pc)
	}
	if _, err := m.Stats(); err != nil {
		t.Errorf("Stats: %v", err)
	}
	_ = p.cmd.Process.Kill()
	_ = p.wait(t, 5*time.Second)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(unified, h.Parent, "c")); err == nil {
		t.Errorf("v2 container cgroup left behind")
	}
	// The v2 manager's Set attaches docker's device program there.
	m, err = v2h.Manager("d", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	if out := runDevScript(t, m, nil); out != refused {
		t.Errorf("under the v2 manager's device program: %q", out)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// devScript is what a container's process tries with devices: make a node
// outside docker's allowlist (/dev/kmsg's numbers: the rule "c *:* m" lets
// any be made) and open it, then open /dev/null. Nothing is read. A
// refused open prints "kmsg: Operation not permitted" (EPERM), then
// kmsg-denied.
func devScript(dir string) string {
	return `mknod ` + dir + `/kmsg c 1 11 && echo mknod-ok; ` +
		`if true <` + dir + `/kmsg; then echo kmsg-opened; else echo kmsg-denied; fi 2>&1 | sed 's/.*kmsg: //'; ` +
		`if true </dev/null; then echo null-opened; fi`
}

// refused is devScript's output when the kernel refuses /dev/kmsg only.
const refused = "mknod-ok\nOperation not permitted\nkmsg-denied\nnull-opened\n"

// runDevScript starts the script blocked, lets m place and confine it, and
// returns what it printed.
func runDevScript(t *testing.T, m Manager, r *Resources) string {
	t.Helper()
	p := startBlocked(t, devScript(t.TempDir()))
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	p.release(t)
	if err := p.wait(t, 10*time.Second); err != nil {
		t.Fatalf("%v: %s", err, p.out.String())
	}
	return p.out.String()
}

// A container's cgroup on this host: one in every hierarchy it has (named
// and cgroup2 ones too), docker's devices.list on v1, and the kernel
// refusing a node outside it; all removed afterwards.
func TestRealDevicesEveryHierarchy(t *testing.T) {
	h := realHost(t)
	m, err := h.Manager("dev", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	out := runDevScript(t, m, nil)
	if out != refused {
		t.Errorf("in the container's cgroups: %q, want mknod-ok, kmsg-denied, null-opened", out)
	}
	if h.Mode == V1 && h.Mounts["devices"] != "" {
		b, err := os.ReadFile(filepath.Join(m.Paths()["devices"], "devices.list"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := security.ParseDevicesList(bytes.NewReader(b))
		want, _ := security.ExpectedDevicesList(security.DefaultDeviceRules())
		if err != nil || !security.SameDevicesList(got, want) {
			t.Errorf("devices.list:\n%s\nwant docker's %v", b, want)
		}
	}
	// Every hierarchy of this host holds the container's directory.
	mounts, err := ReadMounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range mounts {
		names := mt.Names()
		if mt.FSType == "cgroup2" && mt.Point != h.Unified || mt.FSType == "cgroup" && (len(names) == 0 || h.Mounts[names[0]] != mt.Point) {
			continue // a second mount of a hierarchy
		}
		if _, err := os.Stat(filepath.Join(mt.Point, h.Parent, "dev")); err != nil {
			t.Errorf("no cgroup of the container in %s (%v): %v", mt.Point, mt.Names(), err)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Paths() {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s left after Destroy", d)
		}
	}
}

// The cgroup2 device program alone, for real: on a hybrid host, in its
// cgroup2 with no v1 devices controller beside it (only the program can
// refuse), as on a v2 host. A --device rule lets its node open.
func TestRealDeviceProgramOnly(t *testing.T) {
	h := realHost(t)
	if h.Unified == "" {
		t.Skip("no cgroup2 mount on this host")
	}
	only := &Host{Mode: V1, Mounts: map[string]string{}, Unified: h.Unified, Parent: h.Parent}
	if h.Mode == V2 {
		only = &Host{Mode: V2, Unified: h.Unified, Parent: h.Parent}
	} else {
		only.Mounts["pids"] = h.Mounts["pids"] // (a v1 manager needs one v1 hierarchy: one without devices)
	}
	var cmds []string
	m, err := only.Manager("prog", recorded(&cmds))
	if err != nil {
		t.Fatal(err)
	}
	if out := runDevScript(t, m, nil); out != refused {
		t.Errorf("under docker's device program: %q, want mknod-ok, kmsg-denied, null-opened", out)
	}
	if !strings.Contains(strings.Join(cmds, "\n"), "# mydocker loads an eBPF device program") {
		t.Errorf("the program's step is not narrated:\n%s", strings.Join(cmds, "\n"))
	}
	killCgroup(t, m)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}

	kmsg, err := security.ParseDevice("/dev/kmsg:/dev/kmsg:r")
	if err != nil {
		t.Fatal(err)
	}
	m, err = only.Manager("prog2", recorded(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	if out := runDevScript(t, m, &Resources{Devices: append(security.DefaultDeviceRules(), &kmsg[0].Rule)}); out != "mknod-ok\nkmsg-opened\nnull-opened\n" {
		t.Errorf("with --device /dev/kmsg:r: %q, want kmsg-opened", out)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
}
