package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/cgroups"
)

// The rows of issue 3's user view, end to end: limits that really bite,
// reported where a user looks, and no cgroup left afterwards.

// cgroupDirs lists the container's cgroup directories that exist now, in
// any hierarchy (v1 controllers or the v2 tree).
func cgroupDirs(id string) []string {
	found, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "mydocker", id))
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", "mydocker", id)); err == nil {
		found = append(found, filepath.Join("/sys/fs/cgroup", "mydocker", id))
	}
	return found
}

// noCgroupLeft fails if the container's cgroup is still anywhere.
func noCgroupLeft(t *testing.T, id string) {
	t.Helper()
	if left := cgroupDirs(id); len(left) > 0 {
		t.Errorf("cgroup of %s left behind: %v", id[:12], left)
	}
}

type inspection struct {
	Id    string
	State struct {
		Status    string
		OOMKilled bool
		ExitCode  int
	}
	HostConfig struct {
		Memory, MemorySwap, NanoCpus, PidsLimit int64
		CpuShares                               uint64
		CpusetCpus                              string
	}
}

func (e *env) inspectOne(ref string) inspection {
	e.t.Helper()
	var insp []inspection
	if err := json.Unmarshal([]byte(e.ok("inspect", ref)), &insp); err != nil || len(insp) != 1 {
		e.t.Fatalf("inspect %s: %v", ref, err)
	}
	return insp[0]
}

// mydocker run -d --name m -m 64m busybox sh -c 'tail /dev/zero'
func TestOOMKillReported(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "m", "-m", "64m", "busybox", "sh", "-c", "tail /dev/zero"))
	waitFor(t, "the OOM kill", func() bool { return strings.Contains(e.ok("ps", "-a"), "Exited (137)") })
	in := e.inspectOne("m")
	if !in.State.OOMKilled || in.State.ExitCode != 137 || in.State.Status != "exited" {
		t.Errorf("inspect State after the OOM kill: %+v, want exited, 137, OOMKilled", in.State)
	}
	if in.HostConfig.Memory != 64<<20 || in.HostConfig.MemorySwap != 128<<20 {
		t.Errorf("inspect HostConfig: %+v, want Memory 64MiB and docker's default MemorySwap 128MiB", in.HostConfig)
	}
	noCgroupLeft(t, id)
	e.ok("rm", "m")

	// In the foreground, run itself exits 137 and records the kill.
	if r := e.run("--log-level", "error", "run", "--name", "fg", "-m", "16m", "busybox", "sh", "-c", "tail /dev/zero"); r.code != 137 {
		t.Errorf("foreground OOM kill: exit %d, want 137; stderr %s", r.code, r.stderr)
	}
	if in := e.inspectOne("fg"); !in.State.OOMKilled || in.State.ExitCode != 137 {
		t.Errorf("inspect State after a foreground OOM kill: %+v", in.State)
	}
	noCgroupLeft(t, e.inspectOne("fg").Id)
}

// A container that was not OOM-killed says so, and a plain exit also
// removes the cgroup.
func TestNoOOMWhenNotKilled(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--name", "fine", "-m", "64m", "busybox", "true")
	in := e.inspectOne("fine")
	if in.State.OOMKilled || in.State.ExitCode != 0 {
		t.Errorf("inspect State: %+v, want exit 0 and no OOM", in.State)
	}
	noCgroupLeft(t, in.Id)
}

