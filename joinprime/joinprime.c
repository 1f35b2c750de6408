// The cgroup join's grace period, started before the Go runtime.
//
// A write of a pid to a cgroup.procs file takes the kernel's global
// cgroup_threadgroup_rwsem for writing, and the first writer after a quiet
// spell waits for an RCU grace period (10 ms or more at HZ=250) holding the
// cgroup_mutex; a writer within about one grace period of the last one
// does not wait (doc/cgroups.md). A start joins its init to its cgroup some
// 10 ms after mydocker is exec'd, and an exec's helper its command: to have
// the grace period over by then, it must begin at once, before the Go
// runtime's 4 ms of start. So for the verbs that join (run, start,
// restart, exec, the shim), this constructor starts a thread that writes
// the process's own pid ("0") into the cgroup it is already in, in the
// first hierarchy of /proc/self/cgroup mounted here: the kernel takes the
// lock (the grace period passes in this thread) and moves nothing. (A pid
// no task has would fail before the lock: 6.18 looks the task up first.)
// Not narrated: it changes nothing. The path is found as mydocker's Go
// code finds it (cgroupProcsFiles): a line of /proc/self/cgroup, under a
// mount of its hierarchy whose root holds its path; anything unexpected,
// and nothing is written. On a cgroup v2 host a start clones its init into
// its cgroup (CLONE_INTO_CGROUP) with no write at all, and a primer would
// only hold up the mkdir of that cgroup: there only exec primes.
//
// The verb is read from argv as the CLI does: the global flags that take a
// value are skipped with it (main_test.go checks this list against the
// CLI's). A wrong guess costs at most a wait or a missed prime.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

const char *const mydocker_global_value_flags[] = {
	"--root", "--data-root", "--log-level", "-l", "--log-format", "--kv", "--advertise-addr", NULL,
};

// mydocker_join_primed: the primer found its file and writes to it (read
// by the Go side, which primes a start itself when it is not set).
int mydocker_join_primed;

int mydocker_join_primed_now(void) { return __atomic_load_n(&mydocker_join_primed, __ATOMIC_ACQUIRE); }

static const char *verb_of(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return a;
		for (const char *const *f = mydocker_global_value_flags; *f; f++)
			if (strcmp(a, *f) == 0) {
				i++; // its value
				break;
			}
	}
	return "";
}

// has_all: every comma-separated name in want is one in have.
static int has_all(const char *want, const char *have) {
	char w[256], h[1024];
	snprintf(w, sizeof w, "%s", want);
	snprintf(h, sizeof h, ",%s,", have);
	for (char *save, *c = strtok_r(w, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char needle[260];
		snprintf(needle, sizeof needle, ",%s,", c);
		if (!strstr(h, needle))
			return 0;
	}
	return 1;
}

// mydocker_own_procs: the cgroup.procs file of this process's own cgroup
// in a hierarchy mounted here, in buf; 0 if there is one. The hierarchies
// of /proc/self/cgroup in turn ("0::/path" is cgroup2's, "N:pids:/path" a
// v1 one's), each under a mount of it whose root holds the path.
int mydocker_own_procs(char *buf, size_t len) {
	char cg[8192];
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	size_t n = fread(cg, 1, sizeof cg - 1, f);
	fclose(f);
	cg[n] = 0;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	for (char *save, *l = strtok_r(cg, "\n", &save); found < 0 && l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/')
			continue;
		*c2 = 0;
		const char *ctrls = c1 + 1, *path = c2 + 1;
		if (!(f = fopen("/proc/self/mountinfo", "re")))
			break;
		// id parent dev root point options [optional...] - fstype source super
		while (found < 0 && getline(&line, &cap, f) > 0) {
			line[strcspn(line, "\n")] = 0;
			char *dash = strstr(line, " - ");
			if (!dash)
				continue;
			*dash = 0;
			char *fstype = dash + 3, *source = strchr(fstype, ' ');
			char *super = source ? strchr(source + 1, ' ') : NULL;
			if (!super)
				continue;
			*source = 0;
			if (ctrls[0] ? strcmp(fstype, "cgroup") != 0 || !has_all(ctrls, super + 1) : strcmp(fstype, "cgroup2") != 0)
				continue;
			char *field[5];
			int nf = 0;
			for (char *s2, *tok = strtok_r(line, " ", &s2); tok && nf < 5; tok = strtok_r(NULL, " ", &s2))
				field[nf++] = tok;
			if (nf < 5)
				continue;
			const char *root = field[3], *rel = path;
			size_t rl = strlen(root);
			if (strcmp(root, "/") != 0) {
				if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != 0))
					continue;
				rel = path + rl;
			}
			if (snprintf(buf, len, "%s%s/cgroup.procs", field[4], strcmp(rel, "/") == 0 ? "" : rel) < (int)len)
				found = 0;
		}
		fclose(f);
	}
	free(line);
	return found;
}

static void *prime(void *unused) {
	(void)unused;
	char procs[4352];
	if (mydocker_own_procs(procs, sizeof procs) != 0)
		return NULL;
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	__atomic_store_n(&mydocker_join_primed, 1, __ATOMIC_RELEASE);
	ssize_t n = write(fd, "0", 1); // this process, where it already is
	(void)n;
	close(fd);
	return NULL;
}

// mydocker_prime_join starts the primer thread, detached; 0 if it started.
// The thread takes no signal (before Go's start, Go has no handlers yet).
int mydocker_prime_join(void) {
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_t t;
	int err = pthread_create(&t, &attr, prime, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

__attribute__((constructor)) static void joinprime(int argc, char **argv) {
	const char *verb = verb_of(argc, argv);
	int exec = strcmp(verb, "exec") == 0;
	if (!exec && strcmp(verb, "run") && strcmp(verb, "start") && strcmp(verb, "restart") && strcmp(verb, "shim"))
		return;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--dry-run") == 0 || strncmp(argv[i], "--dry-run=", 10) == 0)
			return; // a plan changes nothing, and primes nothing
	// A shim handing its wait off re-executes itself (container/shimwait),
	// with its container started long ago: nothing to join.
	if (getenv("_MYDOCKER_SHIM_WAIT"))
		return;
	struct statfs st;
	if (!exec && statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
		return;
	mydocker_prime_join();
}
