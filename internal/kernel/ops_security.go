package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/security"
)

// The process side of a container's confinement: no_new_privs, the seccomp
// filter, the bounding set, the user and the capabilities. Each is done by
// the process itself, on its locked OS thread, right before it execs the
// command (they are per thread and survive execve); Apply calls the
// security package, which does them as runc does.
//
// A shell cannot do any of it to a running process. setpriv(1) does the
// same to the command it starts, so the narration shows the setpriv line,
// and a script keeps it as a comment: the command it would wrap is the
// exec that follows, inside the container, where setpriv may not exist.

// NoNewPrivs sets the thread's no_new_privs bit (prctl PR_SET_NO_NEW_PRIVS).
type NoNewPrivs struct {
	At     // where it was made, for source=
	Pid    int
	Reason string
}

func (n NoNewPrivs) Why() string { return n.Reason }
func (n NoNewPrivs) Command() Command {
	return setprivCommand([]string{"setpriv", "--no-new-privs"})
}
func (NoNewPrivs) Apply(*Exec) error { return security.SetNoNewPrivs() }

// LoadSeccomp installs the compiled seccomp filter on the thread. No shell
// command loads a filter: the step is one honest sentence.
type LoadSeccomp struct {
	At      // where it was made, for source=
	Pid     int
	Seccomp *security.Seccomp
	Reason  string
}

func (l LoadSeccomp) Why() string { return l.Reason }
func (l LoadSeccomp) Command() Command {
	return Command{In: Where{Pid: l.Pid}, Comment: l.Seccomp.Narration()}
}
func (l LoadSeccomp) Apply(*Exec) error { return security.LoadSeccomp(l.Seccomp) }

// SetPrivileges cuts the bounding set, switches to the user (groups, gid,
// uid, keeping the permitted capabilities across the switch) and sets the
// final capabilities: steps 3 to 5 of security.Finalize, in its order.
type SetPrivileges struct {
	At     // where it was made, for source=
	Pid    int
	Config *security.Config
	Reason string
}

func (s SetPrivileges) Why() string { return s.Reason }
func (s SetPrivileges) Command() Command {
	c := *s.Config
	c.NoNewPrivileges = false // its own step (NoNewPrivs)
	return setprivCommand(c.Setpriv())
}
func (s SetPrivileges) Apply(*Exec) error {
	c := s.Config
	if err := security.DropBounding(c.Caps.Bounding, c.LastCap); err != nil {
		return err
	}
	if !isUser(c.User) {
		if err := security.SetUser(c.User); err != nil {
			return err
		}
	}
	return security.SetCaps(c.Caps)
}

// isUser reports whether the process already is u: its uids, gids and
// groups. Switching then changes nothing, and costs (the C library makes
// every thread switch, one signal each): the usual case, root staying
// root with the groups it has.
func isUser(u security.User) bool {
	r, e, s := unix.Getresuid()
	if r != int(u.UID) || e != int(u.UID) || s != int(u.UID) {
		return false
	}
	r, e, s = unix.Getresgid()
	if r != int(u.GID) || e != int(u.GID) || s != int(u.GID) {
		return false
	}
	groups, err := unix.Getgroups()
	if err != nil || len(groups) != len(u.AdditionalGids) {
		return false
	}
	want := map[int]bool{}
	for _, g := range u.AdditionalGids {
		want[int(g)] = true
	}
	for _, g := range groups {
		if !want[g] {
			return false
		}
	}
	return true
}

// setprivCommand is a setpriv line: narrated as a command, kept as a
// comment in a script (see above).
func setprivCommand(argv []string) Command {
	return Command{Argv: argv, Script: "# the command exec'd below runs as if under: " + strings.Join(argv, " ")}
}

// Finalize is security.Finalize as ops, in its order exactly (runc's):
// no_new_privs first when asked for; then, without it, seccomp while the
// thread still has CAP_SYS_ADMIN to load it; the bounding set, the user
// and the capabilities; with no_new_privs, seccomp last, as close to
// execve as can be. whys are the steps' reasons, by name: "nnp",
// "seccomp", "privileges".
func Finalize(pid int, c *security.Config, whys map[string]string) []Op {
	var ops []Op
	at := Here() // the caller of Finalize
	seccomp := LoadSeccomp{At: at, Pid: pid, Seccomp: c.Seccomp, Reason: whys["seccomp"]}
	if c.NoNewPrivileges {
		ops = append(ops, NoNewPrivs{At: at, Pid: pid, Reason: whys["nnp"]})
	} else {
		ops = append(ops, seccomp)
	}
	ops = append(ops, SetPrivileges{At: at, Pid: pid, Config: c, Reason: whys["privileges"]})
	if c.NoNewPrivileges {
		ops = append(ops, seccomp)
	}
	return ops
}

// DeviceNode makes a character or block device node (`mknod -m MODE PATH
// c|b MAJOR MINOR`, then `chown` when its owner is not root) in the mount
// namespace In names, as a process inside it does: a --device, or a host
// device of a privileged container.
type DeviceNode struct {
	At           // where it was made, for source=
	In           Where
	Path         string
	Block        bool
	Major, Minor uint32
	Mode         os.FileMode // permission bits
	UID, GID     uint32
	Reason       string
}

func (d DeviceNode) kind() (string, uint32) {
	if d.Block {
		return "b", unix.S_IFBLK
	}
	return "c", unix.S_IFCHR
}
func (d DeviceNode) Why() string { return d.Reason }
func (d DeviceNode) Command() Command {
	t, _ := d.kind()
	mk := []string{"mknod", "-m", fmt.Sprintf("%o", d.Mode.Perm()), d.Path, t,
		strconv.FormatUint(uint64(d.Major), 10), strconv.FormatUint(uint64(d.Minor), 10)}
	if d.UID == 0 && d.GID == 0 {
		return Command{In: d.In, Argv: mk}
	}
	return Command{In: d.In, Shell: append(mk, "&&", "chown", fmt.Sprintf("%d:%d", d.UID, d.GID), d.Path)}
}
func (DeviceNode) Apply(*Exec) error { return ErrInInit }
func (d DeviceNode) Effects() []Effect {
	return []Effect{Makes(Object{Kind: "node", In: d.In.Pid, Name: d.Path})}
}
