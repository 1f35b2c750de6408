package container

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// shimIdle gives back the memory the shim needed to start a container and
// no longer needs while it waits for it, and keeps what it needs to wait
// small, for a shim that waits in Go: one whose container has a terminal
// or -i, or keeps printing (a quiet one waits in C: shimhandoff.go).
// bench/README.md, "The shim's resident memory", has the figures:
//
//   - the Go heap the start grew: collected and returned to the kernel now
//     rather than minutes later by the scavenger;
//   - then no collection by time or by growth (GOGC off) but a memory limit
//     a little above what the shim holds now: a quiet container's shim
//     never runs the collector again (at the default it runs every two
//     minutes, and its code and metadata become resident again each
//     time), and a container that writes much grows the shim by at most
//     shimHeadroom before a collection;
//   - the pages of mydocker's own binary the start touched (code and
//     read-only data): most of the shim's resident set, as the kernel maps
//     a binary's page cache a whole folio (up to 2 MB) per fault. They are
//     clean and file-backed: dropping them from our page tables loses
//     nothing, the page cache keeps them for every other mydocker process,
//     and the ones that waiting, logging and teardown use fault back in.
//     Only read-only mappings of the binary are dropped: a writable one
//     holds data (MADV_DONTNEED on a private mapping resets it to the
//     file's content).
//
// Best effort: what fails here leaves memory resident, nothing else.
func shimIdle() {
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	debug.SetMemoryLimit(int64(m.Sys-m.HeapReleased) + shimHeadroom)
	debug.SetGCPercent(-1)
	dropExePages()
}

// shimHeadroom is how much the shim's Go memory may grow, while it waits,
// before the collector runs (shimIdle).
const shimHeadroom = 2 << 20

// dropExePages unmaps from this process the pages of its binary's
// read-only mappings (see shimIdle).
func dropExePages() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00401000-00aef000 r-xp 00001000 fe:00 1234    /usr/local/bin/mydocker
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}

// shimEnv is the shim's environment: its caller's, with the Go runtime's
// memory profiling off from the first allocation (GODEBUG
// memprofilerate=0): the profiler's bucket table is allocated at its first
// sample and is 1.4 MB, of which the shim would keep the pages it touched,
// for a profile nobody reads. The container does not inherit it: its init
// is started with an empty environment (process.go).
func shimEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	godebug := "memprofilerate=0"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug = v + "," + godebug
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GODEBUG="+godebug)
}
