//go:build cgo

// cinit is the container's init, in C, before any Go runtime starts.
//
// Why: every container start execs a sealed copy of mydocker in the new
// namespaces (see container/process.go). Started as Go, that copy paid for a
// whole second Go runtime (threads, heap, package initialisers: 6 to 10 ms of
// a 40 ms start) before it did its first mount. The work itself is a list of
// system calls that the parent can compute in full: so the parent computes it
// (container/initprog.go: the mounts, the masks, pivot_root, the hostname,
// the capability sets, the compiled seccomp program, the user, the working
// directory, argv and env), sends it as a flat program on the spec pipe, and
// this constructor, run by the C library before Go's runtime, does it and
// execs the command. It never returns to Go. runc's nsexec does its bootstrap
// the same way; crun does all of it in C.
//
// The handshake is the environment: _MYDOCKER_CINIT=1, set only by the parent
// for the sealed copy, whose last argument is "init". Without both the
// constructor returns at once (every other mydocker process pays one getenv;
// a container's own environment never reaches it: the init execs the command,
// or mydocker-init, with the environment of the program).
//
// Pipes (container/spec.go names the same numbers):
//   fd 3  read: the program (see cinit.go for its format), then the parent's
//         signal bytes: 'j' the init is in its cgroup, 'g' go, 'a' the
//         narration is out (the init may exec), 'c'/'e' the parent did / failed
//         a step it does itself (a volume's copy-up).
//   fd 4  write: reports, 16 bytes each {step, what, errno, detail}: a failed
//         step, a wait for the parent or the exec about to happen (when the
//         parent narrates), or a step for the parent to do. Closed by the exec: EOF without a failure
//         means the command runs.
// The parent narrates every step itself (the `// why` and `$` lines), from
// the reports: the narration says exactly what was done, up to a failure.
//
// Nothing here allocates after the program is read, and nothing prints: the
// container's stderr stays the command's.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "cinit.h"

#define ENV_CINIT "_MYDOCKER_CINIT"
#define FD_PROGRAM 3
#define FD_REPORT 4

extern char **environ;

// The program being run, and where the reader is in it.
static const unsigned char *pc, *end;
static uint32_t step; // the index of the op being done: the parent's op index

