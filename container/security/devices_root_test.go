package security

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/testns"
	"golang.org/x/sys/unix"
)

// devProbe moves itself into the given cgroups, then opens an allowed node
// (/dev/null) and one outside docker's allowlist (/dev/kmsg, read-only,
// closed at once: nothing is read) and reports the errnos as JSON.
func devProbe(procs string) {
	for _, f := range strings.Split(procs, ",") {
		if err := os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			fmt.Fprintln(os.Stderr, "devprobe:", err)
			os.Exit(3)
		}
	}
	r := map[string]string{}
	for _, p := range []string{"/dev/null", "/dev/kmsg"} {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		r[p] = errnoName(err)
	}
	json.NewEncoder(os.Stdout).Encode(r)
	os.Exit(0)
}

// testCgroup makes a fresh cgroup under a hierarchy and removes it after
// the test (its processes have exited by then).
func testCgroup(t *testing.T, hierarchy string) string {
	t.Helper()
	if _, err := os.Stat(hierarchy); err != nil {
		t.Skipf("no %s here", hierarchy)
	}
	dir := filepath.Join(hierarchy, fmt.Sprintf("mydocker-security-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

func runDevProbe(t *testing.T, procs ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), devProbeEnv+"="+strings.Join(procs, ","))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("device probe: %v: %s", err, stderr.String())
	}
	r := map[string]string{}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("device probe output %q: %v", out, err)
	}
	return r
}

func TestDevicesV1Real(t *testing.T) {
	testns.RequireRoot(t)
	dir := testCgroup(t, "/sys/fs/cgroup/devices")
	if err := ApplyDevicesV1(dir, DefaultDeviceRules()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "devices.list"))
	t.Logf("devices.list:\n%s", b)
	r := runDevProbe(t, filepath.Join(dir, "cgroup.procs"))
	if r["/dev/null"] != "ok" || r["/dev/kmsg"] != "EPERM" {
		t.Errorf("in the v1 devices cgroup: %v", r)
	}
}

func TestDevicesV2Real(t *testing.T) {
	testns.RequireRoot(t)
	dir := testCgroup(t, "/sys/fs/cgroup/unified")
	if err := ApplyDevicesV2(dir, DefaultDeviceRules()); err != nil {
		t.Fatal(err)
	}
	r := runDevProbe(t, filepath.Join(dir, "cgroup.procs"))
	if r["/dev/null"] != "ok" || r["/dev/kmsg"] != "EPERM" {
		t.Errorf("under the v2 device program: %v", r)
	}
	// --device adds a node's rule: /dev/kmsg then opens.
	devs, err := ParseDevice("/dev/kmsg:/dev/kmsg:r")
	if err != nil {
		t.Fatal(err)
	}
	rules := append(DefaultDeviceRules(), &devs[0].Rule)
	if err := ApplyDevicesV2(dir, rules); err != nil {
		t.Fatal(err)
	}
	r = runDevProbe(t, filepath.Join(dir, "cgroup.procs"))
	if r["/dev/kmsg"] != "ok" {
		t.Errorf("with --device /dev/kmsg:r: %v", r)
	}
}
