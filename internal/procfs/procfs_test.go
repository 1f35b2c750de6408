package procfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestAliveTellsAReusedPid(t *testing.T) {
	start, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(os.Getpid(), start) {
		t.Error("this process is not alive")
	}
	if Alive(os.Getpid(), start+1) {
		t.Error("another start time counts as the same process")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid, start) {
		t.Error("an exited process is alive")
	}
	if _, _, err := Stat(0); err == nil {
		t.Error("pid 0 has a stat")
	}
}

func TestParseMountinfo(t *testing.T) {
	ms := ParseMountinfo("36 30 0:33 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory\n" +
		"40 30 0:35 /x /mnt/a\\040b rw - tmpfs my\\040tmp rw,size=1k\nbroken line\n")
	if len(ms) != 2 {
		t.Fatalf("parsed %d mounts: %+v", len(ms), ms)
	}
	if m := ms[0]; m.Point != "/sys/fs/cgroup/memory" || m.FSType != "cgroup" || m.SuperOptions != "rw,memory" || m.Options != "rw,relatime" {
		t.Errorf("first: %+v", m)
	}
	if m := ms[1]; m.Point != "/mnt/a b" || m.Root != "/x" || m.Source != "my tmp" {
		t.Errorf("escapes: %+v", m)
	}
}

func TestParseNetDev(t *testing.T) {
	data := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    2048      20    0    0    0     0          0         0      648       6    0    0    0     0       0          0
  eth1:      52       1    0    0    0     0          0         0        0       0    0    0    0     0       0          0
`
	if rx, tx := ParseNetDev(data); rx != 2100 || tx != 648 {
		t.Errorf("ParseNetDev: rx %d tx %d, want 2100 and 648 (lo left out)", rx, tx)
	}
}

// A process whose main thread has ended (a zombie) while another of its
// threads runs is alive: so is a Go process while one of its threads execs
// (the kernel makes the main thread a zombie first).
func TestAliveWithAZombieMainThread(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatal("gcc (cgo's compiler, which the build needs) is not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "leader.c")
	os.WriteFile(src, []byte(`#include <pthread.h>
#include <unistd.h>
static void *sleeper(void *arg) { (void)arg; sleep(30); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, sleeper, 0); pthread_exit(0); }
`), 0o644)
	bin := filepath.Join(dir, "leader")
	if out, err := exec.Command(cc, "-pthread", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if state, _, err := Stat(pid); err == nil && state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the main thread never became a zombie")
		}
	}
	start, err := StartTime(pid)
	if err != nil || !Alive(pid, start) {
		t.Fatalf("a process with a live thread behind its zombie main thread: StartTime %v, want alive", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if Alive(pid, start) {
		t.Error("a reaped process is alive")
	}
}
