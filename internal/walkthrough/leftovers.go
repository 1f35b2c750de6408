package walkthrough

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A chapter may start a process that outlives its shell: a registry its
// setup serves images from, a stand-in for the outside world. The runner
// ends them, whatever became of the chapter (done, failed, or killed at its
// timeout): every process left in the chapter's network namespace, which
// nothing else uses. The shell writes that namespace's name (readlink
// /proc/$$/ns/net) before it runs anything, so a process the chapter made
// is never missed and one of the host never taken for one.
//
// A chapter that simulates several hosts (chapter 13) starts processes in
// network namespaces of its own making (`unshare -n`, `nsenter`): etcd, a
// host's overlay watcher. Those are found by a mark in their environment,
// MYDOCKER_WALKTHROUGH=<the chapter's temp dir>, which the runner gives the
// chapter's shell and every process it starts inherits (a container's
// process, whose environment is its image's, is the chapter's teardown's).

// markVar names the environment variable that marks a chapter's processes.
const markVar = "MYDOCKER_WALKTHROUGH"

// markEnv is the mark the runner adds to the chapter shell's environment.
func markEnv(tmp string) string { return markVar + "=" + tmp }

// netnsFile is where the chapter's shell writes its network namespace.
const netnsFile = "netns"

// netnsLine is the script's first line: it records the namespace.
func netnsLine(tmp string) string {
	return fmt.Sprintf("readlink /proc/$$/ns/net > %s\n", filepath.Join(tmp, netnsFile))
}

// endLeftovers kills every process in the network namespace the chapter's
// shell recorded in tmp, and waits (a few seconds at most) until they are
// gone. A namespace that is the runner's own is never swept.
func endLeftovers(tmp string) error {
	b, err := os.ReadFile(filepath.Join(tmp, netnsFile))
	if err != nil {
		return nil // the shell never started: it made nothing
	}
	ns := strings.TrimSpace(string(b))
	if own, _ := os.Readlink("/proc/self/ns/net"); ns == "" || ns == own {
		return fmt.Errorf("the chapter's network namespace %q is the runner's own: not swept", ns)
	}
	var left []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = chapterProcs(ns, markEnv(tmp))
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of the chapter's network namespace do not end", left)
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// chapterProcs lists the processes whose network namespace is ns or whose
// environment holds mark.
func chapterProcs(ns, mark string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pid == os.Getpid() {
			continue
		}
		if l, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/net")); err == nil && l == ns {
			out = append(out, pid)
		} else if hasEnv(pid, mark) {
			out = append(out, pid)
		}
	}
	return out
}

// hasEnv says whether the process's environment holds the entry kv.
func hasEnv(pid int, kv string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		return false
	}
	for _, e := range strings.Split(string(b), "\x00") {
		if e == kv {
			return true
		}
	}
	return false
}
