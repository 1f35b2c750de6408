//go:build cgroupv2vm

package cgroupv2

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mydocker run -d -m 32m busybox sh -c 'tail /dev/zero': memory.max bites,
// the kernel's OOM killer ends it, ps says Exited (137) and inspect
// OOMKilled; the cgroup goes with it.
func TestMemoryLimitOOMKills(t *testing.T) {
	e := newEnv(t)
	id := e.quiet("run", "-d", "--net", "none", "--name", "hog", "-m", "32m", "busybox", "sh", "-c", "tail /dev/zero")
	waitFor(t, "the OOM kill", func() bool { return strings.Contains(e.ok("ps", "-a"), "Exited (137)") })
	in := e.inspect("hog")
	if !in.State.OOMKilled || in.State.ExitCode != 137 || in.State.Status != "exited" {
		t.Errorf("inspect State after the OOM kill: %+v, want exited, 137, OOMKilled", in.State)
	}
	noCgroupLeft(t, id)

	// In the foreground, run itself exits 137.
	r := e.run("--log-level", "error", "run", "--net", "none", "--name", "fg", "-m", "16m", "busybox", "sh", "-c", "tail /dev/zero")
	if r.code != 137 {
		t.Errorf("foreground OOM kill: exit %d, want 137; stderr %s", r.code, r.stderr)
	}
	if in := e.inspect("fg"); !in.State.OOMKilled {
		t.Errorf("inspect after a foreground OOM kill: %+v", in.State)
	}
}

// -m and --memory-swap as docker's: v2's memory.swap.max counts swap alone,
// so it holds --memory-swap minus -m; docker's default (no --memory-swap)
// is as much swap as memory, and -1 is no cap.
func TestMemorySwap(t *testing.T) {
	e := newEnv(t)
	type want struct {
		flags        []string
		max, swapMax string
		inspectSwap  int64
	}
	cases := []want{
		{[]string{"-m", "32m", "--memory-swap", "96m"}, "33554432", "67108864", 96 << 20},
		{[]string{"-m", "32m"}, "33554432", "33554432", 64 << 20},
		{[]string{"-m", "32m", "--memory-swap", "-1"}, "33554432", "max", -1},
		{[]string{"-m", "32m", "--memory-swap", "32m"}, "33554432", "0", 32 << 20},
	}
	var ids []string
	for _, tc := range cases {
		args := append([]string{"run", "-d", "--net", "none"}, tc.flags...)
		id := e.quiet(append(args, "busybox", "sleep", "600")...)
		ids = append(ids, id)
		if got := cgroupFile(t, id, "memory.max"); got != tc.max {
			t.Errorf("%v: memory.max = %s, want %s", tc.flags, got, tc.max)
		}
		if got := cgroupFile(t, id, "memory.swap.max"); got != tc.swapMax {
			t.Errorf("%v: memory.swap.max = %s, want %s", tc.flags, got, tc.swapMax)
		}
	}
	var insp []inspection
	if err := json.Unmarshal([]byte(e.ok(append([]string{"inspect"}, ids...)...)), &insp); err != nil || len(insp) != len(cases) {
		t.Fatalf("inspect: %v", err)
	}
	for i, tc := range cases {
		if insp[i].HostConfig.MemorySwap != tc.inspectSwap {
			t.Errorf("%v: inspect MemorySwap = %d, want %d", tc.flags, insp[i].HostConfig.MemorySwap, tc.inspectSwap)
		}
	}
	e.quiet(append([]string{"rm", "-f"}, ids...)...)
	for _, id := range ids {
		noCgroupLeft(t, id)
	}
}

// --cpus 0.2 is cpu.max "20000 100000": a busy loop is throttled, which
// cpu.stat's nr_throttled counts, and it gets about a fifth of a CPU.
func TestCPUsThrottles(t *testing.T) {
	e := newEnv(t)
	id := e.quiet("run", "-d", "--net", "none", "--cpus", "0.2", "busybox", "sh", "-c", "while :; do :; done")
	if got := cgroupFile(t, id, "cpu.max"); got != "20000 100000" {
		t.Errorf("cpu.max = %q, want 20000 100000", got)
	}
	n0, u0, t0 := keyed(t, id, "cpu.stat", "nr_throttled"), keyed(t, id, "cpu.stat", "usage_usec"), time.Now()
	time.Sleep(2 * time.Second)
	n1, u1, t1 := keyed(t, id, "cpu.stat", "nr_throttled"), keyed(t, id, "cpu.stat", "usage_usec"), time.Now()
	if n1 <= n0 {
		t.Errorf("cpu.stat nr_throttled did not grow under --cpus 0.2: %d then %d", n0, n1)
	}
	// The quota is a ceiling (a reading below it is the machine's load).
	share := float64(u1-u0) / float64(t1.Sub(t0).Microseconds())
	if share > 0.3 {
		t.Errorf("the container used %.2f CPUs under --cpus 0.2", share)
	}
	t.Logf("--cpus 0.2: nr_throttled %d -> %d, %.2f CPUs used", n0, n1, share)
}

