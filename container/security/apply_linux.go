package security

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Finalize applies c's process confinement to the calling thread, which
// must be locked (runtime.LockOSThread) and exec right after: capabilities,
// no_new_privs and seccomp are per thread and survive execve. Mounts,
// devices and cgroups are not its business.
//
// The order is runc's (libcontainer/standard_init_linux.go and
// finalizeNamespace in init_linux.go):
//  1. no_new_privs, when asked for (prctl PR_SET_NO_NEW_PRIVS);
//  2. without no_new_privs, seccomp now: loading a filter then needs
//     CAP_SYS_ADMIN, which the next steps drop;
//  3. the bounding set is cut (PR_CAPBSET_DROP, needs CAP_SETPCAP);
//  4. PR_SET_KEEPCAPS, then groups, gid and uid (setgroups, setresgid,
//     setresuid), then keepcaps cleared;
//  5. ambient cleared, permitted/effective/inheritable set (capset);
//  6. with no_new_privs, seccomp last, as close to execve as possible so
//     that the fewest system calls must be allowed after it.
func Finalize(c *Config) error {
	if c.NoNewPrivileges {
		if err := SetNoNewPrivs(); err != nil {
			return err
		}
	} else if err := LoadSeccomp(c.Seccomp); err != nil {
		return err
	}
	if err := DropBounding(c.Caps.Bounding, c.LastCap); err != nil {
		return err
	}
	if err := SetUser(c.User); err != nil {
		return err
	}
	if err := SetCaps(c.Caps); err != nil {
		return err
	}
	if c.NoNewPrivileges {
		return LoadSeccomp(c.Seccomp)
	}
	return nil
}

// SetUser switches groups, gid and uid, keeping the permitted capabilities
// across the switch (SetCaps sets the final ones after it). On the calling
// thread only, as capset is: it is locked and execs right after, and execve
// keeps its credentials alone (the other threads, the Go runtime's, die
// with it). Go's syscall.Setresuid would signal every thread and wait for
// each to switch too, three times: a millisecond or more on every start.
func SetUser(u User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	gids := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		gids[i] = int(g)
	}
	if err := unix.Setgroups(gids); err != nil { // x/sys: this thread's
		return fmt.Errorf("setgroups(%v): %w", gids, err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setresgid(%d): %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setresuid(%d): %w", u.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 0): %w", err)
	}
	return nil
}
