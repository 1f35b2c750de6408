package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Stop sends sig (0: the container's --stop-signal, else the image's, else
// SIGTERM) to the container's command, then SIGKILL after timeout, and
// returns once its exit has been recorded and what it held released. A
// negative timeout is the container's own (--stop-timeout, else 10
// seconds; its -1 waits for ever).
func (r *Runtime) Stop(ref string, timeout time.Duration, sig syscall.Signal) (*Config, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	if timeout < 0 {
		timeout = 10 * time.Second
		if t := c.StopTimeout; t != nil && *t >= 0 {
			timeout = time.Duration(*t) * time.Second
		} else if t != nil {
			timeout = 100 * 365 * 24 * time.Hour
		}
	}
	r.letContainer(c)
	if err := r.stop(c, timeout, sig); err != nil {
		return c, err
	}
	return c, nil
}

func (r *Runtime) stop(c *Config, timeout time.Duration, sig syscall.Signal) error {
	if err := r.endSupervision(c); err != nil {
		return err
	}
	if c.State() == StatusCreated {
		return nil // (one its shim restarts is called off before it runs: start)
	}
	// A detached container's shim releases what it held and narrates that
	// in its own log: what it adds from now on is told here, where the user
	// asked for it.
	shimLog := r.openShimLog(c)
	if shimLog != nil {
		defer shimLog.Close()
	}
	killed := false
	if c.IsRunning() && c.Paused {
		if err := r.thaw(c); err != nil {
			return err
		}
	}
	if c.IsRunning() {
		if timeout > 0 && processAlive(c.Pid, c.PidStart) {
			if sig == 0 {
				sig = stopSignal(c)
			}
			r.signalled(c, r.K.Do(kernel.Signal{Pid: c.Pid, Sig: sig,
				Reason: "ask the container's command to exit; as pid 1 of its namespace it gets only the signals it has a handler for, so it may ignore this"}))
			waitUntil(func() bool { return !processAlive(c.Pid, c.PidStart) }, timeout)
		}
		if processAlive(c.Pid, c.PidStart) {
			why := "kill the container's command: SIGKILL, sent from outside its pid namespace, cannot be caught or ignored"
			if timeout > 0 {
				why = "it did not exit in time: " + why
			}
			killed = true
			if err := r.kill(c.Pid, c.PidStart, why); err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
		}
	}
	return r.awaitRecord(c, killed, shimLog)
}

// openShimLog opens the shim's log at its end (nil if there is none: a
// foreground container's teardown is told by its run).
func (r *Runtime) openShimLog(c *Config) *os.File {
	f, err := os.Open(r.Paths.ShimLogPath(c.ID))
	if err != nil {
		return nil
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil
	}
	return f
}

// signalled reports a signal that could not be sent (the pid is checked
// to still be the container's, not a reused one, just before).
func (r *Runtime) signalled(c *Config, err error) {
	if err != nil {
		r.K.Log().Warnf("container %s: %v", c.Name, err)
	}
}

// awaitRecord waits for whoever watches the container (the shim, or a
// foreground run) to record its exit and clean up, and copies what the
// shim said meanwhile (shimLog, may be nil) to our log; if that watcher is
// gone, or does not finish, it does so itself.
func (r *Runtime) awaitRecord(c *Config, killed bool, shimLog *os.File) error {
	recorded := func() bool {
		cur, err := r.store().load(c.ID)
		return err != nil || cur.Status == StatusExited
	}
	monitorAlive := func() bool {
		return owned(c.MonitorPid, c.MonitorStart) && c.MonitorPid != os.Getpid()
	}
	if waitUntil(func() bool { return recorded() || !monitorAlive() }, 10*time.Second) && recorded() {
		// The watcher records the exit first and releases the cgroup (and
		// network) just after, then exits: wait for that, so nothing is
		// held once stop returns, and nothing is told twice.
		finished := waitUntil(func() bool { return !monitorAlive() }, 10*time.Second)
		if shimLog != nil {
			io.Copy(r.logOut(), shimLog)
		}
		if finished {
			return nil
		}
		if cur, err := r.store().load(c.ID); err == nil {
			return r.teardown(cur) // it hangs: release here (idempotent)
		}
		return nil
	}
	// Nobody will record it: the exit status is lost with the watcher.
	code := 143
	if killed {
		code = 137
	}
	return r.finish(c.ID, code)
}

// Remove deletes a container: its state, layer and log. A running one is
// refused unless force, which kills it first. It is idempotent: what an
// interrupted remove already released is not an error. A dead container
// (its record broken) is removed by its id (see removeDead).
func (r *Runtime) Remove(ref string, force bool) (*Config, error) {
	c, err := r.store().Lookup(ref)
	if err != nil {
		return nil, err
	}
	r.letContainer(c)
	if c.Broken != "" {
		return c, r.removeDead(c, force)
	}
	if force {
		// Its shim, restarting it, must not start it again meanwhile.
		if err := r.endSupervision(c); err != nil {
			return c, err
		}
	}
	switch {
	case c.IsRunning() || c.restarting():
		if !force {
			return c, fmt.Errorf("%w: %s: stop it first, or use rm -f", ErrRunning, c.Name)
		}
		if err := r.stop(c, 0, 0); err != nil {
			return c, err
		}
	case c.Status == StatusCreated && processAlive(c.Pid, c.PidStart):
		// Being started by another mydocker: its init waits for the go signal.
		if !force {
			return c, fmt.Errorf("container %s is starting: use rm -f", c.Name)
		}
		if err := r.kill(c.Pid, c.PidStart, "the container is being removed while it starts: kill its init, which waits for the go signal"); err != nil {
			return c, err
		}
	case c.Status == StatusRunning:
		r.awaitRecord(c, false, nil) // died unrecorded: record and release now
	}
	if cur, err := r.store().load(c.ID); err == nil {
		return c, r.destroy(cur)
	}
	return c, r.removeFiles(c)
}

// kill sends SIGKILL to pid (if it still is the process started at start)
// and waits until it is gone.
func (r *Runtime) kill(pid int, start uint64, why string) error {
	if !processAlive(pid, start) {
		return nil
	}
	if err := r.K.Do(kernel.Signal{Pid: pid, Sig: syscall.SIGKILL, Reason: why}); err != nil {
		return err
	}
	if !waitUntil(func() bool { return !processAlive(pid, start) }, 10*time.Second) {
		return fmt.Errorf("pid %d did not die after SIGKILL", pid)
	}
	return nil
}

// waitUntil polls cond until it holds or timeout passes; it reports whether it held.
func waitUntil(cond func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(wait*2, 50*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

// stopSignal is the signal stop sends first: the image's StopSignal (a
// name, with or without SIG, or a number), else SIGTERM.
func stopSignal(c *Config) syscall.Signal {
	if sig, err := ParseSignal(c.StopSignal); err == nil {
		return sig
	}
	return syscall.SIGTERM
}

// ParseSignal reads a signal as docker does: a name, with or without SIG,
// in any case (KILL, sigterm), or a number (9).
func ParseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

// Kill sends sig to a running container's command (pid 1 of its
// namespace: without a handler it ignores all but SIGKILL, as docker's). A
// SIGKILL returns once the exit is recorded and what the container held
// released, as stop does.
func (r *Runtime) Kill(ref string, sig syscall.Signal) (*Config, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	if !c.IsRunning() || !processAlive(c.Pid, c.PidStart) {
		return c, fmt.Errorf("cannot kill container %s: it is not running", c.Name)
	}
	r.letContainer(c)
	if err := r.endSupervision(c); err != nil {
		return c, err
	}
	if c.Paused {
		// A frozen process acts on no signal until it is thawed.
		if err := r.thaw(c); err != nil {
			return c, err
		}
	}
	if sig != syscall.SIGKILL {
		err := r.K.Do(kernel.Signal{Pid: c.Pid, Sig: sig,
			Reason: "send the container's command the signal; as pid 1 of its namespace it gets only the signals it has a handler for"})
		return c, err
	}
	shimLog := r.openShimLog(c)
	if shimLog != nil {
		defer shimLog.Close()
	}
	if err := r.kill(c.Pid, c.PidStart, "kill the container's command: SIGKILL, sent from outside its pid namespace, cannot be caught or ignored"); err != nil {
		return c, fmt.Errorf("container %s: %w", c.Name, err)
	}
	return c, r.awaitRecord(c, true, shimLog)
}

// Wait blocks until the container has stopped and its exit is recorded,
// and returns its exit code, as docker wait.
func (r *Runtime) Wait(ref string) (int, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return 0, err
	}
	exited := false
	code := 0
	for {
		// A command that died with no one to record it is settled by the
		// listing (Get), as Exited (255).
		cur, err := r.store().Get(c.ID)
		if errors.Is(err, ErrNotExist) && exited {
			return code, nil // --rm: removed once its exit was recorded
		}
		if errors.Is(err, ErrNotExist) {
			return 0, fmt.Errorf("container %s was removed before its exit was recorded", c.Name)
		}
		if err != nil {
			return 0, err
		}
		if cur.Status == StatusExited {
			exited, code = true, cur.ExitCode
			if !cur.Releasing {
				return code, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pids are the processes of a running container: those in its cgroup (in
// the pids hierarchy, else any), the host's pids.
func (r *Runtime) Pids(ref string) (*Config, []int, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, nil, err
	}
	if !c.IsRunning() {
		return c, nil, fmt.Errorf("container %s is not running", c.Name)
	}
	m, err := r.cgroup(c)
	if err != nil {
		return c, nil, err
	}
	paths := m.Paths()
	dir, ok := paths["pids"]
	if !ok {
		for _, d := range paths {
			dir = d
			break
		}
	}
	b, err := os.ReadFile(dir + "/cgroup.procs")
	if err != nil {
		return c, nil, fmt.Errorf("processes of container %s: %w", c.Name, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return c, pids, nil
}

// Pause freezes every process of a running container (the cgroup
// freezer), as docker pause. The record says paused before the freeze: a
// pause cut short is undone by unpause.
func (r *Runtime) Pause(ref string) (*Config, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	if !c.IsRunning() {
		return c, fmt.Errorf("container %s is not running", c.Name)
	}
	if c.Paused {
		return c, fmt.Errorf("container %s is already paused", c.Name)
	}
	m, err := r.cgroup(c)
	if err != nil {
		return c, err
	}
	if _, err := r.store().Update(c.ID, func(c *Config) error { c.Paused = true; return nil }); err != nil {
		return c, err
	}
	return c, m.Freeze(true)
}

// Unpause thaws a paused container; the record forgets the pause after
// the thaw.
func (r *Runtime) Unpause(ref string) (*Config, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	if !c.IsRunning() || !c.Paused {
		return c, fmt.Errorf("container %s is not paused", c.Name)
	}
	return c, r.thaw(c)
}

// thaw lets a paused container's processes go on (a frozen process cannot
// act on a signal, nor exit), then forgets the pause.
func (r *Runtime) thaw(c *Config) error {
	m, err := r.cgroup(c)
	if err != nil {
		return err
	}
	if err := m.Freeze(false); err != nil {
		return fmt.Errorf("thaw container %s: %w", c.Name, err)
	}
	_, err = r.store().Update(c.ID, func(c *Config) error { c.Paused = false; return nil })
	return err
}

// Rename gives a container a new name, as docker rename: its record, then
// its name on its networks, in the /etc/hosts of the containers there.
func (r *Runtime) Rename(ref, name string) (*Config, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, err
	}
	same := c.Name == name
	if !same {
		if c, err = r.store().Rename(c.ID, name); err != nil {
			return c, err
		}
	}
	changed := false
	if len(c.Networks) > 0 {
		// Also for the same name: a rename killed after the record
		// and before the networks is finished by running it again.
		if changed, err = r.networks().Rename(c.ID, name); err != nil {
			return c, fmt.Errorf("rename container %s on its networks: %w", name, err)
		}
	}
	if same && !changed {
		return c, fmt.Errorf("container %s is already named %s", ShortID(c.ID), name)
	}
	return c, nil
}
