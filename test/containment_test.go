package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The containment tests (issue 11) probe, from inside `run` and `exec`,
// what a container may do, as a hostile one would try it but harmlessly:
// test/probe makes one call per line and prints "ok", the errno's name or
// a value. Nothing here writes to a host-global kernel interface, even
// where a flag allows it: /proc/sys is only opened for append, and acct()
// is only called where CAP_SYS_PACCT is missing.

// check is one probe line and what it must print: the exact text, or with
// "~" a text it must contain, with "!~" one it must not.
type check struct{ probe, want string }

func (c check) holds(got string) bool {
	switch {
	case strings.HasPrefix(c.want, "!~"):
		return !strings.Contains(got, c.want[2:])
	case strings.HasPrefix(c.want, "~"):
		return strings.Contains(got, c.want[1:])
	}
	return got == c.want
}

// script is the checks' probes as one shell script, a line each.
func script(checks []check) string {
	var b strings.Builder
	for _, c := range checks {
		b.WriteString("/probe " + c.probe + "\n")
	}
	return b.String()
}

// verify compares the probes' output, line by line, with the checks.
func verify(t *testing.T, what string, checks []check, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(checks) {
		t.Errorf("%s: %d lines for %d probes:\n%s", what, len(lines), len(checks), out)
		return
	}
	for i, c := range checks {
		if !c.holds(lines[i]) {
			t.Errorf("%s: probe %s = %q, want %q", what, c.probe, lines[i], c.want)
		}
	}
}

// probeRun runs the checks in a new container made with flags.
func (e *env) probeRun(t *testing.T, flags []string, checks []check) {
	t.Helper()
	args := append([]string{"--log-level", "error", "run", "--rm", "--net", "none", "-v", probe + ":/probe:ro"}, flags...)
	out := e.ok(append(args, "busybox", "sh", "-c", script(checks))...)
	verify(t, "run "+strings.Join(flags, " "), checks, out)
}

// probeExec runs the checks through exec (with flags) in container name.
func (e *env) probeExec(t *testing.T, name string, flags []string, checks []check) {
	t.Helper()
	args := append([]string{"--log-level", "error", "exec"}, flags...)
	out := e.ok(append(args, name, "sh", "-c", script(checks))...)
	verify(t, "exec "+strings.Join(flags, " "), checks, out)
}

// hostCapEff is this process's effective set: what --privileged hands out.
func hostCapEff(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no CapEff")
	return ""
}

// defaultChecks are docker's defaults, as a container sees them.
func defaultChecks() []check {
	checks := []check{
		{"status CapEff", "00000000a80425fb"},
		{"status CapBnd", "00000000a80425fb"},
		{"status CapInh", "0000000000000000"},
		{"status CapAmb", "0000000000000000"},
		{"status NoNewPrivs", "0"},
		{"status Seccomp", "2"},
		{"mount-tmpfs /tmp", "EPERM"},
		{"unshare-user", "EPERM"},
		{"unshare-net", "EPERM"},
		{"clone3", "ENOSYS"},
		{"acct", "EPERM"},
		{"bpf-map", "EPERM"},
		{"open-append /proc/sys/kernel/core_pattern", "EROFS"},
		{"open /dev/kmsg", "ENOENT"}, // not in the container's /dev
		// A node may be made (docker's rules allow mknod of any), not
		// opened: the device cgroup refuses kmsg, and fuse, which no
		// capability guards, so only the device cgroup can say EPERM.
		{"mknod-open /tmp/kmsg 1 11", "EPERM"},
		{"mknod-open /tmp/fuse 10 229", "EPERM"},
		// /sys/fs/cgroup: the container's own cgroups, read-only; the
		// host's mydocker/ parent is not in its view.
		{"mkdir /sys/fs/cgroup/memory/escape", "EROFS"},
		{"ls /sys/fs/cgroup/memory", "!~mydocker"},
		{"mount-tmpfs /sys/fs/cgroup", "EPERM"},
	}
	// Masked files read empty (those this host has).
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"} {
		if _, err := os.Stat(p); err == nil {
			checks = append(checks, check{"read " + p, "empty"})
		}
	}
	if _, err := os.Stat("/proc/sysrq-trigger"); err == nil {
		checks = append(checks, check{"open-append /proc/sysrq-trigger", "EROFS"})
	}
	if _, err := os.Stat("/sys/firmware"); err == nil {
		checks = append(checks, check{"ls /sys/firmware", ""})
	}
	return checks
}

