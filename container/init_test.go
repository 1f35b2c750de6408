package container

import (
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/kernel"
)

// The init's steps are a function of its spec: planned (no root needed),
// they are the commands a real init narrates, in its order.
func TestInitOps(t *testing.T) {
	s := &initSpec{
		HostPid: 41, Lower: "/img", Upper: "/l/upper", Work: "/l/work", Merged: "/l/merged",
		Volumes: []volume{
			{Mount: Mount{Source: "/h/data", Destination: "/data", ReadOnly: true}},
			{Mount: Mount{Source: "/h/f.conf", Destination: "/etc/f.conf"}, File: true},
		},
		EtcFiles: etcFiles("/s"),
		Hostname: "box", Cmd: []string{"sleep", "9"}, Env: []string{defaultPath}, CgroupNS: true,
	}
	p := kernel.NewPlan(kernel.NewReal(nil), nil)
	if err := initSteps(p, s); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"nsenter -t 41 -m mount --make-rprivate /",
		"nsenter -t 41 -m mount -t overlay -o lowerdir=/img,upperdir=/l/upper,workdir=/l/work overlay /l/merged",
		"nsenter -t 41 -m mkdir -p /l/merged/data",
		"nsenter -t 41 -m mount --rbind /h/data /l/merged/data",
		"nsenter -t 41 -m mount -o remount,ro,bind /l/merged/data",
		`nsenter -t 41 -m sh -c "mkdir -p /l/merged/etc && touch /l/merged/etc/f.conf"`,
		"nsenter -t 41 -m mount --rbind /h/f.conf /l/merged/etc/f.conf",
		"nsenter -t 41 -m mkdir -p /l/merged/proc",
		"nsenter -t 41 -m -p mount -t proc -o nosuid,nodev,noexec proc /l/merged/proc",
		"nsenter -t 41 -m mkdir -p /l/merged/sys",
		"nsenter -t 41 -m -n mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /l/merged/sys",
		"nsenter -t 41 -m mkdir -p /l/merged/dev",
		"nsenter -t 41 -m mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs /l/merged/dev",
		"nsenter -t 41 -m mknod -m 666 /l/merged/dev/null c 1 3",
		"nsenter -t 41 -m mknod -m 666 /l/merged/dev/zero c 1 5",
		"nsenter -t 41 -m mknod -m 666 /l/merged/dev/full c 1 7",
		"nsenter -t 41 -m mknod -m 666 /l/merged/dev/random c 1 8",
		"nsenter -t 41 -m mknod -m 666 /l/merged/dev/urandom c 1 9",
		"nsenter -t 41 -m mknod -m 666 /l/merged/dev/tty c 5 0",
		"nsenter -t 41 -m ln -s /proc/self/fd /l/merged/dev/fd",
		"nsenter -t 41 -m ln -s /proc/self/fd/0 /l/merged/dev/stdin",
		"nsenter -t 41 -m ln -s /proc/self/fd/1 /l/merged/dev/stdout",
		"nsenter -t 41 -m ln -s /proc/self/fd/2 /l/merged/dev/stderr",
		"nsenter -t 41 -m ln -s pts/ptmx /l/merged/dev/ptmx",
		"nsenter -t 41 -m ln -s /proc/kcore /l/merged/dev/core",
		"nsenter -t 41 -m mkdir -p /l/merged/dev/pts",
		"nsenter -t 41 -m mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /l/merged/dev/pts",
		"nsenter -t 41 -m mkdir -p /l/merged/dev/shm",
		"nsenter -t 41 -m mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm /l/merged/dev/shm",
		"nsenter -t 41 -m mkdir -p /l/merged/dev/mqueue",
		"nsenter -t 41 -m -i mount -t mqueue -o nosuid,nodev,noexec mqueue /l/merged/dev/mqueue",
		`nsenter -t 41 -m sh -c "mkdir -p /l/merged/etc && touch /l/merged/etc/hostname"`,
		"nsenter -t 41 -m mount --bind /s/hostname /l/merged/etc/hostname",
		`nsenter -t 41 -m sh -c "mkdir -p /l/merged/etc && touch /l/merged/etc/hosts"`,
		"nsenter -t 41 -m mount --bind /s/hosts /l/merged/etc/hosts",
		`nsenter -t 41 -m sh -c "mkdir -p /l/merged/etc && touch /l/merged/etc/resolv.conf"`,
		"nsenter -t 41 -m mount --bind /s/resolv.conf /l/merged/etc/resolv.conf",
		`nsenter -t 41 -m sh -c "cd /l/merged && pivot_root . . && umount -l ."`,
		"nsenter -t 41 -u hostname box",
		"# the init reads its spec pipe until mydocker says it joined the cgroup",
		"# the process calls unshare(CLONE_NEWCGROUP) itself: no command can do it to a running process (to start one in a new cgroup namespace: unshare --cgroup CMD)",
		"# the init reads its spec pipe until mydocker writes the go signal",
		"nsenter -t 41 -a --wd=/ sleep 9", // (no image at /img: the name as given)
	}
	if got := p.Commands(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Every step says why, in the narration's voice.
	for _, op := range p.Ops {
		why := op.Why()
		if why == "" || strings.ToLower(why[:1]) != why[:1] || strings.HasSuffix(why, ".") {
			t.Errorf("%s: why %q", op.Command().Text(nil), why)
		}
	}
}

// With a terminal, the init makes it after pivot_root, before the hostname.
func TestInitOpsTty(t *testing.T) {
	s := &initSpec{HostPid: 41, Merged: "/m", Hostname: "h", Cmd: []string{"sh"}, Tty: true}
	ops := initOps(s)
	for i, op := range ops {
		if _, ok := op.(kernel.PivotRoot); ok {
			if _, ok := ops[i+1].(consoleOp); !ok {
				t.Errorf("after pivot_root: %T, want the console", ops[i+1])
			}
			return
		}
	}
	t.Errorf("no pivot_root")
}

// The namespaces' why and command follow the flags really used: with
// --net host no network namespace is made, and none is said to be.
func TestInitNamespacesHostNet(t *testing.T) {
	_, why, argv := initNamespaces(&Config{NetworkMode: NetworkHost})
	if strings.Contains(why, "network namespaces") || !strings.Contains(why, "sharing the host's network namespace") {
		t.Errorf("--net host: %q", why)
	}
	for _, a := range argv {
		if a == "--net" {
			t.Errorf("--net host: %q", argv)
		}
	}
	_, why, _ = initNamespaces(&Config{NetworkMode: NetworkNone})
	if !strings.Contains(why, "mount, IPC and network namespaces") {
		t.Errorf("--net none: %q", why)
	}
}
