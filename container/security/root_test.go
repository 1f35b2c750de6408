package security

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/mydocker/mydocker/internal/testns"
	"golang.org/x/sys/unix"
)

// The root tests apply the confinement in a re-executed child of this test
// binary, never in the test process: the child locks its thread, calls
// Finalize and execs the binary again as a probe, which reports what it
// may do as JSON and exits.
const (
	childEnv = "MYDOCKER_SECURITY_CHILD" // path of a Config JSON file
	probeEnv = "MYDOCKER_SECURITY_PROBE" // directory the probe may mkdir in
	// cgroup.procs files the device probe moves itself into first.
	devProbeEnv = "MYDOCKER_SECURITY_DEVPROBE"
)

func TestMain(m *testing.M) {
	if file := os.Getenv(childEnv); file != "" {
		child(file)
	}
	if dir := os.Getenv(probeEnv); dir != "" {
		probe(dir)
	}
	if procs := os.Getenv(devProbeEnv); procs != "" {
		devProbe(procs)
	}
	testns.Main(m)
}

func child(file string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		fail(err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		fail(err)
	}
	runtime.LockOSThread()
	if err := Finalize(&c); err != nil {
		fail(err)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, childEnv+"=") {
			env = append(env, e)
		}
	}
	fail(syscall.Exec(os.Args[0], os.Args[:1], env))
}

type probeResult struct {
	Status  map[string]string
	Unshare string
	Clone3  string
	Mkdir   string
	// Only tried when the capability that would let them through is
	// absent, so that none of them can change anything on the host.
	Acct, Mount, BPF, OpenByHandle string
}

func errnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

func probe(dir string) {
	r := probeResult{Status: map[string]string{}}
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Uid", "Gid", "Groups":
			r.Status[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	// Harmless: a Go process has threads, so without a filter the kernel
	// refuses a new user namespace with EINVAL; clone3 with no arguments
	// is EINVAL too.
	_, _, e := unix.RawSyscall(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0)
	r.Unshare = errnoName(errOrNil(e))
	_, _, e = unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	r.Clone3 = errnoName(errOrNil(e))
	r.Mkdir = errnoName(unix.Mkdir(filepath.Join(dir, "made"), 0o755))
	eff, _ := strconv.ParseUint(r.Status["CapEff"], 16, 64)
	if eff&(1<<unix.CAP_SYS_PACCT) == 0 {
		_, _, e = unix.RawSyscall(unix.SYS_ACCT, 0, 0, 0)
		r.Acct = errnoName(errOrNil(e))
	}
	if eff&(1<<unix.CAP_SYS_ADMIN) == 0 {
		r.Mount = errnoName(unix.Mount("none", dir, "tmpfs", 0, ""))
	}
	if eff&(1<<unix.CAP_SYS_ADMIN|1<<unix.CAP_BPF) == 0 {
		attr := [5]uint32{unix.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0}
		fd, _, e := unix.RawSyscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if e == 0 {
			unix.Close(int(fd))
		}
		r.BPF = errnoName(errOrNil(e))
	}
	if eff&(1<<unix.CAP_DAC_READ_SEARCH) == 0 {
		_, _, e = unix.RawSyscall(unix.SYS_OPEN_BY_HANDLE_AT, ^uintptr(0)-99, 0, unix.O_RDONLY) // AT_FDCWD
		r.OpenByHandle = errnoName(errOrNil(e))
	}
	json.NewEncoder(os.Stdout).Encode(r)
	os.Exit(0)
}

func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// runConfined runs the probe under c and returns what it saw.
func runConfined(t *testing.T, c *Config) probeResult {
	t.Helper()
	// A world-readable copy of the test binary and a world-writable scratch
	// directory, so that a non-root probe can exec and mkdir.
	dir, err := os.MkdirTemp("", "mydocker-security-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "probe")
	copyFile(t, os.Args[0], bin)
	scratch := filepath.Join(dir, "scratch")
	os.Mkdir(scratch, 0o777)
	os.Chmod(scratch, 0o777)
	cfg := filepath.Join(dir, "config.json")
	b, _ := json.Marshal(c)
	os.WriteFile(cfg, b, 0o644)

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), childEnv+"="+cfg, probeEnv+"="+scratch)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("confined child: %v: %s", err, stderr.String())
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("probe output %q: %v", out, err)
	}
	return r
}

