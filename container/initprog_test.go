package container

import (
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/cinit"
	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Every step an init can have has its C: a spec with all of them (volumes
// with a copy-up, --tmpfs, --device, -u, --init, a terminal, the cgroup
// view, the masks, no_new_privs and a seccomp program) makes a program of
// one op per step, which the C init numbers as the narration does.
func TestInitProgramHasEveryStep(t *testing.T) {
	nop := binary.NativeEndian.AppendUint64(nil, 0x7fff000000000006) // ret ALLOW
	sec := &security.Config{
		Caps:            security.Caps{Bounding: []string{"CAP_CHOWN", "CAP_KILL"}, Permitted: []string{}, Effective: []string{}},
		LastCap:         40,
		NoNewPrivileges: true,
		Seccomp:         &security.Seccomp{Profile: "default", Program: nop},
		MaskedPaths:     []string{"/proc/kcore"},
		ReadonlyPaths:   []string{"/proc/sys"},
		Devices:         []*security.Device{{Rule: security.DeviceRule{Type: 'c', Major: 10, Minor: 229}, Path: "/dev/fuse", FileMode: 0o666}},
		User:            security.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 27}},
	}
	s := &initSpec{
		HostPid: 41, Lower: "/img", Upper: "/l/upper", Work: "/l/work", Merged: "/l/merged",
		Volumes: []volume{
			{Mount: Mount{Source: "/h/data", Destination: "/data", ReadOnly: true}},
			{Mount: Mount{Type: MountVolume, Name: "v1", Source: "/v/v1/_data", Destination: "/var/lib/x"}, CopyUp: true},
		},
		Tmpfs:    []tmpfsMount{{Path: "/run", Flags: unix.MS_NOSUID, Data: "mode=755"}},
		EtcFiles: etcFiles("/s"), Hostname: "box", Cmd: []string{"sleep", "9"}, Env: []string{defaultPath},
		WorkDir: "/work", CgroupNS: true, Tty: true, Init: true, ReadOnly: true, Security: sec,
		Cgroups: []hierarchy{{Dir: "cpu,cpuacct", FSType: "cgroup", Options: "cpu,cpuacct"}},
	}
	ops := initOps(s)
	p, err := initProgram(s, ops)
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps() != len(ops) {
		t.Errorf("%d steps in the program, %d narrated", p.Steps(), len(ops))
	}
	kinds := map[string]bool{}
	for _, op := range ops {
		kinds[strings.TrimPrefix(strings.TrimPrefix(typeName(op), "kernel."), "container.")] = true
	}
	for _, k := range []string{"copyUpOp", "consoleOp", "awaitSignal", "execOp", "DeviceNode", "NoNewPrivs", "LoadSeccomp", "SetPrivileges", "UnshareCgroupns", "Symlink", "Mknod"} {
		if !kinds[k] {
			t.Errorf("no %s among the steps: the test no longer covers it", k)
		}
	}
}

func typeName(op kernel.Op) string {
	switch op.(type) {
	case copyUpOp:
		return "copyUpOp"
	case consoleOp:
		return "consoleOp"
	case awaitSignal:
		return "awaitSignal"
	case execOp:
		return "execOp"
	case kernel.DeviceNode:
		return "DeviceNode"
	case kernel.NoNewPrivs:
		return "NoNewPrivs"
	case kernel.LoadSeccomp:
		return "LoadSeccomp"
	case kernel.SetPrivileges:
		return "SetPrivileges"
	case kernel.UnshareCgroupns:
		return "UnshareCgroupns"
	case kernel.Symlink:
		return "Symlink"
	case kernel.Mknod:
		return "Mknod"
	}
	return ""
}

// A step the C init cannot do is refused when the program is made, not
// found out in a container.
func TestInitProgramRefusesAStepWithoutC(t *testing.T) {
	_, err := initProgram(&initSpec{}, []kernel.Op{kernel.Unmount{Target: "/x"}})
	if err == nil || !strings.Contains(err.Error(), "no way to do") {
		t.Errorf("got %v", err)
	}
}

// The init's reports of a command that cannot run read as docker's, with
// its exit codes; other failures name the step's command and what failed.
func TestStepError(t *testing.T) {
	s := &initSpec{HostPid: 41, Merged: "/m", Cmd: []string{"nosuch"}, WorkDir: "/w/x"}
	ex := newExecOp(s)
	cases := []struct {
		op   kernel.Op
		r    cinit.Report
		msg  string
		code int
	}{
		{ex, cinit.Report{What: cinit.Failed, Errno: int(unix.ENOENT), Detail: cinit.DetailNotInPath}, `exec: "nosuch": executable file not found in $PATH`, 127},
		{ex, cinit.Report{What: cinit.Failed, Errno: int(unix.EACCES), Detail: cinit.DetailNotExecutable}, `exec: "nosuch": permission denied`, 126},
		{ex, cinit.Report{What: cinit.Failed, Errno: int(unix.ENOEXEC), Detail: cinit.DetailExecve}, `exec nosuch: exec format error`, 126},
		{ex, cinit.Report{What: cinit.Failed, Errno: int(unix.ENOTDIR), Detail: 2}, `nsenter -t 41 -a --wd=/w/x nosuch: create working directory /w/x: mkdir /w: not a directory`, 125},
		{kernel.MountPoint{Path: "/m/etc/hostname/x"}, cinit.Report{What: cinit.Failed, Errno: int(unix.ENOTDIR), Detail: 15},
			`mkdir -p /m/etc/hostname/x: mkdir /m/etc/hostname: not a directory`, 125},
		{kernel.Mount{Source: "proc", Target: "/m/proc", FSType: "proc"}, cinit.Report{What: cinit.Failed, Errno: int(unix.EPERM)},
			`mount -t proc proc /m/proc: mount procproc on /m/proc: operation not permitted`, 125},
		{awaitSignal{want: goByte}, cinit.Report{What: cinit.Failed, Detail: cinit.DetailParentGone},
			`the init reads its spec pipe until mydocker writes the go signal: the parent went away before the go signal`, 125},
	}
	for _, c := range cases {
		err := stepError(s, c.op, c.r)
		if err.Error() != c.msg || ExitCodeOf(err) != c.code {
			t.Errorf("%T %+v:\n got %q (%d)\nwant %q (%d)", c.op, c.r, err, ExitCodeOf(err), c.msg, c.code)
		}
	}
}
