// Package joinprime starts the grace period of a cgroup join before the Go
// runtime starts: see the comment at the top of joinprime.c. Importing it
// (main.go does, for its side effect) links the constructor; for the verbs
// that join no cgroup it does nothing but read argv.
package joinprime

// #cgo CFLAGS: -Wall -Wextra -std=gnu11
// #cgo LDFLAGS: -lpthread
// extern const char *const mydocker_global_value_flags[];
// extern int mydocker_join_primed_now(void);
// extern int mydocker_prime_join(void);
// #include <stdlib.h>
// extern int mydocker_own_procs(char *buf, size_t len);
// static const char *value_flag(int i) { return mydocker_global_value_flags[i]; }
import "C"

import "unsafe"

// Primed says the constructor started the primer: the start this process
// makes need not prime its join again.
func Primed() bool { return C.mydocker_join_primed_now() != 0 }

// Prime starts the primer now, for a start the constructor did not prime
// (a shim's restart of its container).
func Prime() { C.mydocker_prime_join() }

// procsFile is the file the primer writes to: the cgroup.procs of this
// process's own cgroup in the cgroup2 hierarchy ("", false if none).
func procsFile() (string, bool) {
	buf := (*C.char)(C.malloc(4352))
	defer C.free(unsafe.Pointer(buf))
	if C.mydocker_own_procs(buf, 4352) != 0 {
		return "", false
	}
	return C.GoString(buf), true
}

// GlobalValueFlags are the global flags the constructor skips with their
// value to find the verb.
func GlobalValueFlags() []string {
	var out []string
	for i := C.int(0); C.value_flag(i) != nil; i++ {
		out = append(out, C.GoString(C.value_flag(i)))
	}
	return out
}
