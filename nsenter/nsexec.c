// nsexec joins a running container's namespaces and cgroup before the Go
// runtime starts, for `mydocker exec`.
//
// Why C, and why here: setns(2) on a mount namespace is refused to a process
// with more than one thread (EINVAL), and the Go runtime starts several
// threads before main. A constructor runs in the process's only thread,
// before the runtime exists. This is what runc's nsexec does.
//
// The handshake is the environment, set by `mydocker exec` (container/exec.go
// holds the same names):
//
//   _MYDOCKER_NSENTER_PID       the container's pid 1, as the host sees it
//   _MYDOCKER_NSENTER_PIDSTART  its start time (field 22 of /proc/<pid>/stat),
//                               so a pid reused by another process is refused
//   _MYDOCKER_NSENTER_CGROUPS   cgroup.procs files to join, one per line
//                               (empty: the container has no cgroup of its own)
//   _MYDOCKER_NSENTER_TTY       "1": stdin is a pty slave, make it the
//                               controlling terminal of the command's session
//                               (which it has in any case: setsid in 5)
//
// Without _MYDOCKER_NSENTER_PID the constructor returns at once: every other
// verb (`mydocker ps`) pays one getenv and nothing else, and prints nothing.
//
// With it, in this order:
//   1. open /proc/<pid> and check the start time; then open every
//      /proc/<pid>/ns/* and /proc/<pid>/root through that directory, before
//      joining anything (after setns(mnt) the host's /proc is out of reach);
//   2. join the container's cgroups while the host's /sys/fs/cgroup is
//      visible, and before entering its cgroup namespace (cgroup v2 refuses to
//      move a process from outside a cgroup namespace's root);
//   3. setns into ipc, uts, net, pid, cgroup, and mnt last;
//   4. make the container's root ours: fchdir to the root fd opened in 1 and
//      chroot(".") (setns(mnt) leaves us at the namespace's root mount, which
//      is not where the container pivoted to);
//   5. fork: joining a pid namespace only places the children made after it.
//      The child makes a session of its own (setsid) and returns, and the Go
//      runtime starts in it, inside everything;
//      it execs the command (cmd/internal.go, exec-internal). This process
//      stays behind only to forward signals and pass the exit status on.
// Any failure prints one line on stderr and exits 125: the command never
// runs in the host's namespaces.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENV_PID "_MYDOCKER_NSENTER_PID"
#define ENV_PIDSTART "_MYDOCKER_NSENTER_PIDSTART"
#define ENV_CGROUPS "_MYDOCKER_NSENTER_CGROUPS"
#define ENV_TTY "_MYDOCKER_NSENTER_TTY"

// The exit code of a failure of mydocker itself, as docker's.
#define EXIT_FAILURE_MYDOCKER 125

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...) {
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dprintf(2, "mydocker: exec: %s\n", msg);
	_exit(EXIT_FAILURE_MYDOCKER);
}

