package container

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/cinit"
	"github.com/mydocker/mydocker/container/reaper"
	"github.com/mydocker/mydocker/container/security"
	"github.com/mydocker/mydocker/internal/kernel"
)

// The init's steps (initOps) are done by the init in C, before any Go
// runtime starts (package cinit): initProgram turns each into the system
// calls it stands for, in one flat program the init reads from its spec
// pipe. The parent narrates each step as the init reports reaching it
// (initProcess.follow), and, for a failed step, stepError says what
// failed in the words the step's Go code would have used.

// initProgram is the program of ops, one step per op, in order.
func initProgram(s *initSpec, ops []kernel.Op) (*cinit.Program, error) {
	p := &cinit.Program{}
	for _, op := range ops {
		if err := encodeStep(p, s, op); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func encodeStep(p *cinit.Program, s *initSpec, op kernel.Op) error {
	switch o := op.(type) {
	case kernel.MakePrivate:
		p.Mount("", o.Target, "", makePrivateFlags(o), "", "")
	case kernel.Mount:
		p.Mount(o.Source, o.Target, o.FSType, o.Flags, o.Data, o.Dir)
	case kernel.MountPoint:
		p.MountPoint(o.Path, o.File)
	case kernel.Mknod:
		mode := uint32(o.Mode.Perm())
		if o.Mode == 0 {
			mode = 0o666
		}
		p.Mknod(o.Path, unix.S_IFCHR|mode, o.Major, o.Minor, false, 0, 0)
	case kernel.DeviceNode:
		ifmt := uint32(unix.S_IFCHR)
		if o.Block {
			ifmt = unix.S_IFBLK
		}
		p.Mknod(o.Path, ifmt|uint32(o.Mode.Perm()), o.Major, o.Minor, o.UID != 0 || o.GID != 0, o.UID, o.GID)
	case kernel.Symlink:
		p.Symlink(o.Target, o.Path)
	case kernel.PivotRoot:
		p.PivotRoot(o.Dir)
	case kernel.Sethostname:
		p.Hostname(o.Name)
	case kernel.UnshareCgroupns:
		p.Unshare(unix.CLONE_NEWCGROUP)
	case awaitSignal:
		p.Await(o.want)
	case consoleOp:
		p.Console(fdConsole)
	case copyUpOp:
		p.Parent()
	case kernel.NoNewPrivs:
		p.NoNewPrivs()
	case kernel.LoadSeccomp:
		if o.Seccomp == nil || o.Seccomp.Unconfined {
			p.Nop()
			break
		}
		if len(o.Seccomp.Program) == 0 {
			return errors.New("the container's seccomp program is missing")
		}
		p.Seccomp(uint32(o.Seccomp.Flags), o.Seccomp.Program)
	case kernel.SetPrivileges:
		return encodePrivileges(p, o.Config)
	case execOp:
		encodeExec(p, s)
	default:
		return fmt.Errorf("the container's init has no way to do %T", op) // a step added to initOps without its C
	}
	return nil
}

func makePrivateFlags(m kernel.MakePrivate) uintptr {
	if m.Recursive {
		return unix.MS_PRIVATE | unix.MS_REC
	}
	return unix.MS_PRIVATE
}

func encodePrivileges(p *cinit.Program, c *security.Config) error {
	var sets [4]uint64
	for i, names := range [][]string{c.Caps.Bounding, c.Caps.Permitted, c.Caps.Effective, c.Caps.Inheritable} {
		m, err := security.CapBits(names)
		if err != nil {
			return err
		}
		sets[i] = m
	}
	p.Privileges(sets[0], c.LastCap, c.User.UID, c.User.GID, c.User.AdditionalGids, sets[1], sets[2], sets[3])
	return nil
}

// encodeExec: the command found on the container's PATH inside its root,
// as execOp narrates it; with --init, the sealed binary (the init's own
// /proc/self/exe) as mydocker-init, the command its argument.
func encodeExec(p *cinit.Program, s *initSpec) {
	path := strings.TrimPrefix(defaultPath, "PATH=")
	for _, e := range s.Env {
		if strings.HasPrefix(e, "PATH=") {
			path = e[len("PATH="):]
		}
	}
	wd := s.WorkDir
	if wd == "" {
		wd = "/"
	}
	self, argv := "", s.Cmd
	if s.Init {
		self, argv = "/proc/self/exe", append([]string{reaper.Name, "--"}, s.Cmd...)
	}
	p.Exec(wd, s.Cmd[0], path, self, argv, s.Env)
}

// stepError is the error of op, the step the init reported failed, as
// its Go code would have said it: the step's command, then what failed.
// The exec's own failures (the command not found, not executable) are
// docker's messages and exit codes, alone.
func stepError(s *initSpec, op kernel.Op, r cinit.Report) error {
	errno := unix.Errno(r.Errno)
	d := r.Detail
	mkdirErr := func(path string) error {
		if n, ok := d.PathLen(); ok && n <= len(path) {
			return &os.PathError{Op: "mkdir", Path: path[:n], Err: errno}
		}
		return &os.PathError{Op: "mkdir", Path: path, Err: errno}
	}
	var err error
	switch o := op.(type) {
	case kernel.MakePrivate:
		err = fmt.Errorf("make %s private: %w", o.Target, errno)
	case kernel.Mount:
		err = fmt.Errorf("mount %s on %s: %w", o.FSType+o.Source, o.Target, errno)
	case kernel.MountPoint:
		if d.Kind() == cinit.DetailOpen {
			err = &os.PathError{Op: "open", Path: o.Path, Err: errno}
		} else {
			err = mkdirErr(o.Path)
		}
	case kernel.Mknod, kernel.DeviceNode:
		path := ""
		if m, ok := o.(kernel.Mknod); ok {
			path = m.Path
		} else {
			path = o.(kernel.DeviceNode).Path
		}
		err = errno
		if d.Kind() == cinit.DetailMknod {
			err = fmt.Errorf("mknod %s: %w", path, errno)
		}
	case kernel.Symlink:
		err = fmt.Errorf("link %s: %w", o.Path, &os.LinkError{Op: "symlink", Old: o.Target, New: o.Path, Err: errno})
	case kernel.PivotRoot:
		switch d.Kind() {
		case cinit.DetailChdir:
			err = fmt.Errorf("chdir %s: %w", o.Dir, errno)
		case cinit.DetailPivot:
			err = fmt.Errorf("pivot_root %s: %w", o.Dir, errno)
		case cinit.DetailUmount:
			err = fmt.Errorf("unmount the old root: %w", errno)
		default:
			err = errno
		}
	case kernel.Sethostname:
		err = fmt.Errorf("set hostname: %w", errno)
	case kernel.UnshareCgroupns:
		err = fmt.Errorf("unshare the cgroup namespace: %w", errno)
	case awaitSignal:
		err = awaitError(o.want, d, byte(r.Errno))
	case consoleOp:
		err = fmt.Errorf("set up the container's terminal: %w", consoleError(d, errno))
	case kernel.NoNewPrivs:
		err = fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", errno)
	case kernel.LoadSeccomp:
		err = fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	case kernel.SetPrivileges:
		err = privilegesError(o.Config, d, errno)
	case execOp:
		err = execError(s, d, errno, mkdirErr)
	default:
		err = errno
	}
	if d.Kind() == cinit.DetailBadProgram {
		err = fmt.Errorf("the init could not read its program: %w", errno)
	}
	err = kernel.Failed(op, err)
	ie := &initError{Msg: err.Error(), Code: 125}
	errors.As(err, &ie) // the exec's own, docker's words alone
	return ie
}

func awaitError(want byte, d cinit.Detail, got byte) error {
	if d.Kind() == cinit.DetailUnexpected {
		return fmt.Errorf("unexpected %q instead of the %s signal", got, map[byte]string{joinedByte: "joined", goByte: "go"}[want])
	}
	if want == joinedByte {
		return errors.New("the parent went away before the init was in its cgroup")
	}
	return errors.New("the parent went away before the go signal")
}

func consoleError(d cinit.Detail, errno unix.Errno) error {
	switch d.Kind() {
	case cinit.DetailPtmx:
		return &os.PathError{Op: "open", Path: "/dev/pts/ptmx", Err: errno}
	case cinit.DetailUnlockpt:
		return fmt.Errorf("unlock pty: %w", errno)
	case cinit.DetailPtn:
		return fmt.Errorf("pty number: %w", errno)
	case cinit.DetailSlave:
		return &os.PathError{Op: "open", Path: fmt.Sprintf("/dev/pts/%d", d.Number()), Err: errno}
	case cinit.DetailSetsid:
		return fmt.Errorf("setsid: %w", errno)
	case cinit.DetailSctty:
		return fmt.Errorf("set controlling terminal: %w", errno)
	}
	return errno
}

func privilegesError(c *security.Config, d cinit.Detail, errno unix.Errno) error {
	switch d.Kind() {
	case cinit.DetailCapbsetDrop:
		return fmt.Errorf("prctl(PR_CAPBSET_DROP, %s): %w", security.CapName(d.Number()), errno)
	case cinit.DetailKeepcaps:
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", errno)
	case cinit.DetailSetgroups:
		gids := make([]int, len(c.User.AdditionalGids))
		for i, g := range c.User.AdditionalGids {
			gids[i] = int(g)
		}
		return fmt.Errorf("setgroups(%v): %w", gids, errno)
	case cinit.DetailSetresgid:
		return fmt.Errorf("setresgid(%d): %w", c.User.GID, errno)
	case cinit.DetailSetresuid:
		return fmt.Errorf("setresuid(%d): %w", c.User.UID, errno)
	case cinit.DetailKeepcapsOff:
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 0): %w", errno)
	case cinit.DetailAmbient:
		return fmt.Errorf("prctl(PR_CAP_AMBIENT_CLEAR_ALL): %w", errno)
	}
	return fmt.Errorf("capset: %w", errno)
}

// execError: the working directory, then docker's messages and exit codes
// for a command that cannot run (lookPath's, and the exec's own).
func execError(s *initSpec, d cinit.Detail, errno unix.Errno, mkdirErr func(string) error) error {
	wd := s.WorkDir
	if wd == "" {
		wd = "/"
	}
	cmd := s.Cmd[0]
	switch d.Kind() {
	case cinit.DetailChdirWd:
		return fmt.Errorf("change to working directory %s: %w", wd, &os.PathError{Op: "chdir", Path: wd, Err: errno})
	case cinit.DetailNotInPath:
		return &initError{Code: 127, Msg: fmt.Sprintf("exec: %q: executable file not found in $PATH", cmd)}
	case cinit.DetailNoSuchFile:
		return &initError{Code: 127, Msg: fmt.Sprintf("exec: %q: no such file or directory", cmd)}
	case cinit.DetailNotExecutable:
		return &initError{Code: 126, Msg: fmt.Sprintf("exec: %q: permission denied", cmd)}
	case cinit.DetailExecve:
		code := 126
		if errno == unix.ENOENT {
			code = 127
		}
		return &initError{Msg: fmt.Sprintf("exec %s: %v", cmd, errno), Code: code}
	}
	return fmt.Errorf("create working directory %s: %w", wd, mkdirErr(wd))
}