static void report(uint32_t what, int err, uint32_t detail) {
	uint32_t r[4] = {step, what, (uint32_t)err, detail};
	const char *p = (const char *)r;
	size_t left = sizeof r;
	while (left > 0) {
		ssize_t n = write(FD_REPORT, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; // the parent is gone: nobody to tell
		p += n;
		left -= (size_t)n;
	}
}

// fail reports the current step's failure and exits with code (125 for
// mydocker's own failures, 126/127 for a command that cannot run, as
// docker).
static void fail(int err, uint32_t detail, int code) __attribute__((noreturn));
static void fail(int err, uint32_t detail, int code) {
	report(CINIT_FAILED, err, detail);
	_exit(code);
}

static int readFull(int fd, void *buf, size_t len) {
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

// The reader of the program: a truncated program is the parent's bug, and
// fails the step it is in.
static uint32_t u32(void) {
	uint32_t v;
	if (end - pc < 4)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	memcpy(&v, pc, 4);
	pc += 4;
	return v;
}

static uint64_t u64(void) {
	uint64_t lo = u32();
	return lo | (uint64_t)u32() << 32;
}

// str returns a NUL-terminated string inside the program (the encoder
// writes the NUL).
static const char *str(void) {
	uint32_t n = u32();
	if ((size_t)(end - pc) < (size_t)n + 1 || pc[n] != 0)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	const char *s = (const char *)pc;
	pc += n + 1;
	return s;
}

static const unsigned char *bytes(uint32_t *len) {
	*len = u32();
	if ((size_t)(end - pc) < *len)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	const unsigned char *b = pc;
	pc += *len;
	return b;
}

// The signal bytes seen on fd 3 but not yet waited for (a joined signal
// that arrives while the init waits for the copy-up's answer).
static unsigned char seen[256];

// await reads fd 3 until one of want (a NUL-terminated set) arrives, and
// returns it; EOF (the parent is gone) fails the step.
static unsigned char await(const char *want) {
	for (const char *w = want; *w; w++) {
		if (seen[(unsigned char)*w]) {
			seen[(unsigned char)*w] = 0;
			return (unsigned char)*w;
		}
	}
	for (;;) {
		unsigned char b;
		if (readFull(FD_PROGRAM, &b, 1) < 0)
			fail(0, CINIT_PARENT_GONE, 125);
		if (strchr(want, b))
			return b;
		if (!strchr(CINIT_SIGNALS, b))
			fail(b, CINIT_UNEXPECTED, 125);
		seen[b] = 1;
	}
}

// mkdirAll is Go's os.MkdirAll(path, 0755), its failure reported as Go
// names it: the errno, and the length of the path that failed. path is
// writable (a copy).
static void mkdirAll(char *path, size_t len) {
	struct stat st;
	char c = path[len];
	path[len] = 0;
	if (stat(path, &st) == 0) {
		path[len] = c;
		if (!S_ISDIR(st.st_mode))
			fail(ENOTDIR, (uint32_t)len, 125);
		return;
	}
	size_t i = len;
	while (i > 0 && path[i - 1] == '/') // trailing slashes
		i--;
	size_t j = i;
	while (j > 0 && path[j - 1] != '/') // the last element
		j--;
	if (j > 1) {
		path[len] = c;
		mkdirAll(path, j - 1);
		path[len] = 0;
	}
	if (mkdir(path, 0755) < 0) {
		int err = errno;
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			path[len] = c;
			fail(err, (uint32_t)len, 125);
		}
	}
	path[len] = c;
}

static char pathbuf[PATH_MAX_CINIT];

static void mkdirAllOf(const char *path) {
	size_t n = strlen(path);
	if (n >= sizeof pathbuf)
		fail(ENAMETOOLONG, (uint32_t)n, 125);
	memcpy(pathbuf, path, n + 1);
	mkdirAll(pathbuf, n);
}

static void opMount(void) {
	const char *src = str(), *target = str(), *fstype = str();
	unsigned long flags = (unsigned long)u64();
	const char *data = str(), *dir = str();
	int wd = -1;
	if (*dir) {
		if ((wd = open(".", O_PATH | O_CLOEXEC)) < 0 || chdir(dir) < 0)
			fail(errno, 0, 125);
	}
	if (mount(src, target, fstype, flags, *data ? data : NULL) < 0)
		fail(errno, 0, 125);
	if (wd >= 0) {
		fchdir(wd);
		close(wd);
	}
}

static void opMountPoint(void) {
	const char *path = str();
	uint32_t file = u32();
	if (!file) {
		mkdirAllOf(path);
		return;
	}
	struct stat st;
	if (stat(path, &st) == 0)
		return;
	const char *slash = strrchr(path, '/');
	if (slash && slash > path) {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof pathbuf)
			fail(ENAMETOOLONG, (uint32_t)n, 125);
		memcpy(pathbuf, path, n);
		pathbuf[n] = 0;
		mkdirAll(pathbuf, n);
	}
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		fail(errno, CINIT_OPEN, 125);
	close(fd);
}

static void opMknod(void) {
	const char *path = str();
	uint32_t mode = u32(), major = u32(), minor = u32(), chownTo = u32(), uid = u32(), gid = u32();
	if (mknod(path, mode, makedev(major, minor)) < 0)
		fail(errno, CINIT_MKNOD, 125);
	if (chmod(path, mode & 07777) < 0) // mknod's mode is filtered by the umask
		fail(errno, CINIT_CHMOD, 125);
	if (chownTo && chown(path, uid, gid) < 0)
		fail(errno, CINIT_CHOWN, 125);
}

