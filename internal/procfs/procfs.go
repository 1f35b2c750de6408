// Package procfs reads what mydocker needs of /proc/PID/stat: a process's
// state and its start time. The start time, recorded with a pid, tells that
// pid's process from a later one that reused the number.
package procfs

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Stat reads a process's state letter (field 3) and start time in clock
// ticks after boot (field 22) from /proc/PID/stat.
func Stat(pid int) (state byte, start uint64, err error) {
	if pid <= 0 {
		return 0, 0, fmt.Errorf("no process has pid %d", pid)
	}
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: parse
	// after the last ')'. Then: state, ppid, ... starttime is field 22.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%s: unexpected format", path)
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("%s: unexpected format", path)
	}
	start, err = strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: start time: %w", path, err)
	}
	return f[0][0], start, nil
}

// StartTime is the start time of a live process (a zombie has exited).
func StartTime(pid int) (uint64, error) {
	state, start, err := Stat(pid)
	if err != nil {
		return 0, err
	}
	if (state == 'Z' || state == 'X') && !otherThreads(pid) {
		return 0, fmt.Errorf("pid %d has exited", pid)
	}
	return start, nil
}

// otherThreads reports whether pid, whose main thread is a zombie, still
// has live threads. It does while another of its threads execs: the kernel
// makes the main thread a zombie before the exec'ing thread takes its pid
// (de_thread), and a shim handing its wait off (container/shimhandoff.go)
// is a Go process, which execs from any of its threads. A command reading
// the shim's state in that moment must not take it for dead.
func otherThreads(pid int) bool {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return err == nil && len(tasks) > 1
}

// Alive reports whether pid is still the live process that started at
// start: not exited, not a zombie, not another process with its number.
func Alive(pid int, start uint64) bool {
	s, err := StartTime(pid)
	return err == nil && s == start
}