// mydocker run --rm --pids-limit 20 busybox sh -c 'for i in $(seq 50); do sleep 5 & done'
// (the shell gives up at its first failed fork; the cgroup root test counts
// the tasks exactly.)
func TestPidsLimitStopsForks(t *testing.T) {
	e := newEnv(t)
	r := e.run("--log-level", "error", "run", "--name", "p", "--pids-limit", "20", "busybox", "sh", "-c",
		`for i in $(seq 50); do sleep 5 & done; echo all 50 forked`)
	if !strings.Contains(r.stderr, "can't fork") || strings.Contains(r.stdout, "all 50 forked") {
		t.Errorf("forks did not fail under --pids-limit 20; stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if in := e.inspectOne("p"); in.HostConfig.PidsLimit != 20 {
		t.Errorf("inspect HostConfig.PidsLimit = %d, want 20", in.HostConfig.PidsLimit)
	}
	// Without the limit the same loop forks all 50.
	r = e.run("--log-level", "error", "run", "--rm", "busybox", "sh", "-c", `for i in $(seq 50); do sleep 1 & done; echo all 50 forked`)
	if !strings.Contains(r.stdout, "all 50 forked") {
		t.Errorf("without a limit: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

// mydocker run --rm --cpuset-cpus 0 --cpu-shares 512 busybox cat /proc/self/status
func TestCpusetVisible(t *testing.T) {
	e := newEnv(t)
	r := e.run("run", "--rm", "--cpuset-cpus", "0", "--cpu-shares", "512", "busybox", "cat", "/proc/self/status")
	if r.code != 0 || !strings.Contains(r.stdout, "Cpus_allowed_list:\t0\n") {
		t.Fatalf("exit %d, status:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// The narration names the files it wrote.
	for _, want := range []string{"/cpuset.cpus", "$ echo 512 > ", "$ rmdir "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("narration lacks %q", want)
		}
	}
}

// mydocker run --cpus 0.5 ... uses about half a CPU: read from the cgroup
// by `stats`, loosely, with the quota itself checked exactly.
func TestCPUsHalf(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "busy", "--cpus", "0.5", "-m", "64m", "busybox", "sh", "-c", "while :; do :; done"))
	if q, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpu/mydocker", id, "cpu.cfs_quota_us")); err == nil {
		if strings.TrimSpace(string(q)) != "50000" {
			t.Errorf("cpu.cfs_quota_us = %s, want 50000", q)
		}
	} else if m, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/mydocker", id, "cpu.max")); err == nil {
		if strings.TrimSpace(string(m)) != "50000 100000" {
			t.Errorf("cpu.max = %s, want 50000 100000", m)
		}
	} else {
		t.Errorf("no CPU quota file for %s", id[:12])
	}
	// The quota is a ceiling: no reading above it. Other tests running at
	// the same time can hold a reading below, so one near 50% is enough.
	var seen []string
	near := false
	for i := 0; i < 4 && !near; i++ {
		out := e.ok("stats", "--no-stream", "busy")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID") {
			t.Fatalf("stats --no-stream:\n%s", out)
		}
		f := strings.Fields(lines[1])
		// CONTAINER-ID NAME CPU% USAGE / LIMIT MEM% PIDS
		if len(f) != 8 || f[0] != id[:12] || f[1] != "busy" || f[5] != "64MiB" || f[7] != "1" {
			t.Fatalf("stats row %q", lines[1])
		}
		cpu, err := strconv.ParseFloat(strings.TrimSuffix(f[2], "%"), 64)
		if err != nil || cpu > 70 {
			t.Fatalf("a busy loop under --cpus 0.5 shows %s CPU, want about 50%%", f[2])
		}
		seen = append(seen, f[2])
		near = cpu >= 30
	}
	if !near {
		t.Errorf("a busy loop under --cpus 0.5 never showed about 50%% CPU: %v", seen)
	}
	e.ok("stop", "-t", "0", "busy")
	noCgroupLeft(t, id)
	e.ok("rm", "busy")
}

// stats without arguments shows every running container, and only those.
func TestStatsAllRunning(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "s1", "busybox", "sleep", "1000")
	e.ok("run", "--name", "done", "busybox", "true")
	out := e.ok("stats", "--no-stream")
	if !strings.Contains(out, " s1 ") || strings.Contains(out, " done ") {
		t.Errorf("stats --no-stream:\n%s", out)
	}
	e.fails("no such container", "stats", "--no-stream", "nosuch")
}

