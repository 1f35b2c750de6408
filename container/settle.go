package container

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/procfs"
)

// Every record has an owner, the mydocker process that will carry it to
// its next state: its Creator (`run`) until a monitor (the shim, or `run`
// in the foreground) takes it, then its monitor; a process that records an
// exit (monitor, stop, rm, or settle itself) becomes the monitor while it
// releases what the container held. Owners are recorded with their start
// time, so a reused pid is not mistaken for them. A record whose owner is
// dead, and whose init is dead too, will never move again by itself:
// List (and so Get, rm, and run before it creates) settles it, once,
// claiming it under the store lock.

// fate is what settle does with a record.
type fate int

const (
	fateNone     fate = iota
	fateRollback      // an abandoned creation: back to the state before the run
	fateFinish        // it died with nobody to record it: exited, released
	fateRelease       // exited, but its release (or --rm removal) was cut short
	fateUnstart       // a start of a made container (create, start) cut short: back to its record
)

// exitUnknown is the exit code of a container that died with nobody to
// record it: docker's for one it finds dead on restart, as after a reboot.
const exitUnknown = RebootExitCode

// self is this process and its start time, as an owner is recorded (a
// variable: a test records owners that are dead).
var self = func() (int, uint64) {
	pid := os.Getpid()
	return pid, pidStart(pid)
}

// owned reports whether the owner pid (started at start) is alive. An
// owner recorded without a start time (before they were kept) is trusted
// by its pid alone.
func owned(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if start == 0 {
		_, err := procfs.StartTime(pid)
		return err == nil
	}
	return processAlive(pid, start)
}

// ownerAlive reports whether a mydocker process still answers for c.
func (c *Config) ownerAlive() bool {
	return owned(c.Creator, c.CreatorStart) || owned(c.MonitorPid, c.MonitorStart)
}

// fate is what must be done with c, whose owner may have died.
func (c *Config) fate() fate {
	f := fateNone
	switch c.Status {
	case StatusCreated:
		f = fateRollback
		if c.Made {
			// Made by create, or started before: a start of it that died
			// is undone, and one nobody starts is nobody's to settle.
			f = fateUnstart
			if c.Creator == 0 {
				return fateNone
			}
		}
	case StatusRunning:
		f = fateFinish
	case StatusExited:
		if c.Releasing || c.AutoRemove {
			f = fateRelease
		}
	}
	// An init left blocked before its go signal exits once its parent's
	// pipe closes: it is not waited for (initAlive ends one that is still
	// on its way out).
	if f == fateNone || c.Broken != "" || c.ownerAlive() || c.initAlive() {
		return fateNone
	}
	return f
}

// exited records, for the first time only, that c ended with code, and
// makes this process its monitor while it releases what c held.
func (c *Config) exited(code int) {
	if c.Status != StatusExited {
		c.Status, c.ExitCode, c.Finished, c.Releasing = StatusExited, code, time.Now().UTC(), true
	}
	c.Paused, c.Restarting = false, false
	c.MonitorPid, c.MonitorStart = self()
}

// settle reads every record under the store lock and claims those whose
// owner died (this process becomes their owner, so no other command acts
// on them too), then, without the lock, finishes or undoes them. It
// returns the records as read, and whether any was settled (the list is
// then stale). A failure to settle one is a warning: listing goes on.
func (s Store) settle() ([]*Config, bool, error) { return s.settleFrom(s.scan) }

// settleFrom is settle with the records as scan reads them (scan, or
// scanHeads for a caller that needs no list).
func (s Store) settleFrom(scan func() ([]*Config, error)) ([]*Config, bool, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, false, err
	}
	all, err := scan()
	if err != nil {
		unlock()
		return nil, false, err
	}
	changed := false
	var todo []*Config
	var fates []fate
	for _, c := range all {
		if c.Broken == reasonMissing && s.leftover(c.ID) {
			changed = s.sweep(c.ID) || changed
			continue
		}
		f := c.fate()
		if s.r == nil || f == fateNone {
			continue
		}
		if err := s.write(claim(c, f)); err != nil {
			s.k().Log().Warnf("container %s: %v", c.Name, err)
			continue
		}
		todo, fates = append(todo, c), append(fates, f)
	}
	unlock()
	for i, c := range todo {
		if err := s.r.settleOne(c, fates[i]); err != nil {
			s.k().Log().Warnf("container %s: %v", c.Name, err)
		}
	}
	return all, changed || len(todo) > 0, nil
}

// claim makes this process c's owner for fate f (and records the exit
// of a container that died unrecorded).
func claim(c *Config, f fate) *Config {
	switch f {
	case fateRollback, fateUnstart:
		c.Creator, c.CreatorStart = self()
	case fateFinish:
		c.exited(exitUnknown)
		c.Error = "its monitor died before it could record the exit: exit code unknown"
	case fateRelease:
		c.Releasing = true
		c.MonitorPid, c.MonitorStart = self()
	}
	return c
}

// settleOne finishes or undoes c, claimed for fate f.
func (r *Runtime) settleOne(c *Config, f fate) error {
	r.letContainer(c)
	if f == fateUnstart {
		return r.unstart(c, "the mydocker process starting it is gone: its start is undone")
	}
	if f == fateRollback {
		r.K.Log().Infof("container %s: the mydocker process creating it is gone: its creation is undone", c.Name)
		if err := r.teardown(c); err != nil {
			return err
		}
		if err := r.removeFiles(c); err != nil {
			return err
		}
		return r.removeAnonymous(c) // made for a container that never was
	}
	if f == fateFinish {
		r.K.Log().Infof("container %s: it died with nobody to record it: recorded as exited (%d), releasing what it held", c.Name, exitUnknown)
	}
	return r.release(c)
}

// leftover reports whether container id's state directory, which has no
// record, holds nothing but temporary files: the remains of a Create
// killed between its mkdir and its write (it holds the lock throughout,
// and nothing is made for a container before its record), or of a Delete
// killed half way. Nothing else in the kernel is the container's.
func (s Store) leftover(id string) bool {
	if s.isPlan() {
		return false
	}
	entries, err := os.ReadDir(s.Paths.StateDir(id))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return false
		}
	}
	return true
}

// sweep removes such a leftover directory; the caller holds the lock.
func (s Store) sweep(id string) bool {
	err := s.k().Do(kernel.RemoveAll{Path: s.Paths.StateDir(id),
		Reason: "a state directory with no record: the remains of a mydocker killed while it made or removed it"})
	if err != nil {
		s.k().Log().Warnf("%s: %v", filepath.Base(s.Paths.StateDir(id)), err)
		return false
	}
	return true
}
