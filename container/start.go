package container

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/phases"
	"github.com/mydocker/mydocker/network"
)

// The lifecycle verbs: create, start, restart. run is create + start in
// one process; see doc/crash-safety.md for who owns the record between
// them.

// ErrStopped is a restart that stop, kill or rm -f called off.
var ErrStopped = errors.New("stopped by hand: its restart is called off")

// Create makes a container that does not run, as docker create: its
// record (every option checked, the image resolved, its networks, ports
// and address asked for) and its writable layer; the cgroup, endpoints
// and process come with start. Once made it is owned by nobody: no
// command undoes it but rm, prune or a reboot's --rm removal.
func (r *Runtime) Create(o RunOptions) (*Config, error) {
	c, err := r.create(o)
	if err != nil {
		return nil, err
	}
	if err := r.makeLayer(r.initSpec(c, false)); err != nil {
		return c, oneLine(err, r.removeFiles(c))
	}
	// From here it is made: a creator killed before this write leaves a
	// record settled as an abandoned creation (layer and record removed).
	c, err = r.store().Update(c.ID, func(c *Config) error {
		c.Made, c.Creator, c.CreatorStart = true, 0, 0
		return nil
	})
	return c, err
}

// makeLayer makes the container's overlay directories (kept across
// starts: its changes live in upper).
func (r *Runtime) makeLayer(spec *initSpec) error {
	err := r.K.Do(
		kernel.Mkdir{Path: spec.Upper, Reason: "the container's writable layer: overlay's upperdir, where its changes go"},
		kernel.Mkdir{Path: spec.Work, Reason: "overlay's workdir, its scratch space on the same filesystem"},
		kernel.Mkdir{Path: spec.Merged, Reason: "the mount point of the container's root filesystem"})
	if err != nil {
		return fmt.Errorf("create container layer: %w", err)
	}
	return nil
}

// StartOptions is what `mydocker start` was asked for.
type StartOptions struct {
	Attach      bool // -a: in the foreground, its output ours, its exit code returned
	Interactive bool // -i: our stdin is its stdin (in the foreground)
}

// Start starts a created or exited container again, as docker start: the
// same id, config, layer and networks (its previous address if it is
// still free). Detached, under a shim, unless attached; a running one is
// left as it is. It returns the command's exit code when attached.
func (r *Runtime) Start(ref string, o StartOptions, in, out, errOut *os.File) (*Config, int, error) {
	c, err := r.store().Get(ref)
	if err != nil {
		return nil, 0, err
	}
	if c.IsRunning() && !o.Attach {
		return c, 0, nil // docker says nothing either
	}
	if c.IsRunning() {
		return c, 0, fmt.Errorf("container %s is running: use attach, or logs -f", c.Name)
	}
	r.letContainer(c)
	if c, err = r.claimStart(c.ID, !o.Attach, false); err != nil {
		return c, 0, err
	}
	code, err := r.launch(c, !o.Attach, o.Interactive, in, out, errOut)
	return c, code, err
}

// Restart stops a running container (timeout and sig as stop's) and
// starts it again, detached, as docker restart; a stopped one is started.
func (r *Runtime) Restart(ref string, timeout time.Duration, sig syscall.Signal) (*Config, error) {
	c, err := r.Stop(ref, timeout, sig)
	if err != nil {
		return c, err
	}
	c, _, err = r.Start(c.ID, StartOptions{}, nil, nil, nil)
	return c, err
}

// claimStart makes this process the one that starts container id: under
// the store lock, refused if another process starts or releases it; the
// record goes back to "created", made (a start killed from here on is
// undone back to this record, never removed: settle.go), with no pid and
// no monitor. A start by hand resets the restart count and the stop; a
// restart by the shim (byPolicy) is called off by a stop since.
func (r *Runtime) claimStart(id string, detach, byPolicy bool) (*Config, error) {
	return r.store().Update(id, func(c *Config) error {
		switch {
		case c.IsRunning():
			return fmt.Errorf("%w: %s", ErrRunning, c.Name)
		case c.Status == StatusCreated && (c.ownerAlive() || processAlive(c.Pid, c.PidStart)):
			return fmt.Errorf("container %s is being started by another mydocker", c.Name)
		case c.Releasing && c.ownerAlive():
			return fmt.Errorf("container %s is stopping: try again once it has stopped", c.Name)
		case byPolicy && c.ManuallyStopped:
			return fmt.Errorf("container %s: %w", c.Name, ErrStopped)
		}
		if !byPolicy {
			c.RestartCount, c.ManuallyStopped = 0, false
		}
		c.Made, c.Status, c.Detach, c.Error = true, StatusCreated, detach, ""
		c.Pid, c.PidStart, c.MonitorPid, c.MonitorStart, c.Paused, c.Releasing = 0, 0, 0, 0, false, false
		c.Creator, c.CreatorStart = self()
		return nil
	})
}