static void opSymlink(void) {
	const char *target = str(), *path = str();
	if (symlink(target, path) < 0)
		fail(errno, 0, 125);
}

static void opPivotRoot(void) {
	const char *dir = str();
	if (chdir(dir) < 0)
		fail(errno, CINIT_CHDIR, 125);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail(errno, CINIT_PIVOT, 125);
	if (umount2(".", MNT_DETACH) < 0)
		fail(errno, CINIT_UMOUNT, 125);
	if (chdir("/") < 0)
		fail(errno, CINIT_CHDIR_ROOT, 125);
}

static void opHostname(void) {
	const char *name = str();
	if (sethostname(name, strlen(name)) < 0)
		fail(errno, 0, 125);
}

static void opUnshare(void) {
	if (unshare((int)u32()) < 0)
		fail(errno, 0, 125);
}

// opConsole makes the command's terminal: a pty of the container's own
// devpts (so `tty` says /dev/pts/0 inside), its slave as stdin, stdout,
// stderr and controlling terminal of the init's own session, and its master
// sent to the parent, which copies between it and the user's terminal.
static void opConsole(void) {
	int sock = (int)u32();
	int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errno, CINIT_PTMX, 125);
	int unlock = 0, n;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail(errno, CINIT_UNLOCKPT, 125);
	if (ioctl(master, TIOCGPTN, &n) < 0)
		fail(errno, CINIT_PTN, 125);
	char name[32];
	snprintf(name, sizeof name, "/dev/pts/%d", n);
	int slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail(errno, CINIT_SLAVE | (uint32_t)(n & 0xff) << 24, 125);
	// The init was started in a session of its own; a process that is not
	// yet a session leader makes one first.
	if (getsid(0) != getpid() && setsid() < 0)
		fail(errno, CINIT_SETSID, 125);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(errno, CINIT_SCTTY, 125);
	for (int fd = 0; fd < 3; fd++)
		if (dup3(slave, fd, 0) < 0)
			fail(errno, CINIT_DUP, 125);
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &msg, 0) < 0)
		fail(errno, CINIT_SEND, 125);
	close(slave);
	close(master);
	close(sock);
}

static void opNoNewPrivs(void) {
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(errno, 0, 125);
}

static void opSeccomp(void) {
	uint32_t flags = u32(), len;
	const unsigned char *prog = bytes(&len);
	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	struct sock_fprog fprog = {.len = (unsigned short)(len / sizeof(struct sock_filter)),
				   .filter = (struct sock_filter *)(uintptr_t)prog};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog) < 0)
		fail(errno, 0, 125);
}

// isUser says whether the process already is uid, gid with exactly groups:
// then the switch is skipped, as the Go init did (kernel.SetPrivileges).
static int isUser(uint32_t uid, uint32_t gid, uint32_t ngroups, const gid_t *groups) {
	uid_t r, e, s;
	gid_t gr, ge, gs;
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return 0;
	if (getresgid(&gr, &ge, &gs) < 0 || gr != gid || ge != gid || gs != gid)
		return 0;
	gid_t have[CINIT_MAX_GROUPS];
	int n = getgroups(CINIT_MAX_GROUPS, have);
	if (n < 0 || (uint32_t)n != ngroups)
		return 0;
	for (int i = 0; i < n; i++) {
		uint32_t j = 0;
		while (j < ngroups && groups[j] != have[i])
			j++;
		if (j == ngroups)
			return 0;
	}
	return 1;
}

