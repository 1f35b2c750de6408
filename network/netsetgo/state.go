package netsetgo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/procfs"
	"github.com/mydocker/mydocker/internal/statefile"
	"github.com/mydocker/mydocker/network"
)

// netsetgo's records (on-disk formats are API), written under the network
// lock:
//
//	<root>/netsetgo/<pid>.json            one Wiring per wired process
//	<root>/netsetgo/bridges/<name>.json   one bridgeRecord per bridge netsetgo changed
//
// Each is written before the kernel change it records (a wiring with the
// names of its veth pair before the pair is made, a bridge's record before
// the bridge, the address or a rule is added), so that a netsetgo killed
// at any step leaves records naming all it made; teardown skips what is
// missing.

// Wiring is what one netsetgo call made for a process.
type Wiring struct {
	Pid int
	// StartTime is the process's start time (field 22 of /proc/PID/stat):
	// a pid reused by another process does not match it.
	StartTime        uint64
	Bridge           string
	BridgeAddress    string // 10.10.10.1/24
	ContainerAddress string // 10.10.10.2/24
	HostVeth         string // veth0, on the bridge
	HostVethIndex    int    // its ifindex: a later link of the same name is not ours
	PeerVeth         string // veth1, in the process's namespace
	NAT              bool
	Created          time.Time
	// Wiring is true from the record's first write, before anything is
	// made, until the wiring is complete: the lock is held throughout, so
	// a record still marked under the lock was left by a netsetgo killed
	// half way, and what it names is removed (pruneWirings, Cleanup).
	Wiring bool `json:",omitempty"`
}

// bridgeRecord is what netsetgo did to a bridge, shared by its wirings.
type bridgeRecord struct {
	Name         string
	Created      bool           // netsetgo created the bridge
	AddedAddress string         `json:",omitempty"` // the address netsetgo put on a bridge it reused
	Rules        []network.Rule `json:",omitempty"` // the rules netsetgo appended for it, removed with its last wiring (their why is not stored)
}

// held reports whether the record still stands for something.
func (r *bridgeRecord) held() bool { return r.Created || r.AddedAddress != "" || len(r.Rules) > 0 }

// dir is where the records are: <root>/netsetgo.
func (s *Wirer) dir() string { return filepath.Join(s.root, "netsetgo") }

func (s *Wirer) wiringPath(pid int) string {
	return filepath.Join(s.dir(), strconv.Itoa(pid)+".json")
}

func (s *Wirer) bridgeRecordPath(name string) string {
	return filepath.Join(s.dir(), "bridges", name+".json")
}

// loadWiring reads and checks the wiring of pid: a record that does not
// parse or names nothing is one error naming the file (statefile.ErrCorrupt).
func (s *Wirer) loadWiring(pid int) (*Wiring, error) {
	var w *Wiring
	path := s.wiringPath(pid)
	if err := kernel.ReadState(s.k, path, &w); err != nil {
		return nil, err
	}
	switch {
	case w == nil:
		return nil, statefile.Corrupt(path, errors.New("null"))
	case w.Pid != pid:
		return nil, statefile.Corrupt(path, fmt.Errorf("Pid is %d, not the file's %d", w.Pid, pid))
	case w.Bridge == "" || w.HostVeth == "" || w.PeerVeth == "":
		return nil, statefile.Corrupt(path, errors.New("no Bridge, HostVeth or PeerVeth"))
	}
	return w, nil
}

// loadWirings returns every wiring, by pid.
func (s *Wirer) loadWirings() ([]*Wiring, error) {
	ents, err := os.ReadDir(s.dir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Wiring
	for _, e := range ents {
		pid, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json"))
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || err != nil {
			continue
		}
		w, err := s.loadWiring(pid)
		if errors.Is(err, statefile.ErrCorrupt) {
			s.k.Log().Warnf("%v (skipped; `netsetgo -cleanup -pid %d` removes it)", err, pid)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out, nil
}

// loadBridgeRecord returns the bridge's record, empty if there is none.
// A record that does not parse or is not the bridge's is replaced by an
// empty one, with a warning: what netsetgo did to the bridge is then
// left as it is, which is safe.
func (s *Wirer) loadBridgeRecord(name string) (*bridgeRecord, error) {
	var rec *bridgeRecord
	path := s.bridgeRecordPath(name)
	err := kernel.ReadState(s.k, path, &rec)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &bridgeRecord{Name: name}, nil
	case err == nil && (rec == nil || rec.Name != name):
		err = statefile.Corrupt(path, fmt.Errorf("not the record of bridge %s", name))
	}
	if errors.Is(err, statefile.ErrCorrupt) {
		s.k.Log().Warnf("%v: taken as empty", err)
		return &bridgeRecord{Name: name}, nil
	}
	return rec, err
}

// bridgeRecordOp writes the record, or removes it when it holds nothing.
func (s *Wirer) bridgeRecordOp(rec *bridgeRecord) kernel.Op {
	if !rec.held() {
		return kernel.RemoveState{Path: s.bridgeRecordPath(rec.Name)}
	}
	return kernel.WriteState{Path: s.bridgeRecordPath(rec.Name), Value: rec}
}

// pruneWirings cleans up after processes that exited without a cleanup
// (their veth went with their namespace; their rules and records stay
// until now), except the wiring of pid, which the caller handles. Held lock.
func (s *Wirer) pruneWirings(except int) error {
	ws, err := s.loadWirings()
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range ws {
		if w.Pid == except {
			continue
		}
		if st, err := procfs.StartTime(w.Pid); err == nil && st == w.StartTime && !w.Wiring {
			continue
		}
		s.k.Log().Infof("pid %d (wired to %s) has exited: cleaning up its wiring", w.Pid, w.Bridge)
		errs = append(errs, s.unwire(w, false))
	}
	return errors.Join(errs...)
}

// netnsOf names the network namespace of a /proc entry ("self" or a pid).
func netnsOf(proc string) string {
	s, _ := os.Readlink("/proc/" + proc + "/ns/net")
	return s
}

// waitExit returns when the process (pid, started at start) has exited:
// a pidfd becomes readable then; without pidfds, /proc is polled.
func waitExit(pid int, start uint64) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		defer unix.Close(fd)
		// The pid may have been reused between the wiring and the open.
		if st, err := procfs.StartTime(pid); err != nil || st != start {
			return nil
		}
		for {
			_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
			if err == nil {
				return nil
			}
			if err != unix.EINTR {
				return fmt.Errorf("wait for pid %d: %w", pid, err)
			}
		}
	}
	for {
		if st, err := procfs.StartTime(pid); err != nil || st != start {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
