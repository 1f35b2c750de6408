package kernel

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestContainerOpCommands(t *testing.T) {
	for _, c := range []struct {
		op   Op
		want string
	}{
		{MakePrivate{In: Mountns(41), Target: "/", Recursive: true}, "nsenter -t 41 -m mount --make-rprivate /"},
		{Mount{In: Mountns(41), Source: "proc", Target: "/m/proc", FSType: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}, "nsenter -t 41 -m -p mount -t proc -o nosuid,nodev,noexec proc /m/proc"},
		{Mount{In: Mountns(41), Source: "/v", Target: "/m/v", Flags: unix.MS_BIND | unix.MS_REC}, "nsenter -t 41 -m mount --rbind /v /m/v"},
		{Mount{In: Mountns(41), Target: "/m/v", Flags: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY}, "nsenter -t 41 -m mount -o remount,ro,bind /m/v"},
		{PivotRoot{Pid: 41, Dir: "/m"}, `nsenter -t 41 -m sh -c "cd /m && pivot_root . . && umount -l ."`},
		{Mknod{In: Mountns(41), Path: "/m/dev/null", Major: 1, Minor: 3}, "nsenter -t 41 -m mknod -m 666 /m/dev/null c 1 3"},
		{Symlink{In: Mountns(41), Target: "/proc/self/fd", Path: "/m/dev/fd"}, "nsenter -t 41 -m ln -s /proc/self/fd /m/dev/fd"},
		{Sethostname{Pid: 41, Name: "box"}, "nsenter -t 41 -u hostname box"},
		{Signal{Pid: 41, Sig: syscall.SIGTERM}, "kill -TERM 41"},
		{MountPoint{In: Mountns(41), Path: "/m/etc/hosts", File: true}, `nsenter -t 41 -m sh -c "mkdir -p /m/etc && touch /m/etc/hosts"`},
		{CgroupCopy{From: "/cg/a", To: "/cg/b"}, "cat /cg/a > /cg/b"},
		{CgroupWrite{File: "/cg/x/pids.max", Value: "20"}, "echo 20 > /cg/x/pids.max"},
	} {
		if got := c.op.Command().Text(nil); got != c.want {
			t.Errorf("%T: %s, want %s", c.op, got, c.want)
		}
	}
}

// A mount in the namespace of a pid that does not exist (a plan's
// stand-in) is not there; a plan then refuses to mount twice on one point.
func TestPlanMounts(t *testing.T) {
	p := NewPlan(NewReal(nil), nil)
	m := Mount{In: Mountns(4194304), Source: "proc", Target: "/m/proc", FSType: "proc"}
	if err := p.Do(m); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(m); err == nil {
		t.Errorf("mounting twice on /m/proc was planned")
	}
	if err := p.Do(Unmount{In: Mountns(4194304), Target: "/m/proc"}); err != nil {
		t.Fatal(err)
	}
	if len(p.Made()) != 0 {
		t.Errorf("made: %v", p.Made())
	}
}

func TestMountArgs(t *testing.T) {
	cases := []struct {
		src, target, fstype string
		flags               uintptr
		data, want          string
	}{
		{"", "/", "", 1<<14 | 1<<18, "", "mount --make-rprivate /"},
		{"overlay", "/m", "overlay", 0, "lowerdir=/l", "mount -t overlay -o lowerdir=/l overlay /m"},
		{"/h", "/c", "", 4096 | 16384, "", "mount --rbind /h /c"},
		{"", "/c", "", 4096 | 32 | 1, "", "mount -o remount,ro,bind /c"},
		{"proc", "/p", "proc", 2 | 4 | 8, "", "mount -t proc -o nosuid,nodev,noexec proc /p"},
	}
	for _, c := range cases {
		got := strings.Join(MountArgs(c.src, c.target, c.fstype, c.flags, c.data), " ")
		if got != c.want {
			t.Errorf("MountArgs(%q,%q) = %q, want %q", c.src, c.target, got, c.want)
		}
	}
}

// A file of several lines is one printf line (the log keeps one step per
// line); an empty one is truncated, not given echo's newline.
func TestWriteFileCommand(t *testing.T) {
	for _, c := range []struct{ content, want string }{
		{"127.0.0.1\tlocalhost\n::1\tlocalhost\n", `printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > /s/hosts`},
		{"50% of\na\\b\n", `printf '50%% of\na\\b\n' > /s/hosts`},
		{"", "truncate -s 0 /s/hosts"},
		{"box\n", "echo box > /s/hosts"},
	} {
		if got := (WriteFile{Path: "/s/hosts", Content: c.content}).Command().Text(nil); got != c.want {
			t.Errorf("%q: %s, want %s", c.content, got, c.want)
		}
	}
	// And it writes back what printf gives.
	dir := t.TempDir()
	content := "a\tb\n50% c\\d\n"
	cmd := (WriteFile{Path: dir + "/f", Content: content}).Command().Text(nil)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", cmd, err, out)
	}
	if b, _ := os.ReadFile(dir + "/f"); string(b) != content {
		t.Errorf("%s wrote %q, want %q", cmd, b, content)
	}
}
