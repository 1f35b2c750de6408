package main

// Probes of what a container may not do (issue 11). Each is harmless even
// where it is allowed: nothing global is written (a file is opened for
// append, never written; accounting is only ever asked to stay off, and
// the tests ask only where CAP_SYS_PACCT is missing), and what a probe
// makes (a mount, a node, a file, a namespace) is its own and goes with it.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// value is a probe's answer that is not an errno: printed as it is.
type value string

func (v value) Error() string { return string(v) }

func init() {
	// status FIELD: a field of /proc/self/status (CapEff, CapBnd,
	// NoNewPrivs, Seccomp).
	probes["status"] = func(args []string) error {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, args[0]+":"); ok {
				return value(strings.TrimSpace(v))
			}
		}
		return value("no " + args[0])
	}
	// id: the real and effective uid and gid.
	probes["id"] = func([]string) error {
		return value(fmt.Sprintf("uid=%d euid=%d gid=%d", unix.Getuid(), unix.Geteuid(), unix.Getgid()))
	}
	// mount-tmpfs DIR: mount a tmpfs on DIR (then unmount it).
	probes["mount-tmpfs"] = func(args []string) error {
		if err := unix.Mount("tmpfs", args[0], "tmpfs", 0, "size=16k"); err != nil {
			return err
		}
		return unix.Unmount(args[0], 0)
	}
	// unshare-user, unshare-net: a new user or network namespace, for the
	// probe alone. (A Go program has threads: where nothing refuses
	// CLONE_NEWUSER first, the kernel answers EINVAL.)
	probes["unshare-user"] = func([]string) error { return unix.Unshare(unix.CLONE_NEWUSER) }
	probes["unshare-net"] = func([]string) error { return unix.Unshare(unix.CLONE_NEWNET) }
	// clone3: with no arguments (EFAULT/EINVAL from the kernel; docker's
	// profile answers ENOSYS first, so libc falls back to clone).
	probes["clone3"] = func([]string) error {
		_, _, errno := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
		return errnoOrNil(errno)
	}
	// acct: acct(NULL), which turns accounting off; only ever run where
	// CAP_SYS_PACCT is missing, so it is refused.
	probes["acct"] = func([]string) error {
		_, _, errno := unix.Syscall(unix.SYS_ACCT, 0, 0, 0)
		return errnoOrNil(errno)
	}
	// open-append PATH: open for appending, never write.
	probes["open-append"] = func(args []string) error {
		fd, err := unix.Open(args[0], unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	}
	// read PATH: "empty", or how many bytes it holds.
	probes["read"] = func(args []string) error {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return value("empty")
		}
		return value(strconv.Itoa(len(b)) + " bytes")
	}
	// open PATH: open for reading (a device node), nothing read.
	probes["open"] = func(args []string) error {
		fd, err := unix.Open(args[0], unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	}
	// mknod-open PATH MAJOR MINOR: make a character node, open it for
	// reading (nothing read), remove it.
	probes["mknod-open"] = func(args []string) error {
		maj, _ := strconv.Atoi(args[1])
		min, _ := strconv.Atoi(args[2])
		if err := unix.Mknod(args[0], unix.S_IFCHR|0o600, int(unix.Mkdev(uint32(maj), uint32(min)))); err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
		defer os.Remove(args[0])
		fd, err := unix.Open(args[0], unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	}
	// bpf-map: create a one-entry array map (closed at once).
	probes["bpf-map"] = func([]string) error {
		attr := struct{ mapType, keySize, valueSize, maxEntries uint32 }{2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1}
		fd, _, errno := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if errno != 0 {
			return errno
		}
		return unix.Close(int(fd))
	}
	// mkdir DIR: make a directory (then remove it).
	probes["mkdir"] = func(args []string) error {
		if err := unix.Mkdir(args[0], 0o755); err != nil {
			return err
		}
		return unix.Rmdir(args[0])
	}
	// create FILE: create a file (then remove it).
	probes["create"] = func(args []string) error {
		fd, err := unix.Open(args[0], unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		unix.Close(fd)
		return unix.Unlink(args[0])
	}
	// ls DIR: the names in DIR, space-separated.
	probes["ls"] = func(args []string) error {
		ents, err := os.ReadDir(args[0])
		if err != nil {
			return err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return value(strings.Join(names, " "))
	}
}

func errnoOrNil(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
