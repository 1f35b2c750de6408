//go:build crashtest

package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The crash-injection switch, for the crash tests (test/crash_test.go) and
// only in a binary built with the crashtest tag: with
//
//	MYDOCKER_TEST_KILL="<key>:<N>"
//
// the mydocker process whose verb is key ("run", "shim", "network create",
// "netsetgo -cleanup"; an alias reads as its verb: "network remove" for
// `network rm`; see cmd.CrashKey) kills itself with SIGKILL just
// before the Nth op it applies (ops skipped as already in place do not
// count; nor do a plan's). Its children (an init waiting for its go signal,
// a shim) are left as after a real kill -9. An N past the last op does
// nothing: a test raises N until the operation completes, and has then
// covered every kill point. Before dying it says which op was the Nth, on
// stderr and appended to $MYDOCKER_TEST_KILL_LOG if set (a shim's stderr
// is a file that its teardown may remove).

const (
	envKill    = "MYDOCKER_TEST_KILL"
	envKillLog = "MYDOCKER_TEST_KILL_LOG"
)

var (
	crashKey  string
	crashAt   int64 // 0: disarmed
	crashOps  atomic.Int64
	crashOnce atomic.Bool
)

// ArmCrash arms the switch if $MYDOCKER_TEST_KILL names key, this
// process's verb.
func ArmCrash(key string) {
	spec := os.Getenv(envKill)
	i := strings.LastIndexByte(spec, ':')
	if i < 0 || spec[:i] != key || key == "" {
		return
	}
	n, err := strconv.ParseInt(spec[i+1:], 10, 64)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "crashtest: ignoring %s=%q: want <verb>:<N>, N >= 1\n", envKill, spec)
		return
	}
	crashKey, crashAt = key, n
}

// crashPoint counts op and dies if it is the armed one.
func crashPoint(op Op) {
	if crashAt == 0 || crashOps.Add(1) != crashAt || !crashOnce.CompareAndSwap(false, true) {
		return
	}
	line := fmt.Sprintf("crashtest: %s (pid %d) killed before op %d: %s\n", crashKey, os.Getpid(), crashAt, describe(op))
	os.Stderr.WriteString(line)
	if path := os.Getenv(envKillLog); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			f.WriteString(line)
			f.Sync()
			f.Close()
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	for { // the signal is on its way: do nothing more
		time.Sleep(time.Second)
	}
}
