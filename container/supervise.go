package container

import (
	"errors"
	"os"
	"time"
)

// supervise is the shim's watch over a running container, p its init:
// each time the command exits, the exit is recorded and what it held
// released (finish), then its restart policy decides, as docker's
// restart manager does: a restart waits the back-off (ps: "Restarting"),
// during which stop, kill or rm -f call it off, then starts the container
// again with the same id, layer and networks. A start that fails counts
// as an exit of its own.
func (r *Runtime) supervise(c *Config, p *initProcess, sio *shimIO) error {
	var wait time.Duration
	for {
		started := time.Now()
		r.waitQuiet(c, p, sio) // (hands the wait off while it is quiet: shimhandoff.go)
		code := waitServed(p, sio)
		sio.close()
		for {
			if err := r.finish(c.ID, code); err != nil {
				if errors.Is(err, ErrNotExist) {
					return nil
				}
				return err
			}
			cur, err := r.store().load(c.ID)
			if err != nil || !cur.RestartPolicy.restarts(code, cur.RestartCount, cur.ManuallyStopped) {
				return nil // (removed, or not to restart)
			}
			wait = backoff(wait, time.Since(started))
			if c, err = r.restartAfter(cur, wait); err != nil || c == nil {
				return err
			}
			started = time.Now()
			// Each run its own log writer and attach socket, as the first
			// (the clients attached to the last run saw its exit).
			if sio, err = r.shimStdio(c); err == nil {
				if p, err = r.start(c, sio.stdio, os.Getpid()); err == nil {
					sio.serve(p)
					break
				}
				sio.close()
			}
			if errors.Is(err, ErrStopped) || errors.Is(err, ErrNotExist) {
				return ignoreGone(r.unstart(c, "stopped while it restarted: it stays exited"))
			}
			r.K.Log().Warnf("container %s: restart: %v", c.Name, err)
			code = ExitCodeOf(err)
		}
	}
}

// restartAfter records that container c is restarting (RestartCount one
// more), waits delay, and claims its start; nil (and no error) if stop,
// kill or rm -f called the restart off meanwhile.
func (r *Runtime) restartAfter(c *Config, delay time.Duration) (*Config, error) {
	c, err := r.store().Update(c.ID, func(c *Config) error {
		c.Restarting, c.RestartCount = true, c.RestartCount+1
		return nil
	})
	if err != nil {
		return nil, ignoreGone(err)
	}
	r.K.Log().Infof("container %s: exited (%d): its restart policy %s restarts it in %v (restart %d)",
		c.Name, c.ExitCode, c.RestartPolicy.Name, delay, c.RestartCount)
	called := func() bool {
		cur, err := r.store().load(c.ID)
		return err != nil || cur.ManuallyStopped
	}
	if waitUntil(called, delay) {
		_, err := r.store().Update(c.ID, func(c *Config) error { c.Restarting = false; return nil })
		return nil, ignoreGone(err)
	}
	id := c.ID
	c, err = r.claimStart(id, true, true)
	if errors.Is(err, ErrStopped) {
		_, err := r.store().Update(id, func(c *Config) error { c.Restarting = false; return nil })
		return nil, ignoreGone(err)
	}
	if err != nil {
		return nil, ignoreGone(err)
	}
	r.letContainer(c)
	return c, nil
}

// ignoreGone is err, except a container removed meanwhile, which is no
// error to the one that watched it.
func ignoreGone(err error) error {
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	return err
}
