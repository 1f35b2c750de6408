package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestRunEchoLeavesNothingBehind(t *testing.T) {
	e := newEnv(t)
	r := e.run("run", "--rm", "busybox", "echo", "hello")
	if r.code != 0 || r.stdout != "hello\n" {
		t.Fatalf("run --rm echo hello: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if out := e.ok("ps", "-a", "-q"); out != "" {
		t.Fatalf("ps -a after --rm lists %q", out)
	}
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("--rm left %v", left)
	}
	// The narration says what was done, in the seed's format.
	for _, want := range []string{"$ nsenter -t ", "mount -t overlay", "pivot_root . .", `source="container/`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("narration lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestIsolation(t *testing.T) {
	e := newEnv(t)
	host, _ := os.Hostname()
	out := e.ok("--log-level", "error", "run", "--rm", "--hostname", "box", "busybox", "sh", "-c",
		`echo pid=$$; hostname; ps -o pid= | wc -l; readlink /proc/1/ns/net; readlink /proc/1/ns/mnt; grep -c . /proc/mounts; touch /sys/x 2>/dev/null || echo sysro; ls /dev/null /dev/zero /dev/pts/ptmx /dev/shm >/dev/null && echo devok`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if lines[0] != "pid=1" {
		t.Errorf("the command is not pid 1: %s", lines[0])
	}
	if lines[1] != "box" || lines[1] == host {
		t.Errorf("hostname = %q", lines[1])
	}
	if n := strings.TrimSpace(lines[2]); n != "2" && n != "3" { // sh, ps (and wc)
		t.Errorf("ps sees %s processes: not the container's own /proc", n)
	}
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")
	if lines[3] == hostNet || lines[4] == hostMnt {
		t.Errorf("container shares the caller's namespaces: net %s mnt %s", lines[3], lines[4])
	}
	if !strings.Contains(out, "sysro") || !strings.Contains(out, "devok") {
		t.Errorf("/sys should be read-only and /dev populated:\n%s", out)
	}
	// Nothing the container mounted is visible here.
	mounts, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(mounts), e.dataRoot) {
		t.Errorf("container mounts leaked into the caller's namespace:\n%s", mounts)
	}
}

func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	if r := e.run("run", "--rm", "busybox", "sh", "-c", "exit 3"); r.code != 3 {
		t.Errorf("exit 3: got %d", r.code)
	}
	r := e.fails("executable file not found", "run", "--rm", "busybox", "nosuchcommand")
	if r.code != 127 {
		t.Errorf("command not found: exit %d, want 127", r.code)
	}
	r = e.fails("permission denied", "run", "--rm", "busybox", "/etc")
	if r.code != 126 {
		t.Errorf("not executable: exit %d, want 126", r.code)
	}
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("failed --rm runs left %v", left)
	}
}

func TestDetachedLifecycle(t *testing.T) {
	e := newEnv(t)
	data := filepath.Join(t.TempDir(), "data") // missing: run creates it
	t.Setenv("FROM_CALLER", "yes")
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "web", "-e", "GREETING=hi", "-e", "FROM_CALLER", "-e", "LIST=a,b",
		"-v", data+":/data", "busybox", "sh", "-c", `echo $GREETING > /data/x; echo "out $FROM_CALLER $LIST"; echo err >&2; sleep 1000`))
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-hex id", id)
	}
	waitFor(t, "the volume file", func() bool { b, _ := os.ReadFile(filepath.Join(data, "x")); return string(b) == "hi\n" })

	ps := e.ok("ps")
	if !strings.Contains(ps, id[:12]) || !strings.Contains(ps, "Up ") || !strings.Contains(ps, "web") {
		t.Fatalf("ps:\n%s", ps)
	}
	if q := strings.TrimSpace(e.ok("ps", "-q")); q != id[:12] {
		t.Fatalf("ps -q = %q", q)
	}
	waitFor(t, "logs", func() bool { r := e.run("logs", "web"); return r.stdout == "out yes a,b\n" && r.stderr == "err\n" })

	// Selected by name, full id and prefix.
	for _, ref := range []string{"web", id, id[:5]} {
		var insp []map[string]any
		if err := json.Unmarshal([]byte(e.ok("inspect", ref)), &insp); err != nil || len(insp) != 1 {
			t.Fatalf("inspect %s: %v", ref, err)
		}
		st := insp[0]["State"].(map[string]any)
		if insp[0]["Id"] != id || st["Status"] != "running" || st["Pid"].(float64) <= 0 {
			t.Fatalf("inspect %s: %v", ref, insp[0])
		}
	}

	e.fails("is running", "rm", "web")
	e.fails("already in use", "run", "-d", "--name", "web", "busybox", "true")

	e.ok("stop", "-t", "1", "web")
	if ps := e.ok("ps", "-q"); ps != "" {
		t.Fatalf("ps after stop: %q", ps)
	}
	psa := e.ok("ps", "-a")
	if !strings.Contains(psa, "Exited (137)") {
		t.Fatalf("ps -a after stop:\n%s", psa)
	}
	var insp []struct {
		State struct {
			Status   string
			ExitCode int
		}
		Mounts []struct{ Source, Destination string }
		Config struct{ Env []string }
	}
	json.Unmarshal([]byte(e.ok("inspect", "web")), &insp)
	if insp[0].State.Status != "exited" || insp[0].State.ExitCode != 137 || len(insp[0].Mounts) != 1 ||
		!strings.Contains(strings.Join(insp[0].Config.Env, " "), "GREETING=hi") {
		t.Fatalf("inspect after stop: %+v", insp[0])
	}
	e.ok("rm", "web")
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("rm left %v", left)
	}
	e.fails("no such container", "logs", "web")
}