func copyFile(t *testing.T, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func resolveHere(t *testing.T, f Flags) *Config {
	t.Helper()
	env, err := HostCapEnv()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Resolve(f, Options{Rootfs: testRootfs(t), Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfinedProcess(t *testing.T) {
	testns.RequireRoot(t)
	nomkdir := filepath.Join(t.TempDir(), "nomkdir.json")
	os.WriteFile(nomkdir, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	cases := []struct {
		name  string
		flags Flags
		want  probeResult
	}{
		{"default with no-new-privileges", Flags{SecurityOpt: []string{"no-new-privileges"}}, probeResult{
			Status:  map[string]string{"CapEff": "00000000a80425fb", "CapPrm": "00000000a80425fb", "CapBnd": "00000000a80425fb", "CapInh": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"},
			Unshare: "EPERM", Clone3: "ENOSYS", Mkdir: "ok", Acct: "EPERM", Mount: "EPERM", BPF: "EPERM", OpenByHandle: "EPERM"}},
		{"default", Flags{}, probeResult{
			Status:  map[string]string{"CapEff": "00000000a80425fb", "CapBnd": "00000000a80425fb", "NoNewPrivs": "0", "Seccomp": "2"},
			Unshare: "EPERM", Clone3: "ENOSYS", Mkdir: "ok"}},
		{"custom profile refusing mkdir", Flags{SecurityOpt: []string{"seccomp=" + nomkdir}}, probeResult{
			Status: map[string]string{"Seccomp": "2"}, Mkdir: "EPERM"}},
		{"non-root user", Flags{User: "alice", SecurityOpt: []string{"no-new-privileges=true"}}, probeResult{
			Status:  map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapBnd": "00000000a80425fb", "Uid": "1000 1000 1000 1000", "Gid": "1000 1000 1000 1000", "Groups": "10 29 1000", "Seccomp": "2"},
			Unshare: "EPERM", Mkdir: "ok"}},
		{"cap-drop ALL, unconfined", Flags{CapDrop: []string{"ALL"}, SecurityOpt: []string{"seccomp=unconfined"}}, probeResult{
			Status:  map[string]string{"CapEff": "0000000000000000", "CapBnd": "0000000000000000", "Seccomp": "0"},
			Unshare: "EINVAL", Clone3: "EINVAL"}},
		{"cap-add SYS_ADMIN lifts the namespace rules", Flags{CapAdd: []string{"sys_admin"}}, probeResult{
			Status:  map[string]string{"CapEff": "00000000a82425fb", "Seccomp": "2"},
			Unshare: "EINVAL", Clone3: "EINVAL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runConfined(t, resolveHere(t, c.flags))
			for k, v := range c.want.Status {
				if got.Status[k] != v {
					t.Errorf("%s: %q, want %q", k, got.Status[k], v)
				}
			}
			for _, f := range []struct{ name, got, want string }{
				{"unshare(CLONE_NEWUSER)", got.Unshare, c.want.Unshare},
				{"clone3", got.Clone3, c.want.Clone3},
				{"mkdir", got.Mkdir, c.want.Mkdir},
				{"acct(NULL)", got.Acct, c.want.Acct},
				{"mount -t tmpfs", got.Mount, c.want.Mount},
				{"bpf(BPF_MAP_CREATE)", got.BPF, c.want.BPF},
				{"open_by_handle_at", got.OpenByHandle, c.want.OpenByHandle},
			} {
				if f.want != "" && f.got != f.want {
					t.Errorf("%s: %s, want %s", f.name, f.got, f.want)
				}
			}
		})
	}
}
