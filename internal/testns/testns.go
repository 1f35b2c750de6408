// Package testns runs a test binary inside its own network and mount
// namespace, so root tests create bridges, veths, iptables rules and mounts
// that the host never sees and that vanish with the namespaces.
package testns

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

const marker = "MYDOCKER_TEST_IN_NS"

// Main is a TestMain body: as root, it re-executes the test binary under
// `unshare --net --mount` (once) and exits with its status; otherwise it runs
// the tests here, where the root-only ones skip themselves.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Inside reports whether this process is the re-executed, namespaced one.
func Inside() bool { return os.Getenv(marker) != "" }

// Run is Main returning the exit status instead of exiting, for a TestMain
// with its own set-up and tear-down around it.
func Run(m *testing.M) int {
	if os.Geteuid() != 0 || Inside() {
		if Inside() {
			if err := setup(); err != nil {
				fmt.Fprintln(os.Stderr, "testns:", err)
				return 1
			}
		}
		return m.Run()
	}
	args := append([]string{"--net", "--mount", "--propagation", "private", os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), marker+"=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "testns: unshare:", err)
		return 1
	}
	return 0
}

// setup prepares the new namespaces. /sys stays the host's sysfs (a new one
// would hide the cgroup mounts); /sys/class/net there shows the host's
// links, so tests ask netlink, never sysfs, about links.
func setup() error {
	// A fresh network namespace starts with lo down.
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	// It copies the host's IPv4 settings: start from the kernel's
	// defaults (no routing), whatever the host has.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0\n"), 0o644); err != nil {
		return fmt.Errorf("ip_forward off in the test's namespace: %w", err)
	}
	return nil
}

// RequireRoot skips a test that needs root when not run as root. CI runs as
// root, so there these tests always run.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs it as root)")
	}
	if os.Getenv(marker) == "" {
		t.Fatal("root test outside its own namespaces: call testns.Main from TestMain")
	}
}
