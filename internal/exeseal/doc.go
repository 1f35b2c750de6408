// Package exeseal keeps the mydocker binary out of a container's reach: what
// runs inside a container before the user's command (the init, exec's
// helper) runs from a file that no process can write, never from the binary
// on the host's disk.
//
// # The attack (CVE-2019-5736)
//
// container/process.go starts the init as /proc/self/exe, and `mydocker exec`
// starts its helper (exec-internal, whose cgo constructor nsenter/nsexec.c
// joins the container) the same way. Either process is visible inside the
// container's pid namespace until it execs the user's command, and its
// /proc/PID/exe is then the host's mydocker. A process in the container opens
// it (O_PATH, or read-only: only ETXTBSY refuses a write while the binary
// runs), or replaces a binary the runtime is about to exec with
// "#!/proc/self/exe"; once the runtime process has exec'd away, it reopens
// /proc/self/fd/N for writing and overwrites mydocker, which the host's root
// runs next.
//
// # How runc does it, and why it moved (opencontainers/runc, libcontainer/exeseal)
//
//   - runc 1.0 (commit 16612d74d, 2019): a read-only bind mount of the binary,
//     else a copy into a sealed memfd (libcontainer/nsenter/cloned_binary.c).
//   - runc 1.2 development (b999376fb, 2023): bind mounts removed. A container with
//     CAP_SYS_ADMIN can clear a bind mount's MS_RDONLY, and the temporary
//     mount namespace each start needed contended on namespace_sem under
//     heavy churn. Every start copied the binary into a memfd
//     (memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING), sendfile, F_ADD_SEALS
//     F_SEAL_SEAL|SHRINK|GROW|WRITE; moved to Go in 0e9a3358f, sendfile in
//     90c8d36af); runc-dmz (dac417174) tried to shrink the copy with a tiny
//     C exec stub and was dropped again (871057d86, runc 1.3).
//   - runc 1.2.0 (515f09f7b, 2024): CloneSelfExe first tries a detached
//     overlayfs made with fsopen/fsmount whose lower layers are the binary's
//     directory and an empty one, no upper layer, and opens the binary in it
//     O_PATH. Nothing can unwrap it to the underlying file, and a lower-only
//     overlay is read-only at the superblock, so clearing a mount flag does
//     not help. Measured there (hyperfine, `runc run`): no protection
//     13.7 ms, overlay 13.9 ms, memfd copy 22.6 ms (+65%). The memfd copy
//     stays as the fallback (cloned_binary_linux.go: memfd, then O_TMPFILE,
//     then an unlinked file; F_SEAL_FUTURE_WRITE avoided since c43ea7d62).
//
// # What this package does
//
// The same order as runc 1.2, chosen by measurement (below). Open seals
// /proc/self/exe:
//
//  1. OpenOverlay: a detached, read-only, lower-only overlayfs of the
//     binary's directory over an empty detached tmpfs, both layers given by
//     descriptor (FSCONFIG_SET_FD "lowerdir+"; Linux 6.15 for detached
//     mounts as layers), so unlike runc it needs no directory on the host.
//     The binary is opened in it O_PATH. Writing through /proc/PID/exe says
//     EROFS, while the process runs and after; the mount is attached to no
//     namespace, so it can neither be cloned (open_tree) nor have its flags
//     changed (mount_setattr) from inside, and even a read-write mount of
//     such an overlay says EROFS (TestOverlayNoRemount).
//  2. OpenOverlayDir (when Open's emptyDir is set): the same with layers
//     named by path, runc 1.2's form, for kernels 5.2 to 6.14; emptyDir must
//     not contain, or be inside, the binary's directory (ELOOP).
//  3. OpenMemfd: a copy in a memfd, mode 0555, sealed with Seals (and
//     F_SEAL_EXEC where the kernel has it), kept open read-only so that
//     exec does not meet a writer. Any kernel since 3.17, no privilege
//     needed. /proc/PID/exe is our copy: open for writing says ETXTBSY while
//     it runs; after, it opens (it is not the host's file) but write,
//     pwrite and ftruncate say EPERM (TestHostileWrite).
//
// Every Exe's descriptor is close-on-exec and numbered 64 or more (minFd):
// the child execs /proc/self/fd/N before close-on-exec closes it, and
// exec.Cmd's fd shuffle (dup2 onto 0..n-1, moves above the highest listed fd)
// cannot overwrite it first. Close it after cmd.Start returns: the child's
// exec holds its own reference.
//
// # Measured (this host: 2-CPU AMD EPYC VM, Linux 6.18, load ~5 from other
// work, so medians; mydocker built by `make build`, 8,192,880 bytes)
//
//	make build OUT=/var/tmp/exeseal-bench/mydocker   # not under /tmp: overlay-dir's empty dir is there
//	cd internal/exeseal
//	EXESEAL_BENCH_BIN=/var/tmp/exeseal-bench/mydocker go test -run XXX -bench . -count 8 .
//
//	Open+Close of the 8 MB mydocker   overlay 0.29 ms  overlay-dir 0.26 ms  memfd 11.1 ms (9.0-20.5)
//	one start of a `true` (the 4.7 MB test binary, exits in TestMain), open+exec+wait+close:
//	  unsealed /proc/self/exe 3.13 ms
//	  overlay                 4.24 ms (open 0.33 ms, close 0.13 ms; exec-only 3.88 ms)
//	  overlay-dir             4.79 ms (open 0.34 ms, close 0.20 ms; exec-only 3.43 ms)
//	  memfd                  10.97 ms (open 4.24 ms, close 0.77 ms; exec-only 4.04 ms)
//
// A bare loop of the syscalls alone (no Go wrappers) gives the overlay
// 180 µs median per open+close, the overlay by path 142 µs, a read-only
// open_tree clone 32 µs (rejected: unwrappable, as runc found), and the
// 8 MB memfd copy 9.7 ms. Exec through either sealed file is within the
// noise of exec of the binary itself (the exec-only rows).
//
// Decision: the overlay, about 0.3-0.5 ms per container start or exec (open
// before cmd.Start, close after, off the init's path), within the issue's
// 1 ms budget for all of containment; the memfd copy costs about 11 ms per
// start for the 8 MB binary (more than a whole unsealed start) and 8 MB of
// memory until the init has exec'd, so it is only the fallback where no
// overlay can be made. A copy cached per binary version would need something
// to hold it between starts (runc's contrib/cmd/memfd-bind is such a
// daemon); mydocker has no daemon, and a cached copy on disk is writable
// again unless it sits on a read-only mount, which is the overlay.
//
// # Where mydocker uses it
//
// container/process.go, startInit: Open(<--root>/exeseal) before the
// exec.Cmd of the init, Path: exe.Path() (Args[0] stays "mydocker"; the
// narrated unshare command keeps naming the binary, and the step's why says
// it runs from a sealed, read-only copy), closed after cmd.Start. The child
// resolves /proc/self/fd/N after clone, in its new namespaces: the host's
// procfs still shows it (TestInitNamespaces; container's
// TestInitStartsSealed checks a real init).
//
// container/exec.go, Exec: the same, inside the start step. nsexec.c needs
// no change for it: its constructor runs in the process started from the
// sealed file and only forks; the child that returns to Go inside the
// container (and execs the user's command from exec-internal) inherits that
// mm and its exe, the sealed file. The constructor's parent, which stays
// behind to forward signals, is in the host's pid namespace, out of the
// container's sight, and sealed too (test/terminal_test.go's
// TestRuntimeBinarySealed opens its /proc/PID/exe for writing: EROFS).
// container/shim.go needs nothing: the shim runs in the host's namespaces
// and no container process can see it.
//
// If mydocker itself is ever started from a sealed memfd (IsSealed on
// /proc/self/exe), /proc/self/exe is already safe, as runc's
// IsSelfExeCloned checks; Open does not look for that case.
package exeseal