func TestContainmentDefaultsRunAndExec(t *testing.T) {
	e := newEnv(t)
	checks := defaultChecks()
	e.probeRun(t, nil, checks)
	e.ok("--log-level", "error", "run", "-d", "--name", "box", "--net", "none", "-v", probe+":/probe:ro", "busybox", "sleep", "1000")
	e.probeExec(t, "box", nil, checks)
}

// The flags that lift each refusal, as docker's do.
func TestContainmentFlagsLiftIt(t *testing.T) {
	e := newEnv(t)
	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	for _, tc := range []struct {
		flags  []string
		checks []check
	}{
		{[]string{"--cap-add", "SYS_ADMIN"}, []check{{"mount-tmpfs /tmp", "ok"}, {"status CapEff", "00000000a82425fb"}}},
		// No capability is needed for a user namespace: only the filter
		// refused it (the kernel's EINVAL is for a process with threads).
		{[]string{"--security-opt", "seccomp=unconfined"}, []check{{"unshare-user", "EINVAL"}, {"status Seccomp", "0"}}},
		{[]string{"--cap-add", "sys_admin", "--security-opt", "seccomp=unconfined"}, []check{{"unshare-net", "ok"}, {"status Seccomp", "0"}}},
		{[]string{"--security-opt", "seccomp=" + profile}, []check{{"mkdir /tmp/d", "EPERM"}, {"status Seccomp", "2"}}},
		{[]string{"--security-opt", "no-new-privileges"}, []check{{"status NoNewPrivs", "1"}, {"status Seccomp", "2"}, {"status CapEff", "00000000a80425fb"}}},
		{[]string{"--cap-drop", "ALL"}, []check{{"status CapEff", "0000000000000000"}, {"status CapBnd", "0000000000000000"}}},
		{[]string{"--cap-drop", "chown", "--cap-drop", "CAP_KILL"}, []check{{"status CapEff", "00000000a80425da"}}},
		{[]string{"-u", "1000"}, []check{{"id", "uid=1000 euid=1000 gid=0"}, {"status CapEff", "0000000000000000"}, {"status CapBnd", "00000000a80425fb"}}},
		{[]string{"-u", "nobody"}, []check{{"id", "uid=65534 euid=65534 gid=65534"}, {"status CapEff", "0000000000000000"}}},
		{[]string{"--read-only", "--tmpfs", "/scratch"}, []check{{"create /x", "EROFS"}, {"create /scratch/x", "ok"}}},
		{[]string{"-u", "1000", "--read-only", "-w", "/work/here"}, []check{{"ls /work", "here"}, {"create /work/here/x", "EROFS"}}},
		{[]string{"--device", "/dev/null:/dev/mynull"}, []check{{"open /dev/mynull", "ok"}}},
		{[]string{"--privileged"}, []check{
			{"status CapEff", hostCapEff(t)},
			{"status Seccomp", "0"},
			{"open-append /proc/sys/kernel/core_pattern", "ok"}, // opened, never written
			{"mount-tmpfs /tmp", "ok"},
			{"read /proc/timer_list", "!~empty"},
		}},
	} {
		e.probeRun(t, tc.flags, tc.checks)
	}
}

func TestContainmentExecUserAndPrivileged(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "error", "run", "-d", "--name", "box", "--net", "none", "-v", probe+":/probe:ro", "busybox", "sleep", "1000")
	e.probeExec(t, "box", []string{"-u", "1000"}, []check{{"id", "uid=1000 euid=1000 gid=0"}, {"status CapEff", "0000000000000000"}, {"status Seccomp", "2"}})
	e.probeExec(t, "box", []string{"--privileged"}, []check{{"status CapEff", hostCapEff(t)}})
	if out := e.ok("--log-level", "error", "exec", "-u", "nobody", "box", "sh", "-c", "echo $HOME"); strings.TrimSpace(out) != "/home" {
		t.Errorf("exec -u nobody: HOME=%q, want the image's /home", out)
	}
	e.fails(`user "nosuch"`, "exec", "-u", "nosuch", "box", "true")

	// A container run as a user: exec runs as that user too.
	e.ok("--log-level", "error", "run", "-d", "--name", "user", "-u", "1000", "--net", "none", "-v", probe+":/probe:ro", "busybox", "sleep", "1000")
	e.probeExec(t, "user", nil, []check{{"id", "uid=1000 euid=1000 gid=0"}, {"status CapEff", "0000000000000000"}})
}

