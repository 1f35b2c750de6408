// Package statefile reads and writes mydocker's JSON state files safely:
// writers hold an exclusive flock on a separate lock file (a lock on the data
// file itself would protect nothing once a rename replaces it) and replace the
// data atomically (temp file in the same directory, rename), so concurrent
// mydocker processes never lose or duplicate an update, and a process killed
// at any instant leaves either the old or the new file, never half of one.
//
// The files are runtime state (--root, /var/run: a tmpfs on most hosts, gone
// at boot), so they are not fsynced, as runc does not fsync its state.json:
// a kill cannot tear a rename, only a power cut can, and after one the state
// is that of a reboot (every container exited); a file torn by it is then a
// corrupt record, which every reader reports and `rm`/`network rm` remove.
// An fsync per write cost a millisecond or more on a disk-backed /var/run,
// several times on each container start.
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive flock on path (created if missing, with its
// directory) and returns the function that releases it.
func Lock(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the last fd drops the flock
}

// WriteJSON replaces path with v encoded as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFile(path, append(data, '\n'), 0o644)
}

// WriteFile replaces path with data, atomically.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	// The writer's pid in the name: a later writer of the file removes the
	// temp files of writers that died (removeDead).
	prefix := "." + filepath.Base(path) + ".tmp-"
	tmp, err := os.CreateTemp(dir, prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	done = true
	removeDead(dir, prefix)
	return nil
}

// removeDead removes the temp files dir/prefix<pid>-* of writers no longer
// alive (killed between the temp file and the rename). Best effort.
func removeDead(dir, prefix string) {
	names, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	for _, n := range names {
		pid, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(n), prefix), "-")
		if _, err := strconv.Atoi(pid); ok && err == nil {
			if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
				os.Remove(n)
			}
		}
	}
}

// ErrNotExist is returned (wrapped) by ReadJSON when the file is missing.
var ErrNotExist = os.ErrNotExist

// ErrCorrupt is wrapped by the error of a state file that cannot be
// parsed, or whose content its reader refused (see Corrupt).
var ErrCorrupt = errors.New("corrupt")

// Corrupt is the error of a state file at path whose content is wrong for
// reason: one line naming the file and what is wrong. It wraps reason too
// (a reader may tell a syntax error from a wrong type).
func Corrupt(path string, reason error) error {
	return fmt.Errorf("state file %s is %w: %w", path, ErrCorrupt, reason)
}

// ReadJSON decodes path into v. A missing file wraps os.ErrNotExist; a
// corrupt one is an error naming the file, never a silent reset.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return Corrupt(path, err)
	}
	return nil
}