// stop and rm -f of a running container remove its cgroup too.
func TestCgroupGoneAfterStopAndRm(t *testing.T) {
	e := newEnv(t)
	a := strings.TrimSpace(e.ok("run", "-d", "busybox", "sleep", "1000"))
	b := strings.TrimSpace(e.ok("run", "-d", "busybox", "sleep", "1000"))
	if len(cgroupDirs(a)) == 0 {
		t.Fatalf("a running container has no cgroup")
	}
	e.ok("stop", "-t", "0", a)
	noCgroupLeft(t, a)
	e.ok("rm", "-f", b)
	noCgroupLeft(t, b)
}

// Bad values are refused with a clear error before anything is created.
func TestBadLimitsRefused(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-m", "3m"}, "minimum memory limit allowed is 6MB"},
		{[]string{"-m", "lots"}, `invalid --memory "lots"`},
		{[]string{"-m", "-64m"}, `invalid --memory "-64m"`},
		{[]string{"-m", "64m", "--memory-swap", "32m"}, "must be at least --memory"},
		{[]string{"--cpus", "-1"}, "invalid --cpus -1"},
		{[]string{"--cpus", "99"}, "CPUs available"},
		{[]string{"--cpu-shares", "-5"}, "invalid --cpu-shares -5"},
		{[]string{"--cpuset-cpus", "99"}, "requested CPUs not available"},
		{[]string{"--cpuset-cpus", "0-"}, `invalid --cpuset-cpus "0-"`},
		{[]string{"--pids-limit", "-7"}, "invalid --pids-limit -7"},
		{[]string{"--cpu-quota", "abc"}, `invalid --cpu-quota "abc"`},
	} {
		args := append(append([]string{"run", "--name", "bad"}, tc.args...), "busybox", "true")
		if r := e.fails(tc.want, args...); r.code != 125 {
			t.Errorf("%v: exit %d, want 125", tc.args, r.code)
		}
	}
	if out := e.ok("ps", "-a", "-q"); out != "" {
		t.Errorf("refused runs left containers: %q", out)
	}
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("refused runs left %v", left)
	}
}

// hierarchies are the cgroup mount points of this host, once each: every
// v1 hierarchy (blkio, named ones like name=systemd too) and the cgroup2.
func hierarchies(t *testing.T) []string {
	t.Helper()
	mounts, err := cgroups.ReadMounts()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range mounts {
		key := m.FSType + " " + strings.Join(m.Names(), ",")
		if !seen[key] {
			seen[key] = true
			out = append(out, m.Point)
		}
	}
	return out
}

// initPid is the host pid of a running container's init.
func (e *env) initPid(ref string) int {
	e.t.Helper()
	var insp []struct{ State struct{ Pid int } }
	if err := json.Unmarshal([]byte(e.ok("inspect", ref)), &insp); err != nil || len(insp) != 1 || insp[0].State.Pid == 0 {
		e.t.Fatalf("inspect %s: no pid (%v)", ref, err)
	}
	return insp[0].State.Pid
}

