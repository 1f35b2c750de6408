package container

import "time"

// initAlive reports whether c's init still lives, for settle. An init
// whose container was never released (created: its owner died before the
// go signal) can never run its command: it exits as soon as it finds its
// parent's pipe closed, but its exit (its namespaces and mounts torn down,
// its zombie reaped by whoever adopted it) takes a few milliseconds, more
// on a loaded machine, and a command that settled in the meantime would
// leave the record as the kill left it. So settle gives such an init a
// moment to go. It is not killed: after a reboot the recorded pid may be
// another process's.
func (c *Config) initAlive() bool {
	if !processAlive(c.Pid, c.PidStart) {
		return false
	}
	if c.Status != StatusCreated {
		return true
	}
	for deadline := time.Now().Add(250 * time.Millisecond); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if !processAlive(c.Pid, c.PidStart) {
			return false
		}
	}
	return true
}