// opPrivileges cuts the bounding set, switches to the user (groups, gid,
// uid, keeping the permitted capabilities across the switch) and sets the
// final capabilities: runc's order (container/security.Finalize).
static void opPrivileges(void) {
	uint64_t bounding = u64();
	uint32_t lastCap = u32(), uid = u32(), gid = u32(), ngroups = u32();
	if (ngroups > CINIT_MAX_GROUPS)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	gid_t groups[CINIT_MAX_GROUPS];
	for (uint32_t i = 0; i < ngroups; i++)
		groups[i] = u32();
	uint64_t sets[3] = {u64(), u64(), u64()}; // permitted, effective, inheritable
	for (uint32_t n = 0; n <= lastCap && n < 64; n++) {
		if (bounding & (1ULL << n))
			continue;
		if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) < 0 && errno != EINVAL)
			fail(errno, CINIT_CAPBSET_DROP | n << 24, 125);
	}
	if (!isUser(uid, gid, ngroups, groups)) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			fail(errno, CINIT_KEEPCAPS, 125);
		if (setgroups(ngroups, groups) < 0)
			fail(errno, CINIT_SETGROUPS, 125);
		if (syscall(SYS_setresgid, gid, gid, gid) < 0)
			fail(errno, CINIT_SETRESGID, 125);
		if (syscall(SYS_setresuid, uid, uid, uid) < 0)
			fail(errno, CINIT_SETRESUID, 125);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			fail(errno, CINIT_KEEPCAPS_OFF, 125);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(errno, CINIT_AMBIENT, 125);
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].permitted = (uint32_t)(sets[0] >> (32 * i));
		data[i].effective = (uint32_t)(sets[1] >> (32 * i));
		data[i].inheritable = (uint32_t)(sets[2] >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail(errno, CINIT_CAPSET, 125);
}

// opParent asks the parent to do this step (a volume's copy-up, which reads
// and writes whole trees: Go code) and waits for its answer. A failure is
// the parent's to tell.
static void opParent(void) {
	report(CINIT_PARENT_DO, 0, 0);
	if (await("ce") == 'e')
		_exit(125);
}

// executable is Go's exec check: stat follows links; a directory or a file
// without an x bit cannot be run.
static int executable(const char *p, int *err) {
	struct stat st;
	if (stat(p, &st) < 0) {
		*err = errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0) {
		*err = EACCES;
		return 0;
	}
	return 1;
}

static char found[PATH_MAX_CINIT];