// --cpuset-cpus 1 pins the container to the second vCPU: cpuset.cpus and
// the kernel's effective set, and the container's own view of it.
func TestCpusetCpus(t *testing.T) {
	e := newEnv(t)
	id := e.quiet("run", "-d", "--net", "none", "--cpuset-cpus", "1", "busybox", "sleep", "600")
	if got := cgroupFile(t, id, "cpuset.cpus"); got != "1" {
		t.Errorf("cpuset.cpus = %q, want 1", got)
	}
	if got := cgroupFile(t, id, "cpuset.cpus.effective"); got != "1" {
		t.Errorf("cpuset.cpus.effective = %q, want 1", got)
	}
	out := e.quiet("exec", id, "grep", "Cpus_allowed_list", "/proc/self/status")
	if f := strings.Fields(out); len(f) != 2 || f[1] != "1" {
		t.Errorf("inside: %q, want Cpus_allowed_list 1", out)
	}
	if in := e.inspect(id); in.HostConfig.CpusetCpus != "1" {
		t.Errorf("inspect CpusetCpus = %q", in.HostConfig.CpusetCpus)
	}
	// A CPU the host does not have is refused, in one line.
	r := e.run("--log-level", "error", "run", "--rm", "--net", "none", "--cpuset-cpus", "7", "busybox", "true")
	if r.code != 125 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("--cpuset-cpus 7 on 2 CPUs: exit %d, stderr %q; want 125 and one line", r.code, r.stderr)
	}
}

// --pids-limit 10: pids.max, forks refused beyond it (pids.events' max
// counts them), and the shell says so.
func TestPidsLimit(t *testing.T) {
	e := newEnv(t)
	id := e.quiet("run", "-d", "--net", "none", "--pids-limit", "10", "busybox", "sleep", "600")
	if got := cgroupFile(t, id, "pids.max"); got != "10" {
		t.Errorf("pids.max = %q, want 10", got)
	}
	r := e.run("--log-level", "error", "exec", id, "sh", "-c", "for i in $(seq 30); do sleep 30 & done; echo all 30 forked")
	if strings.Contains(r.stdout, "all 30 forked") || !strings.Contains(r.stderr, "can't fork") {
		t.Errorf("forks were not refused at 10 pids: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if n := keyed(t, id, "pids.events", "max"); n < 1 {
		t.Errorf("pids.events max = %d, want the refusals counted", n)
	}
	if cur, _ := strconv.Atoi(cgroupFile(t, id, "pids.current")); cur > 10 {
		t.Errorf("pids.current = %d above pids.max 10", cur)
	}
}

// stats reads the v2 files: the memory limit, usage above zero, the pids.
func TestStats(t *testing.T) {
	e := newEnv(t)
	e.quiet("run", "-d", "--net", "none", "--name", "s", "-m", "48m", "busybox", "sh", "-c", "sleep 600 & sleep 600 & wait")
	var row []string
	waitFor(t, "stats to see the 3 tasks", func() bool {
		lines := strings.Split(strings.TrimSpace(e.ok("stats", "--no-stream", "s")), "\n")
		row = strings.Fields(lines[len(lines)-1])
		return len(row) == 8 && row[7] == "3"
	})
	// CONTAINER ID, NAME, CPU %, USAGE, /, LIMIT, MEM %, PIDS
	if row[5] != "48MiB" || row[3] == "0B" {
		t.Errorf("stats row %q: want usage above 0B and limit 48MiB", row)
	}
}

// The v2 device program (docker's allowlist as eBPF on the container's
// cgroup): a block device node can be made but not opened, /dev/null can.
func TestDeviceProgram(t *testing.T) {
	e := newEnv(t)
	out := e.quiet("run", "--rm", "--net", "none", "-v", probe+":/probe:ro", "busybox", "sh", "-c",
		"/probe mknod-open /tmp/sda 8 0; /probe open /dev/null; /probe mknod-open /tmp/null 1 3; /probe mknod-open /tmp/kmsg 1 11")
	if want := "EPERM\nok\nok\nEPERM"; out != want {
		t.Errorf("device probes (sda, /dev/null, a null node, kmsg):\n%s\nwant:\n%s", out, want)
	}
	// --device lets one more through, as docker's does.
	out = e.quiet("run", "--rm", "--net", "none", "--device", "/dev/null:/dev/mynull", "-v", probe+":/probe:ro", "busybox", "/probe", "open", "/dev/mynull")
	if out != "ok" {
		t.Errorf("--device /dev/null:/dev/mynull: %s", out)
	}
}

// exec joins the container's cgroup: its processes are counted there and
// its limits hold them (a memory hog run by exec is OOM-killed).
func TestExecJoinsCgroup(t *testing.T) {
	e := newEnv(t)
	id := e.quiet("run", "-d", "--net", "none", "-m", "32m", "busybox", "sleep", "600")
	before := procs(t, id)
	cmd := exec.Command(binary, "--root", e.root, "--data-root", e.data, "--log-level", "error", "exec", id, "sh", "-c", "echo ready; exec sleep 600")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("exec said %q", line)
	}
	during := procs(t, id)
	if len(during) <= len(before) {
		t.Errorf("cgroup.procs has %v before exec and %v during it: exec's process is not in the container's cgroup", before, during)
	}
	r := e.run("--log-level", "error", "exec", id, "sh", "-c", "tail /dev/zero")
	if r.code != 137 {
		t.Errorf("a memory hog run by exec under -m 32m: exit %d, want 137 (stderr %q)", r.code, r.stderr)
	}
	if n := keyed(t, id, "memory.events", "oom_kill"); n < 1 {
		t.Errorf("memory.events oom_kill = %d after the exec'd hog", n)
	}
}

func procs(t *testing.T, id string) []string {
	t.Helper()
	return strings.Fields(cgroupFile(t, id, "cgroup.procs"))
}
