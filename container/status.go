package container

import (
	"fmt"
	"time"

	"github.com/mydocker/mydocker/internal/procfs"
)

// processAlive reports whether pid is still the process that started at
// start (a reused pid is not) and has not exited (a zombie has).
func processAlive(pid int, start uint64) bool { return procfs.Alive(pid, start) }

// pidStart returns the start time of a live pid, for processAlive later.
func pidStart(pid int) uint64 {
	s, _ := procfs.StartTime(pid)
	return s
}

// IsRunning reports whether the container's process is really alive: the
// state file alone may say "running" after a crash of whoever watched it.
func (c *Config) IsRunning() bool {
	return c.Status == StatusRunning && processAlive(c.Pid, c.PidStart)
}

// State is the container's state as a word: created, running, exited,
// restarting (its shim waits to restart it), or dead (its record is broken).
func (c *Config) State() string {
	if c.Status == StatusRunning && !c.IsRunning() {
		return StatusExited
	}
	if c.restarting() {
		return StatusRestarting
	}
	return c.Status
}

// StatusText reads like docker's STATUS column.
func (c *Config) StatusText(now time.Time) string {
	switch c.State() {
	case StatusDead:
		return "Dead (config.json: " + c.Broken + ")"
	case StatusRunning:
		if c.Paused {
			return "Up " + HumanDuration(now.Sub(c.Started)) + " (Paused)"
		}
		return "Up " + HumanDuration(now.Sub(c.Started))
	case StatusExited:
		if c.Status == StatusRunning { // died with nobody to record it
			return "Exited (unknown)"
		}
		return fmt.Sprintf("Exited (%d) %s ago", c.ExitCode, HumanDuration(now.Sub(c.Finished)))
	case StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.ExitCode, HumanDuration(now.Sub(c.Finished)))
	}
	return "Created"
}

// HumanDuration is docker's (go-units) wording of a duration.
func HumanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(d.Minutes())
	switch {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	h := int(d.Round(time.Hour).Hours())
	switch {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", h/24/365)
}

// restarting reports whether c's shim waits to restart it (its restart
// policy): a shim that died meanwhile restarts nothing.
func (c *Config) restarting() bool {
	return c.Restarting && c.Status == StatusExited && owned(c.MonitorPid, c.MonitorStart)
}

// busy reports whether a process answers for c right now: it runs, or is
// being created, started or restarted (a prune leaves it alone). A made
// container nobody starts ("Created") is not busy.
func (c *Config) busy() bool {
	switch {
	case c.IsRunning(), c.restarting():
		return true
	case c.Status == StatusCreated:
		return c.ownerAlive() || processAlive(c.Pid, c.PidStart)
	}
	return false
}
