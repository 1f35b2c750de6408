package container

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

func TestParseTmpfs(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		flags uintptr
		data  string
	}{
		{"/scratch", unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV, "size=65536k"},
		{"/run:exec,size=1m,mode=1777", unix.MS_NOSUID | unix.MS_NODEV, "size=1m,mode=1777"},
		{"/ro:ro", unix.MS_RDONLY | unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV, "size=65536k"},
	} {
		m, err := parseTmpfs(tc.spec)
		if err != nil || m.Flags != tc.flags || m.Data != tc.data {
			t.Errorf("%s: %+v, %v; want flags %#x data %q", tc.spec, m, err, tc.flags, tc.data)
		}
	}
	for _, bad := range []string{"rel", "/", "/x:bogus"} {
		if _, err := parseTmpfs(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// The process confinement comes as ops in security.Finalize's order:
// seccomp before the capabilities are cut (it needs CAP_SYS_ADMIN), or,
// with no_new_privs, last.
func TestFinalizeOpsOrder(t *testing.T) {
	kinds := func(c *security.Config) []string {
		var out []string
		for _, op := range kernel.Finalize(1, c, finalizeWhys(c)) {
			out = append(out, reflect.TypeOf(op).Name())
			if op.Why() == "" || strings.ToLower(op.Why()[:1]) != op.Why()[:1] {
				t.Errorf("%T: why %q", op, op.Why())
			}
		}
		return out
	}
	c := &security.Config{Seccomp: &security.Seccomp{Profile: "default"}}
	if got := kinds(c); !reflect.DeepEqual(got, []string{"LoadSeccomp", "SetPrivileges"}) {
		t.Errorf("default: %v", got)
	}
	c.NoNewPrivileges = true
	if got := kinds(c); !reflect.DeepEqual(got, []string{"NoNewPrivs", "SetPrivileges", "LoadSeccomp"}) {
		t.Errorf("no-new-privileges: %v", got)
	}
}

// A planned run confines the container: paths masked and frozen after
// pivot_root, cgroups mounted read-only after the cgroup namespace, the
// process confined right before the exec; --privileged keeps none of the
// masks and mounts /sys read-write.
func TestRunPlannedConfined(t *testing.T) {
	plan := func(o RunOptions) []string {
		r, p := planRuntime(t)
		o.Image, o.Cmd, o.Network, o.Detach = "busybox", []string{"true"}, NetworkNone, true
		if _, _, err := r.Run(o, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		return lines(r, p)
	}
	has := func(got []string, sub string) int {
		for i, l := range got {
			if strings.Contains(l, sub) {
				return i
			}
		}
		return -1
	}
	got := plan(RunOptions{ReadOnly: true, Tmpfs: []string{"/scratch"}})
	pivot, sys, seccomp, setpriv, exec := has(got, "pivot_root"), has(got, "--rbind /proc/sys /proc/sys"), has(got, "# seccomp: load"), has(got, "setpriv"), has(got, "-a --wd=/ true")
	cgroupns, cgroupfs := has(got, "unshare(CLONE_NEWCGROUP)"), has(got, "tmpfs /sys/fs/cgroup")
	rootRO, tmpfs := has(got, "mount -o remount,ro,bind /"), has(got, "size=65536k tmpfs /lib/")
	if !(pivot < sys && sys < rootRO && rootRO < cgroupns && cgroupns < cgroupfs && cgroupfs < seccomp && seccomp < setpriv && setpriv < exec) || tmpfs < 0 || tmpfs > pivot || pivot < 0 {
		t.Errorf("order: pivot %d, /proc/sys %d, root ro %d, cgroupns %d, cgroupfs %d, seccomp %d, setpriv %d, exec %d, tmpfs %d:\n%s",
			pivot, sys, rootRO, cgroupns, cgroupfs, seccomp, setpriv, exec, tmpfs, strings.Join(got, "\n"))
	}
	got = plan(RunOptions{Privileged: true})
	if has(got, "--rbind /proc/sys") >= 0 || has(got, "/dev/null /proc/") >= 0 || has(got, "-o ro,nosuid,nodev,noexec sysfs") >= 0 {
		t.Errorf("--privileged is masked or has a read-only /sys:\n%s", strings.Join(got, "\n"))
	}
}