// Bad input is one clear line, exit 125, and nothing is created, in a dry
// run too.
func TestContainmentBadInput(t *testing.T) {
	e := newEnv(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"syscalls": [`), 0o644)
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--cap-add", "NOPE"}, `unknown capability: "CAP_NOPE"`},
		{[]string{"--cap-drop", "CAP_NOPE"}, `unknown capability: "CAP_NOPE"`},
		{[]string{"--security-opt", "apparmor=x"}, `unsupported --security-opt "apparmor=x"`},
		{[]string{"--security-opt", "nope"}, `invalid --security-opt "nope"`},
		{[]string{"--security-opt", "seccomp=/does/not/exist.json"}, "seccomp profile /does/not/exist.json: no such file or directory"},
		{[]string{"--security-opt", "seccomp=" + bad}, "seccomp profile " + bad + ": invalid JSON"},
		{[]string{"-u", "nosuchuser"}, `user "nosuchuser"`},
		{[]string{"--device", "/dev/nosuchdevice"}, "/dev/nosuchdevice: no such file or directory"},
		{[]string{"--tmpfs", "relative"}, `invalid --tmpfs "relative"`},
	} {
		for _, dry := range []bool{false, true} {
			args := append([]string{"run"}, tc.flags...)
			if dry {
				args = append(args, "--dry-run")
			}
			r := e.fails(tc.want, append(args, "--net", "none", "busybox", "true")...)
			if r.code != 125 {
				t.Errorf("%v: exit %d, want 125", args, r.code)
			}
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
				t.Errorf("%v: %d lines of error:\n%s", args, len(lines), r.stderr)
			}
		}
		if ps := strings.TrimSpace(e.ok("ps", "-a", "-q")); ps != "" {
			t.Fatalf("%v: a container was created: %s", tc.flags, ps)
		}
		if left := e.leftovers(); len(left) > 0 {
			t.Fatalf("%v: left behind %v", tc.flags, left)
		}
	}
}

// inspect shows the settings as docker's does.
func TestContainmentInspect(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "error", "run", "-d", "--name", "box", "--net", "none",
		"--cap-add", "SYS_ADMIN", "--cap-drop", "CHOWN", "--security-opt", "no-new-privileges", "-u", "1000",
		"--device", "/dev/null:/dev/mynull:r", "--read-only", "--tmpfs", "/scratch:size=1m", "busybox", "sleep", "1000")
	var insp []struct {
		Config     struct{ User string }
		HostConfig struct {
			CapAdd, CapDrop, SecurityOpt []string
			Privileged, ReadonlyRootfs   bool
			Devices                      []struct{ PathOnHost, PathInContainer, CgroupPermissions string }
			Tmpfs                        map[string]string
		}
	}
	if err := json.Unmarshal([]byte(e.ok("inspect", "box")), &insp); err != nil || len(insp) != 1 {
		t.Fatal(err)
	}
	h := insp[0].HostConfig
	if insp[0].Config.User != "1000" || strings.Join(h.CapAdd, ",") != "SYS_ADMIN" || strings.Join(h.CapDrop, ",") != "CHOWN" ||
		strings.Join(h.SecurityOpt, ",") != "no-new-privileges" || h.Privileged || !h.ReadonlyRootfs ||
		len(h.Devices) != 1 || h.Devices[0].PathOnHost != "/dev/null" || h.Devices[0].PathInContainer != "/dev/mynull" ||
		h.Devices[0].CgroupPermissions != "r" || h.Tmpfs["/scratch"] != "size=1m" {
		t.Errorf("inspect: %+v", insp[0])
	}
}