// A container has a cgroup of its own in every hierarchy of the host, and
// its cgroup namespace shows each as the root: from inside, in run and in
// exec, /proc/self/cgroup shows "/" everywhere. After rm none is left, in
// any hierarchy.
func TestCgroupInEveryHierarchy(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "hier", "busybox", "sleep", "1000"))
	hs := hierarchies(t)
	dirs := cgroupDirs(id)
	if len(dirs) != len(hs) {
		t.Errorf("the container has cgroups %v, want one in each of %v", dirs, hs)
	}
	// Seen from the host, its init is in mydocker/<id> in every hierarchy.
	pc, err := os.ReadFile("/proc/" + strconv.Itoa(e.initPid("hier")) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(pc)), "\n")
	if len(lines) != len(hs) {
		t.Errorf("/proc/PID/cgroup has %d hierarchies, the host mounts %d:\n%s", len(lines), len(hs), pc)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, ":/mydocker/"+id) {
			t.Errorf("the init is not in its own cgroup there: %s", l)
		}
	}
	// Seen from inside: only "/" paths, the host's cgroups hidden.
	onlyRoot := func(what, out string) {
		t.Helper()
		got := strings.Split(strings.TrimSpace(out), "\n")
		if len(got) != len(lines) {
			t.Errorf("%s: %d hierarchies, want %d:\n%s", what, len(got), len(lines), out)
		}
		for _, l := range got {
			if !strings.HasSuffix(l, ":/") {
				t.Errorf("%s shows a cgroup other than its own root: %s", what, l)
			}
		}
	}
	onlyRoot("exec", e.ok("exec", "hier", "cat", "/proc/self/cgroup"))
	onlyRoot("run", e.ok("run", "--rm", "busybox", "cat", "/proc/self/cgroup"))
	e.ok("rm", "-f", "hier")
	noCgroupLeft(t, id)
}

// docker's device cgroup, as docker's own containers show it on v1.
var dockerDevicesList = []string{
	"c 1:5 rwm", "c 1:3 rwm", "c 1:9 rwm", "c 1:8 rwm", "c 5:0 rwm", "c 5:1 rwm", "c *:* m", "b *:* m",
	"c 1:7 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
}

// On v1 the container's devices.list is docker's.
func TestDevicesListIsDockers(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "busybox", "sleep", "1000"))
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/devices/mydocker", id, "devices.list"))
	if err != nil {
		t.Skipf("no v1 devices controller: %v", err)
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	sort.Strings(got)
	want := slices.Clone(dockerDevicesList)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("devices.list:\n%s\nwant docker's:\n%s", b, strings.Join(dockerDevicesList, "\n"))
	}
}

// devProbe makes a node outside the allowlist (/dev/kmsg's numbers; making
// any node is allowed) and opens it, then opens /dev/null. Nothing is
// read from either.
const devProbe = `mknod /tmp/kmsg c 1 11 && echo made; ` +
	`if true </tmp/kmsg; then echo kmsg-opened; else echo kmsg-denied; fi; ` +
	`if true </dev/null; then echo null-opened; fi`

// Inside a container, run or exec'd, the device cgroup refuses to open a
// node outside the allowlist (EPERM), even to root; /dev/null opens.
func TestDeviceCgroupRefuses(t *testing.T) {
	e := newEnv(t)
	check := func(what string, r result) {
		t.Helper()
		if r.stdout != "made\nkmsg-denied\nnull-opened\n" || !strings.Contains(r.stderr, "Operation not permitted") {
			t.Errorf("%s: stdout %q, stderr %q; want the open of c 1:11 refused with EPERM, /dev/null opened", what, r.stdout, r.stderr)
		}
	}
	check("run", e.run("--log-level", "error", "run", "--rm", "busybox", "sh", "-c", devProbe))
	e.ok("run", "-d", "--name", "d", "busybox", "sleep", "1000")
	check("exec", e.run("--log-level", "error", "exec", "d", "sh", "-c", devProbe))
}

// --device adds the node's rule: it opens.
func TestDeviceRuleLetsNodeOpen(t *testing.T) {
	e := newEnv(t)
	if r := e.run("run", "--help"); !strings.Contains(r.stdout+r.stderr, "--device") {
		t.Skip("this build has no --device flag")
	}
	// (Reading the kernel's log also needs CAP_SYSLOG, which docker's
	// default capabilities leave out.)
	r := e.run("--log-level", "error", "run", "--rm", "--cap-add", "SYSLOG", "--device", "/dev/kmsg:/dev/kmsg:r", "busybox", "sh", "-c", devProbe)
	if r.stdout != "made\nkmsg-opened\nnull-opened\n" {
		t.Errorf("with --device /dev/kmsg:r: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}
