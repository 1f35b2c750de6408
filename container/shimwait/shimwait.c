// shimwait is where the shim of a detached container waits while nothing
// happens: before the Go runtime starts, in a constructor, so that a
// waiting shim holds a few pages of C instead of a Go runtime (see
// shimwait.go and bench/README.md, "The shim's resident memory").
//
// The shim (container/shimhandoff.go), once its container has been quiet
// for a moment, execs its own binary again with the same arguments and
// with _MYDOCKER_SHIM_WAIT set to what it holds, as space-separated
// key=fd pairs:
//
//   pid=<container's pid> quiet=<ms> since=<ms> pidfd=<fd> stdout=<fd>
//   stderr=<fd> attach=<fd>
//
// This constructor polls the fds in it (pidfd, stdout, stderr, attach;
// the others are for Go) for input: the
// container's exit (its pidfd becomes readable), a line on its stdout or
// stderr, a client connecting to its attach socket. When one is ready it
// returns, the Go runtime starts, and `mydocker shim` reads the same
// variable to take the fds over (it reads nothing here: what is ready
// stays where it is for Go to read).
//
// Without _MYDOCKER_SHIM_WAIT it returns at once: every other process
// pays one getenv.

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define ENV_WAIT "_MYDOCKER_SHIM_WAIT"
#define MAX_FDS 8

// polled says whether the key of length n at key names an fd to poll.
static int polled(const char *key, size_t n)
{
	static const char *const keys[] = {"pidfd", "stdout", "stderr", "attach"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && strncmp(key, keys[i], n) == 0)
			return 1;
	return 0;
}

__attribute__((constructor)) static void shimwait(void)
{
	const char *spec = getenv(ENV_WAIT);
	if (spec == NULL)
		return;
	struct pollfd fds[MAX_FDS];
	int n = 0;
	for (const char *p = spec; *p != '\0' && n < MAX_FDS;) {
		const char *eq = strchr(p, '=');
		if (eq == NULL)
			break;
		char *end;
		long fd = strtol(eq + 1, &end, 10);
		if (polled(p, (size_t)(eq - p)) && end != eq + 1 && fd >= 0) {
			fds[n].fd = (int)fd;
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			n++;
		}
		p = end;
		while (*p == ' ')
			p++;
	}
	if (n == 0)
		return; // nothing to wait for: Go takes over at once
	// Any event, POLLHUP and POLLNVAL too, is Go's to handle: a poll that
	// fails for another reason than a signal does not loop.
	while (poll(fds, n, -1) < 0 && errno == EINTR)
		;
}