// lookPath finds cmd on path (the container's PATH) inside the new root,
// as the Go init did: with a slash, cmd itself; else the first executable
// PATH entry (an empty one is the working directory).
static const char *lookPath(const char *cmd, const char *path) {
	int err = 0;
	if (strchr(cmd, '/')) {
		if (!executable(cmd, &err))
			fail(err, err == EACCES ? CINIT_NOT_EXECUTABLE : CINIT_NO_SUCH_FILE, err == EACCES ? 126 : 127);
		return cmd;
	}
	for (const char *p = path;;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		while (n > 1 && p[n - 1] == '/')
			n--;
		if (n == 0 || (n == 1 && p[0] == '.')) {
			if (strlen(cmd) < sizeof found) {
				strcpy(found, cmd);
				if (executable(found, &err))
					return found;
			}
		} else if (n + 1 + strlen(cmd) < sizeof found) {
			memcpy(found, p, n);
			found[n] = '/';
			strcpy(found + n + 1, cmd);
			if (executable(found, &err))
				return found;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	fail(ENOENT, CINIT_NOT_IN_PATH, 127);
}

// opExec replaces the init with the command, as pid 1: the last step.
static void opExec(uint32_t flags) {
	const char *wd = str(), *cmd = str(), *path = str(), *self = str();
	uint32_t argc = u32();
	if (argc == 0 || argc > CINIT_MAX_ARGS)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	const char *argv[CINIT_MAX_ARGS + 1];
	for (uint32_t i = 0; i < argc; i++)
		argv[i] = str();
	argv[argc] = NULL;
	uint32_t envc = u32();
	if (envc > CINIT_MAX_ARGS)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	const char *env[CINIT_MAX_ARGS + 1];
	for (uint32_t i = 0; i < envc; i++)
		env[i] = str();
	env[envc] = NULL;

	size_t n = strlen(wd);
	if (n >= sizeof pathbuf)
		fail(ENAMETOOLONG, (uint32_t)n, 125);
	memcpy(pathbuf, wd, n + 1);
	mkdirAll(pathbuf, n); // a failure's detail: the length of the path that failed
	if (chdir(wd) < 0)
		fail(errno, CINIT_CHDIR_WD, 125);
	const char *prog = lookPath(cmd, path);
	if (*self)
		prog = self; // --init: mydocker-init, the sealed binary itself
	// The command must inherit none of the init's pipes.
	fcntl(FD_PROGRAM, F_SETFD, FD_CLOEXEC);
	fcntl(FD_REPORT, F_SETFD, FD_CLOEXEC);
	if (flags & CINIT_FLAG_NARRATED) {
		// The parent narrates up to here, then says so: the story is on its
		// stderr before the command's first output.
		report(CINIT_EXEC_NEXT, 0, 0);
		await("a");
	}
	execve(prog, (char *const *)argv, (char *const *)env);
	int err = errno;
	fail(err, CINIT_EXECVE, err == ENOENT ? 127 : 126);
}

static void run(const unsigned char *prog, size_t len, uint32_t flags) {
	pc = prog;
	end = prog + len;
	for (step = 0; pc < end; step++) {
		switch (u32()) {
		case CINIT_OP_NOP:
			break;
		case CINIT_OP_MOUNT:
			opMount();
			break;
		case CINIT_OP_MOUNT_POINT:
			opMountPoint();
			break;
		case CINIT_OP_MKNOD:
			opMknod();
			break;
		case CINIT_OP_SYMLINK:
			opSymlink();
			break;
		case CINIT_OP_PIVOT_ROOT:
			opPivotRoot();
			break;
		case CINIT_OP_HOSTNAME:
			opHostname();
			break;
		case CINIT_OP_AWAIT: {
			char want[2] = {(char)u32(), 0};
			// While it waits, the parent can narrate the steps so far,
			// off the start's critical path.
			if (flags & CINIT_FLAG_NARRATED)
				report(CINIT_REACHED, 0, 0);
			await(want);
			break;
		}
		case CINIT_OP_UNSHARE:
			opUnshare();
			break;
		case CINIT_OP_CONSOLE:
			opConsole();
			break;
		case CINIT_OP_NO_NEW_PRIVS:
			opNoNewPrivs();
			break;
		case CINIT_OP_SECCOMP:
			opSeccomp();
			break;
		case CINIT_OP_PRIVILEGES:
			opPrivileges();
			break;
		case CINIT_OP_PARENT:
			opParent();
			break;
		case CINIT_OP_EXEC:
			opExec(flags);
			break;
		default:
			fail(EINVAL, CINIT_BAD_PROGRAM, 125);
		}
	}
	// A program without an exec: nothing to run.
	fail(EINVAL, CINIT_BAD_PROGRAM, 125);
}

// The C library calls constructors with main's arguments.
__attribute__((constructor)) static void cinit(int argc, char **argv) {
	const char *on = getenv(ENV_CINIT);
	if (!on || strcmp(on, "1") != 0 || argc < 2 || strcmp(argv[argc - 1], "init") != 0)
		return;
	uint32_t hdr[3]; // magic, flags, length
	if (readFull(FD_PROGRAM, hdr, sizeof hdr) < 0)
		_exit(125); // the parent went away before it sent the program
	if (hdr[0] != CINIT_MAGIC || hdr[2] > CINIT_MAX_PROGRAM)
		fail(EINVAL, CINIT_BAD_PROGRAM, 125);
	unsigned char *prog = malloc(hdr[2]);
	if (!prog)
		fail(ENOMEM, CINIT_BAD_PROGRAM, 125);
	if (readFull(FD_PROGRAM, prog, hdr[2]) < 0)
		_exit(125);
	run(prog, hdr[2], hdr[1]);
}
