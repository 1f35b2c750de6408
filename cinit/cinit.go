// Package cinit is the container's init, in C (cinit.c), and the format of
// the program it runs (this file). The parent (container/initprog.go)
// computes every system call of the init from the container's spec and
// sends them as one flat program on the spec pipe; the sealed copy of
// mydocker it execs (see internal/exeseal) runs them in a C constructor,
// before the Go runtime starts, and execs the command: a container start
// no longer pays for a second Go runtime. See the comment at the top of
// cinit.c for the pipes and the reports.
//
// Importing this package links cinit.c (with cgo; without, only the format
// is here and the init cannot run: mydocker is always built with cgo).
package cinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Env is the variable the parent sets for the sealed copy: with it, the
// constructor runs the program on fd 3 instead of returning to Go.
const Env = "_MYDOCKER_CINIT=1"

// The format's numbers, as cinit.h (TestConstantsMatch compares them).
const (
	magic      = 0x4943444d // "MDCI"
	maxProgram = 16 << 20
	// MaxArgs bounds argv and the environment, MaxGroups the user's groups.
	MaxArgs   = 65536
	MaxGroups = 65536

	// FlagNarrated: the parent narrates, and the init waits for its 'a'
	// (the narration is out) before it execs.
	FlagNarrated = 1
)

// Op codes.
const (
	opNop = iota
	opMount
	opMountPoint
	opMknod
	opSymlink
	opPivotRoot
	opHostname
	opAwait
	opUnshare
	opConsole
	opNoNewPrivs
	opSeccomp
	opPrivileges
	opParent
	opExec
)

// What a report says.
const (
	Failed   = 1 // the step failed (Errno, Detail say how); the init exits
	ExecNext = 2 // every step before the exec is done: narrate, then send 'a'
	ParentDo = 3 // the parent does this step, then sends 'c' (done) or 'e' (failed)
	Reached  = 4 // (when the parent narrates) the init waits for the parent at this step
)

// The bytes the parent sends after the program.
const (
	Joined     = 'j' // the init is in its cgroup
	Go         = 'g' // its cgroup and network are ready: go on to the exec
	Narrated   = 'a' // the narration is out: exec
	ParentDone = 'c'
	ParentFail = 'e'
)

// Failure details: which part of a step failed. Below DetailBase, a mkdir
// -p's failure: the length of the path that failed.
const (
	DetailBase Detail = 0x10000 + iota
	DetailParentGone
	DetailUnexpected
	DetailOpen
	DetailMknod
	DetailChmod
	DetailChown
	DetailChdir
	DetailPivot
	DetailUmount
	DetailChdirRoot
	DetailPtmx
	DetailUnlockpt
	DetailPtn
	DetailSetsid
	DetailSctty
	DetailDup
	DetailSend
	DetailKeepcaps
	DetailSetgroups
	DetailSetresgid
	DetailSetresuid
	DetailKeepcapsOff
	DetailAmbient
	DetailCapset
	DetailChdirWd
	DetailNotExecutable
	DetailNoSuchFile
	DetailNotInPath
	DetailExecve
	DetailCapbsetDrop // + the capability's number
	DetailSlave       // + the pty's number (its low 8 bits)
)

// DetailBadProgram: the program could not be read (the parent's bug).
const DetailBadProgram = DetailBase

// Detail says which part of a step failed.
type Detail uint32

// Kind is the detail without its number (DetailCapbsetDrop, DetailSlave).
func (d Detail) Kind() Detail { return d & 0xffffff }

// Number is the detail's number.
func (d Detail) Number() int { return int(d >> 24) }

// PathLen is, for a mkdir -p's failure, the length of the path that failed.
func (d Detail) PathLen() (int, bool) { return int(d), d < DetailBase }

// Program is an init's program being built: one op per step of the
// parent's list, in its order (a report's step is an index into it).
type Program struct {
	buf   []byte
	steps int
	err   error
}

func (p *Program) u32(v uint32) { p.buf = binary.NativeEndian.AppendUint32(p.buf, v) }
func (p *Program) u64(v uint64) { p.u32(uint32(v)); p.u32(uint32(v >> 32)) }
func (p *Program) str(s string) {
	p.u32(uint32(len(s)))
	p.buf = append(append(p.buf, s...), 0)
}
func (p *Program) strs(ss []string) {
	if len(ss) > MaxArgs && p.err == nil {
		p.err = fmt.Errorf("%d arguments or variables: at most %d", len(ss), MaxArgs)
	}
	p.u32(uint32(len(ss)))
	for _, s := range ss {
		p.str(s)
	}
}
func (p *Program) op(code uint32) { p.u32(code); p.steps++ }

// Steps is the number of steps so far.
func (p *Program) Steps() int { return p.steps }

// Nop is a step with nothing to do (a seccomp step with no filter).
func (p *Program) Nop() { p.op(opNop) }

// Mount is mount(2) (data "": none), from directory dir if set.
func (p *Program) Mount(source, target, fstype string, flags uintptr, data, dir string) {
	p.op(opMount)
	p.str(source)
	p.str(target)
	p.str(fstype)
	p.u64(uint64(flags))
	p.str(data)
	p.str(dir)
}

