package kv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/mydocker/mydocker/internal/testns"
)

// runWithHelper builds mydocker-kv (once, before the tests re-execute in
// their namespaces) and points $MYDOCKER_KV_HELPER at it, then runs the tests.
func runWithHelper(m *testing.M) int {
	if os.Getenv(dialAndWaitEnv) != "" {
		dialAndWait()
	}
	if os.Getenv(HelperEnv) != "" || testns.Inside() {
		return testns.Run(m)
	}
	dir, err := os.MkdirTemp("", "kv-helper-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, HelperName)
	build := exec.Command("go", "build", "-o", bin, "github.com/mydocker/mydocker/cmd/mydocker-kv")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building %s: %v\n%s", HelperName, err, out)
		return 1
	}
	os.Setenv(HelperEnv, bin)
	return testns.Run(m)
}

// raw is a client of the test's own, in the test process, for what the
// tests look at or do behind mydocker's back (compaction, leases' keys).
func raw(t *testing.T, c *Client) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// A mydocker-kv that is not there: Dial says so in one line, naming where
// it looked, at once (no etcd needed: it fails before any dial).
func TestDialNamesTheMissingHelper(t *testing.T) {
	t.Setenv(HelperEnv, "")
	t.Setenv("PATH", t.TempDir())
	start := time.Now()
	_, err := Dial([]string{"http://127.0.0.1:2379"})
	if err == nil {
		t.Fatal("Dial without mydocker-kv anywhere: no error")
	}
	exe, _ := os.Executable()
	want := "mydocker-kv (etcd's client, installed beside mydocker by `make install`) not found at " +
		filepath.Join(filepath.Dir(exe), HelperName) + " or in $PATH"
	if err.Error() != want {
		t.Errorf("Dial without mydocker-kv: %q, want %q", err, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Dial without mydocker-kv took %v", d)
	}

	missing := filepath.Join(t.TempDir(), "nowhere", HelperName)
	t.Setenv(HelperEnv, missing)
	_, err = Dial([]string{"http://127.0.0.1:2379"})
	want = "mydocker-kv (etcd's client) not found: $MYDOCKER_KV_HELPER=" + missing + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Dial with $MYDOCKER_KV_HELPER naming nothing: %v, want %q", err, want)
	}

	// There, but not a program: it cannot be started.
	notExe := filepath.Join(t.TempDir(), HelperName)
	if err := os.WriteFile(notExe, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(HelperEnv, notExe)
	_, err = Dial([]string{"http://127.0.0.1:2379"})
	if err == nil || !strings.HasPrefix(err.Error(), "cannot start "+notExe+" (etcd's client): ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Dial with a mydocker-kv that is no program: %v", err)
	}
}