func TestStopGracefulAndLogsFollow(t *testing.T) {
	e := newEnv(t)
	// pid 1 gets SIGTERM only if it handles it: this one does, and exits 0.
	e.ok("run", "-d", "--name", "g", "busybox", "sh", "-c", `trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done`)
	waitFor(t, "ready", func() bool { return strings.Contains(e.ok("logs", "g"), "ready") })
	follow := make(chan string)
	go func() { follow <- e.ok("logs", "-f", "g") }()
	e.ok("stop", "g")
	if out := <-follow; !strings.Contains(out, "ready\n") || !strings.Contains(out, "bye\n") {
		t.Fatalf("logs -f: %q", out)
	}
	if !strings.Contains(e.ok("ps", "-a"), "Exited (0)") {
		t.Fatalf("ps -a: %s", e.ok("ps", "-a"))
	}
	e.ok("rm", "g")
}

func TestRmForceAndDetachedRm(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "f", "busybox", "sleep", "1000")
	e.ok("rm", "-f", "f")
	e.ok("run", "-d", "--rm", "--name", "short", "busybox", "true")
	waitFor(t, "the --rm container to go", func() bool { return e.ok("ps", "-a", "-q") == "" })
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
}

// ps must not trust the state file: a container whose processes died with
// nobody to record it is not Up.
func TestPsNeverShowsDeadAsUp(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "d", "busybox", "sleep", "1000")
	var insp []struct{ State struct{ Pid int } }
	json.Unmarshal([]byte(e.ok("inspect", "d")), &insp)
	pid := insp[0].State.Pid
	var cfg struct{ MonitorPid int }
	entries, _ := os.ReadDir(filepath.Join(e.root, "containers"))
	for _, en := range entries {
		if data, err := os.ReadFile(filepath.Join(e.root, "containers", en.Name(), "config.json")); err == nil {
			json.Unmarshal(data, &cfg)
		}
	}
	if cfg.MonitorPid <= 0 || pid <= 0 {
		t.Fatalf("no pids: monitor %d, container %d", cfg.MonitorPid, pid)
	}
	syscall.Kill(cfg.MonitorPid, syscall.SIGKILL) // the shim, started by this test's mydocker
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "ps to drop the dead container", func() bool { return e.ok("ps", "-q") == "" })
	if !strings.Contains(e.ok("ps", "-a"), "Exited") {
		t.Fatalf("ps -a: %s", e.ok("ps", "-a"))
	}
	e.ok("rm", "d")
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
}

func TestInteractiveTTY(t *testing.T) {
	e := newEnv(t)
	for _, flag := range []string{"-ti", "-it"} {
		out := e.tty(t, "exit\n", "echo pid=$$; tty; echo sum=$((6*7))\n", "--log-level", "error", "run", "--rm", flag, "busybox", "sh")
		for _, want := range []string{"pid=1", "/dev/pts/", "sum=42"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", flag, want, out)
			}
		}
	}
}