// The namespaces joined, in the order joined (the names of /proc/<pid>/ns/):
// mnt last, right before the container's root is taken, so that a failure
// anywhere before leaves us in the host's file system with a clear error.
static const struct {
	const char *name;
	int type;
} namespaces[] = {
	{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
	{"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
#define NNS (sizeof namespaces / sizeof namespaces[0])

// checkStart refuses a pid that is no longer the container's process.
static void checkStart(int procfd, long pid, const char *want) {
	char buf[4096];
	int fd = openat(procfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("container process %ld is gone: %s", pid, strerror(errno));
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		die("read /proc/%ld/stat: %s", pid, n < 0 ? strerror(errno) : "empty");
	buf[n] = '\0';
	// The command name (field 2) may hold spaces and ')': start after the
	// last ')'. Then state is field 3; starttime is field 22.
	char *p = strrchr(buf, ')');
	if (p == NULL)
		die("cannot parse /proc/%ld/stat", pid);
	p++;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		char *end = strchr(p, ' ');
		if (end == NULL && field < 22)
			die("cannot parse /proc/%ld/stat", pid);
		if (field == 22) {
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (len != strlen(want) || strncmp(p, want, len) != 0)
				die("container process %ld has exited (its pid now belongs to another process)", pid);
			return;
		}
		p = end;
	}
}

// joinCgroups writes our pid into each cgroup.procs file of the list.
static void joinCgroups(const char *list) {
	char pid[32];
	int pidlen = snprintf(pid, sizeof pid, "%d", getpid());
	const char *p = list;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0) {
			char path[PATH_MAX];
			if (len >= sizeof path)
				die("cgroup path too long");
			memcpy(path, p, len);
			path[len] = '\0';
			int fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				die("join cgroup: open %s: %s", path, strerror(errno));
			if (write(fd, pid, pidlen) != pidlen)
				die("join cgroup: write %s to %s: %s", pid, path, strerror(errno));
			close(fd);
		}
		p += len;
		if (*p == '\n')
			p++;
	}
}

static volatile pid_t child;

// forward passes a signal sent to us (by `mydocker exec`) to the command.
static void forward(int sig) {
	if (child > 0)
		kill(child, sig);
}

__attribute__((constructor)) static void nsexec(void) {
	const char *pidstr = getenv(ENV_PID);
	if (pidstr == NULL)
		return;

	char *end;
	errno = 0;
	long pid = strtol(pidstr, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT_MAX)
		die("invalid %s=%s", ENV_PID, pidstr);

	// 1. Everything we need from the host's /proc, opened through one
	// directory fd: if the pid dies and is reused meanwhile, openat fails
	// (ESRCH) instead of opening another process's namespaces.
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld", pid);
	int procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		die("container process %ld: open %s: %s", pid, path, strerror(errno));
	const char *start = getenv(ENV_PIDSTART);
	if (start != NULL && *start != '\0')
		checkStart(procfd, pid, start);
	int fds[NNS];
	for (size_t i = 0; i < NNS; i++) {
		snprintf(path, sizeof path, "ns/%s", namespaces[i].name);
		fds[i] = openat(procfd, path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			die("open /proc/%ld/ns/%s: %s", pid, namespaces[i].name, strerror(errno));
	}
	int rootfd = openat(procfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die("open /proc/%ld/root: %s", pid, strerror(errno));
	close(procfd);

	// 2. The cgroup, while the host's cgroupfs is visible. Children inherit it.
	const char *cgroups = getenv(ENV_CGROUPS);
	if (cgroups != NULL)
		joinCgroups(cgroups);

	// 3. The namespaces.
	for (size_t i = 0; i < NNS; i++) {
		if (setns(fds[i], namespaces[i].type) < 0)
			die("setns %s namespace of container process %ld: %s", namespaces[i].name, pid, strerror(errno));
		close(fds[i]);
	}

	// 4. The container's root, and "/" in it (the command's working
	// directory is set in Go, which reports a missing one better).
	if (fchdir(rootfd) < 0)
		die("fchdir to the container's root: %s", strerror(errno));
	if (chroot(".") < 0)
		die("chroot to the container's root: %s", strerror(errno));
	if (chdir("/") < 0)
		die("chdir /: %s", strerror(errno));
	close(rootfd);

	// 5. Fork into the pid namespace. Signals stay blocked across the fork
	// until each side has its handlers: none may be lost or hit the child
	// while it still has ours.
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t c = fork();
	if (c < 0)
		die("fork into the container's pid namespace: %s", strerror(errno));
	if (c == 0) {
		// The child: default dispositions, the caller's mask, and back to
		// the Go runtime's start-up.
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		for (int s = 1; s < NSIG; s++)
			sigaction(s, &dfl, NULL);
		// A session of its own, always: without a tty it has no
		// controlling terminal at all (its stdio are pipes that mydocker
		// copies), so nothing it runs can reach the caller's terminal
		// (TIOCSTI types into the terminal of whoever holds it).
		if (setsid() < 0)
			die("setsid: %s", strerror(errno));
		const char *tty = getenv(ENV_TTY);
		if (tty != NULL && strcmp(tty, "1") == 0) {
			// With a tty, the pty is the session's controlling terminal:
			// job control and ^C work, and reach only the command.
			if (ioctl(0, TIOCSCTTY, 0) < 0)
				die("make the pty the controlling terminal: %s", strerror(errno));
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}

	// The parent: forward every signal `mydocker exec` sends us, and exit
	// as the command did (128+n when killed by signal n, as a shell says).
	child = c;
	struct sigaction fwd = {.sa_handler = forward, .sa_flags = SA_RESTART};
	sigfillset(&fwd.sa_mask);
	for (int s = 1; s < 32; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD)
			continue;
		sigaction(s, &fwd, NULL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	int status;
	while (waitpid(c, &status, 0) < 0) {
		if (errno != EINTR)
			die("wait for the command: %s", strerror(errno));
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}