// MountPoint is `mkdir -p path`, or with file, its parent and an empty file.
func (p *Program) MountPoint(path string, file bool) {
	p.op(opMountPoint)
	p.str(path)
	p.u32(b2u(file))
}

// Mknod makes a device node with mode (type and permission bits, set
// whatever the umask), owned by uid:gid when chown.
func (p *Program) Mknod(path string, mode, major, minor uint32, chown bool, uid, gid uint32) {
	p.op(opMknod)
	p.str(path)
	for _, v := range []uint32{mode, major, minor, b2u(chown), uid, gid} {
		p.u32(v)
	}
}

// Symlink is `ln -s target path`.
func (p *Program) Symlink(target, path string) {
	p.op(opSymlink)
	p.str(target)
	p.str(path)
}

// PivotRoot is chdir dir, pivot_root(".", "."), umount -l ., chdir /.
func (p *Program) PivotRoot(dir string) { p.op(opPivotRoot); p.str(dir) }

// Hostname is sethostname(2).
func (p *Program) Hostname(name string) { p.op(opHostname); p.str(name) }

// Await waits for the parent's byte b on the spec pipe.
func (p *Program) Await(b byte) { p.op(opAwait); p.u32(uint32(b)) }

// Unshare is unshare(2) with flags.
func (p *Program) Unshare(flags uintptr) { p.op(opUnshare); p.u32(uint32(flags)) }

// Console makes the command's terminal and sends its master on fd sock.
func (p *Program) Console(sock int) { p.op(opConsole); p.u32(uint32(sock)) }

// NoNewPrivs is prctl(PR_SET_NO_NEW_PRIVS).
func (p *Program) NoNewPrivs() { p.op(opNoNewPrivs) }

// Seccomp loads the compiled filter prog (struct sock_filter, native).
func (p *Program) Seccomp(flags uint32, prog []byte) {
	p.op(opSeccomp)
	p.u32(flags)
	p.u32(uint32(len(prog)))
	p.buf = append(p.buf, prog...)
}

// Privileges cuts the bounding set to bounding (capabilities up to
// lastCap), switches to uid, gid and groups unless the init already is
// them, and sets permitted, effective and inheritable (ambient cleared).
func (p *Program) Privileges(bounding uint64, lastCap int, uid, gid uint32, groups []uint32, permitted, effective, inheritable uint64) {
	if len(groups) > MaxGroups && p.err == nil {
		p.err = fmt.Errorf("%d groups: at most %d", len(groups), MaxGroups)
	}
	p.op(opPrivileges)
	p.u64(bounding)
	p.u32(uint32(lastCap))
	p.u32(uid)
	p.u32(gid)
	p.u32(uint32(len(groups)))
	for _, g := range groups {
		p.u32(g)
	}
	p.u64(permitted)
	p.u64(effective)
	p.u64(inheritable)
}

// Parent is a step the parent does itself, when the init reports it.
func (p *Program) Parent() { p.op(opParent) }

// Exec is the last step: mkdir -p and chdir wd, find cmd on path (the
// container's PATH, in its root) as Go's exec does, and execve it with
// argv and env; or, if self is set, execve self (--init: the sealed
// binary) with argv.
func (p *Program) Exec(wd, cmd, path, self string, argv, env []string) {
	p.op(opExec)
	p.str(wd)
	p.str(cmd)
	p.str(path)
	p.str(self)
	p.strs(argv)
	p.strs(env)
}

// WriteTo sends the program, with flags, as the init reads it.
func (p *Program) WriteTo(w io.Writer, flags uint32) error {
	if p.err != nil {
		return p.err
	}
	if len(p.buf) > maxProgram {
		return fmt.Errorf("the init's program is %d bytes: at most %d", len(p.buf), maxProgram)
	}
	msg := make([]byte, 0, 12+len(p.buf))
	msg = binary.NativeEndian.AppendUint32(msg, magic)
	msg = binary.NativeEndian.AppendUint32(msg, flags)
	msg = binary.NativeEndian.AppendUint32(msg, uint32(len(p.buf)))
	_, err := w.Write(append(msg, p.buf...))
	return err
}

// Report is what the init says of a step.
type Report struct {
	Step   int
	What   uint32 // Failed, ExecNext, ParentDo
	Errno  int    // with Failed (or the unexpected byte, for DetailUnexpected)
	Detail Detail
}

// ReadReport reads the next report; io.EOF once the init has exec'd or
// exited.
func ReadReport(r io.Reader) (Report, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Report{}, fmt.Errorf("the container's init sent half a report: %w", err)
		}
		return Report{}, err
	}
	step := binary.NativeEndian.Uint32(b[0:])
	if step > math.MaxInt32 {
		return Report{}, fmt.Errorf("the container's init reported step %d", step)
	}
	return Report{Step: int(step), What: binary.NativeEndian.Uint32(b[4:]),
		Errno: int(int32(binary.NativeEndian.Uint32(b[8:]))), Detail: Detail(binary.NativeEndian.Uint32(b[12:]))}, nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