// launch starts the claimed container c: detached under a shim (returns
// once the command runs), or in the foreground (returns its exit code
// once it has ended and been cleaned up). It is the second half of run.
func (r *Runtime) launch(c *Config, detach, interactive bool, in, out, errOut *os.File) (int, error) {
	if detach {
		so := &startShimOp{r: r, c: c}
		if err := r.K.Do(so); err != nil {
			return 0, r.failed(c, err)
		}
		if so.err != nil {
			return 0, r.failed(c, so.err)
		}
		return 0, nil
	}
	sio := stdio{Out: out, Err: errOut, Tty: c.Tty}
	if interactive {
		sio.In = in
	}
	// A foreground container is logged too, as docker's.
	var err error
	if sio.Log, err = r.openLog(c); err != nil {
		return 0, r.failed(c, err)
	}
	defer sio.Log.Close()
	started := time.Now()
	p, err := r.start(c, sio, os.Getpid())
	if err != nil {
		return 0, r.failed(c, err)
	}
	code := r.attach(p, sio)
	phases.Mark("exited")
	if err := r.ended(c.ID, code); err != nil {
		return code, err
	}
	sio.Log.Close() // before a shim opens it, to restart the container
	r.handOver(c.ID, code, time.Since(started))
	return code, nil
}

// handOver gives a foreground container that its restart policy restarts
// to a shim, which restarts it detached and supervises it from then on: as
// docker's attached run returns at the first exit while its daemon
// restarts the container. A failure is a warning: the exit code stays the
// command's.
func (r *Runtime) handOver(id string, code int, ran time.Duration) {
	if _, plan := r.K.(*kernel.Plan); plan {
		return // a dry run plans one start
	}
	cur, err := r.store().load(id)
	if err != nil || !cur.RestartPolicy.restarts(code, cur.RestartCount, cur.ManuallyStopped) {
		return
	}
	c, err := r.restartAfter(cur, backoff(0, ran))
	if err == nil && c != nil {
		_, err = r.launch(c, true, false, nil, nil, nil)
	}
	if err != nil {
		r.K.Log().Warnf("container %s: its restart policy could not restart it: %v", cur.Name, err)
	}
}

// unstart undoes a start of a made container before its command ran (its
// starter died, and settle claimed it; or a stop called a restart off):
// what it held is released and the record goes back to what it was,
// exited if it had run before, else created.
func (r *Runtime) unstart(c *Config, why string) error {
	r.K.Log().Infof("container %s: %s", c.Name, why)
	if err := r.teardown(c); err != nil {
		return err
	}
	if c.Finished.IsZero() {
		// Never ran: back to create's state directory, without the /etc
		// files the start wrote (the next start writes them again) and
		// the log it opened (empty: nothing ran).
		for _, f := range etcFiles(r.Paths.StateDir(c.ID)) {
			if err := r.K.Do(kernel.RemoveAll{Path: f.Source, Reason: "the start was undone: its " + f.Target + " goes"}); err != nil {
				return err
			}
		}
		if err := r.K.Do(kernel.RemoveAll{Path: r.Paths.LogPath(c.ID), Reason: "the start was undone: the log it opened goes (nothing ran, nothing was logged)"}); err != nil {
			return err
		}
	}
	_, err := r.store().Update(c.ID, func(c *Config) error {
		c.Pid, c.PidStart, c.MonitorPid, c.MonitorStart, c.Creator, c.CreatorStart = 0, 0, 0, 0, 0, 0
		c.Status, c.Restarting = StatusCreated, false
		if !c.Finished.IsZero() {
			c.Status = StatusExited
		}
		return nil
	})
	return ignoreGone(err)
}

// endSupervision records that stop, kill or rm -f ends c's command by
// hand: its restart policy does not bring it back (docker's
// HasBeenManuallyStopped). Recorded before the signal, so that the shim
// finds it when the command exits.
func (r *Runtime) endSupervision(c *Config) error {
	if c.ManuallyStopped {
		return nil
	}
	_, err := r.store().Update(c.ID, func(c *Config) error {
		c.ManuallyStopped = true
		return nil
	})
	return ignoreGone(err)
}

// connectAgain connects c's init (pid) to its network. A container that
// had an address asks for it again, as docker keeps it across restarts,
// and takes any if that one is taken now (or no longer on the network).
func (r *Runtime) connectAgain(c *Config, pid int) (*network.EndpointInfo, error) {
	dir := r.Paths.StateDir(c.ID)
	prev := c.Networks[c.NetworkMode]
	if c.RequestedIP != "" || prev == nil || prev.IP == nil {
		return r.connectNetworkInfo(c, pid, dir)
	}
	again := *c
	again.RequestedIP = prev.IP.String()
	info, err := r.connectNetworkInfo(&again, pid, dir)
	if err != nil {
		r.K.Log().Infof("container %s: its address %s is not free any more (%v): it takes another", c.Name, prev.IP, err)
		return r.connectNetworkInfo(c, pid, dir)
	}
	return info, nil
}
