package security

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// LoadSeccomp installs s on the calling thread with seccomp(2)
// SECCOMP_SET_MODE_FILTER; an unconfined s does nothing. The kernel accepts
// it only with no_new_privs set or CAP_SYS_ADMIN in the thread's effective
// set, which is why Finalize orders it as runc does.
func LoadSeccomp(s *Seccomp) error {
	if s == nil || s.Unconfined {
		return nil
	}
	insns, err := decode(s.Program)
	if err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(s.Flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(insns)
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	return nil
}

// SetNoNewPrivs sets the calling thread's no_new_privs bit
// (prctl(PR_SET_NO_NEW_PRIVS)); execve then never grants privileges
// (setuid bits, file capabilities).
func SetNoNewPrivs() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	return nil
}