func TestImages(t *testing.T) {
	e := newEnv(t)
	e.fails("no such image", "run", "--rm", "nosuchimage", "true")
	e.ok("run", "--rm", "busybox", "true") // builds busybox
	if !strings.Contains(e.ok("images"), "busybox") {
		t.Fatalf("images: %s", e.ok("images"))
	}
	// A rootfs tarball, as `tar -C rootfs -c .` makes it, gives an image of any name.
	rootfs := filepath.Join(e.dataRoot, "images", "busybox")
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	e.ok("image", "import", tarball, "mybox")
	if out := e.ok("run", "--rm", "mybox", "sh", "-c", "echo from-mybox"); out != "from-mybox\n" {
		t.Fatalf("run mybox: %q", out)
	}
	e.ok("image", "import", rootfs, "dirbox")
	if out := e.ok("run", "--rm", "dirbox", "cat", "/etc/passwd"); !strings.HasPrefix(out, "root:x:0:0") {
		t.Fatalf("run dirbox: %q", out)
	}
	e.fails("already exists", "image", "import", tarball, "mybox")
	e.fails("would copy itself", "image", "import", e.dataRoot, "whole")
	e.fails("invalid image name", "image", "import", tarball, "../evil")
	e.ok("run", "-d", "--name", "user", "mybox", "sleep", "1000")
	e.fails("used by container", "image", "rm", "mybox")
	e.ok("rm", "-f", "user")
	e.ok("image", "rm", "mybox", "dirbox")
	if strings.Contains(e.ok("images"), "mybox") {
		t.Fatal("image rm left mybox")
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.fails("invalid container name", "run", "--name", "-bad", "busybox", "true")
	e.fails("invalid container name", "run", "--name", "a/b", "busybox", "true")
	e.fails("container path \"data\" must be absolute", "run", "-v", "/tmp:data", "busybox", "true")
	e.fails("want [HOST:|NAME:]CONTAINER[:MODE]", "run", "-v", "/tmp:/a:ro:x", "busybox", "true")
	e.fails("host path \"r\" must be absolute, or a volume name", "run", "-v", "r:/data", "busybox", "true")
	e.fails("no such container", "stop", "nosuch")
	e.fails("no such container", "rm", "nosuch")
	e.fails("no such container", "inspect", "nosuch")
	e.fails("needs at least 1 argument", "run")
	if left := e.leftovers(); len(left) > 0 {
		t.Fatalf("bad input left %v", left)
	}
	// Not root: refused before anything.
	cmd := exec.Command(binary, "--root", e.root, "--data-root", e.dataRoot, "ps")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs root") {
		t.Fatalf("as nobody: err %v, output %q", err, out)
	}
	// Global flags come from the environment too.
	envCmd := exec.Command(binary, "ps", "-a")
	envCmd.Env = append(os.Environ(), "MYDOCKER_ROOT="+e.root, "MYDOCKER_DATA_ROOT="+e.dataRoot)
	if out, err := envCmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "CONTAINER ID") {
		t.Fatalf("MYDOCKER_ROOT: %v %s", err, out)
	}
}

// Two mydocker processes creating containers at once lose nothing.
func TestConcurrentCreate(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--rm", "busybox", "true") // build the image once
	var wg sync.WaitGroup
	results := make([]result, 16)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("c%d", i)
			if i >= 10 {
				name = "same" // six runs race for one name
			}
			results[i] = e.run("--log-level", "error", "run", "-d", "--name", name, "busybox", "sleep", "1000")
		}(i)
	}
	wg.Wait()
	ids := map[string]bool{}
	sameOK := 0
	for i, r := range results {
		if i < 10 && r.code != 0 {
			t.Fatalf("run %d failed: %s", i, r.stderr)
		}
		if r.code == 0 {
			ids[strings.TrimSpace(r.stdout)] = true
			if i >= 10 {
				sameOK++
			}
		}
	}
	if sameOK != 1 {
		t.Fatalf("%d runs got the name 'same', want exactly 1", sameOK)
	}
	if n := len(strings.Fields(e.ok("ps", "-q"))); n != 11 || len(ids) != 11 {
		t.Fatalf("ps shows %d containers, %d distinct ids; want 11", n, len(ids))
	}
}

// The container inherits the caller's resource limits, never more.
func TestRlimitsInherited(t *testing.T) {
	e := newEnv(t)
	cmd := exec.Command("prlimit", "--nofile=1000:2000", binary, "--root", e.root, "--data-root", e.dataRoot,
		"--log-level", "error", "run", "--rm", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Fields(string(out))[0] != "1000" || strings.Fields(string(out))[1] != "2000" {
		t.Fatalf("ulimit in container: %v %q, want 1000 2000", err, out)
	}
}
