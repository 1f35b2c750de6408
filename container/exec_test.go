package container

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/cgroups"
)

const testMountinfo = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 /nested /sys/fs/cgroup/pids\040here rw,relatime - cgroup cgroup rw,pids
41 22 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestCgroupProcsFiles(t *testing.T) {
	mounts := cgroups.ParseMountinfo(testMountinfo)
	if len(mounts) != 5 {
		t.Fatalf("parsed %d cgroup mounts, want 5: %+v", len(mounts), mounts)
	}
	if mounts[3].Point != "/sys/fs/cgroup/pids here" || mounts[3].Root != "/nested" {
		t.Fatalf("escaped mount point: %+v", mounts[3])
	}
	ours := parseProcCgroup("5:pids:/nested\n4:name=systemd:/\n3:memory:/user\n2:cpu,cpuacct:/\n0::/\n")
	theirs := parseProcCgroup("5:pids:/nested/mydocker/abc\n4:name=systemd:/\n3:memory:/mydocker/abc\n2:cpu,cpuacct:/mydocker/abc\n1:blkio:/mydocker/abc\n0::/mydocker/abc\n")
	got, err := cgroupProcsFiles(theirs, ours, mounts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/sys/fs/cgroup/pids here/mydocker/abc/cgroup.procs",
		"/sys/fs/cgroup/memory/mydocker/abc/cgroup.procs",
		"/sys/fs/cgroup/cpu,cpuacct/mydocker/abc/cgroup.procs",
		// blkio is mounted nowhere: nothing to join there
		"/sys/fs/cgroup/unified/mydocker/abc/cgroup.procs",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// A container in our own cgroups (no cgroup of its own yet): nothing.
	if got, _ := cgroupProcsFiles(ours, ours, mounts); len(got) != 0 {
		t.Errorf("same cgroups: got %q, want nothing", got)
	}
}

func TestExecEnv(t *testing.T) {
	c := &Config{Hostname: "box", Env: []string{"A=1", "PATH=/bin"}}
	got := execEnv(c, []string{"A=2", "B=3"}, true)
	want := []string{"TERM=xterm", "PATH=/bin", "HOSTNAME=box", "HOME=/root", "A=2", "B=3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	c.Tty = true // the container's own TERM is kept
	c.Env = append(c.Env, "TERM=vt100")
	if got := execEnv(c, nil, true); !contains(got, "TERM=vt100") || contains(got, "TERM=xterm") {
		t.Errorf("TERM: %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestExecCommand(t *testing.T) {
	s := execSpec{Cmd: []string{"sh", "-c", "echo $X"}, Env: []string{"PATH=/bin", "X=a b"}, WorkDir: "/tmp"}
	got := execCommand(42, nil, s).Text(nil)
	want := `nsenter -t 42 -m -u -i -n -p -C -r -w/proc/42/root/tmp env -i PATH=/bin 'X=a b' sh -c 'echo $X'`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = execCommand(42, []string{"/sys/fs/cgroup/memory/m/cgroup.procs", "/sys/fs/cgroup/pids/m/cgroup.procs"}, s).Text(nil)
	if !strings.HasPrefix(got, `sh -c 'echo $$ | tee /sys/fs/cgroup/memory/m/cgroup.procs /sys/fs/cgroup/pids/m/cgroup.procs >/dev/null && exec nsenter -t 42 `) {
		t.Errorf("with a cgroup: %s", got)
	}
}
