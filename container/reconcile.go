package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
	"github.com/mydocker/mydocker/network/netsetgo"
)

// The kernel draws a new random boot id at every boot. mydocker keeps the
// one it last ran under in <root>/boot_id: a different one means that the
// machine rebooted and kept the state (a --root on disk rather than the
// default tmpfs /var/run), so every process, veth, rule, cgroup and mount
// the records name died with the old boot, whatever the records say.

// procBootID is where the kernel shows this boot's id.
const procBootID = "/proc/sys/kernel/random/boot_id"

// RebootExitCode is the exit code recorded for a container a reboot
// killed: docker's (its restore marks a container whose process did not
// survive "Exited (255)"), so scripts that look for it keep working.
const RebootExitCode = 255

// bootRecord is <root>/boot_id. Its field is an on-disk format: add, never
// rename.
type bootRecord struct{ BootID string }

func (p Paths) bootIDPath() string { return filepath.Join(p.Root, "boot_id") }

// bootLock serialises the reconcile after a reboot: the commands that
// start at once after it wait for the first one, then find it done.
func (p Paths) bootLock() string { return filepath.Join(p.Root, ".boot.lock") }

// Reconcile is the check every command a user types makes first. When
// nothing rebooted it costs two reads of small files and a compare: no
// lock, no directory scan. After a reboot it records the containers
// exited and releases what they held (see rebooted); bridges and base
// chains are made again by the first run or connect that needs them.
func (r *Runtime) Reconcile() error {
	now, err := os.ReadFile(procBootID)
	if err != nil {
		// Without a boot id (no /proc?) a reboot cannot be told: say so,
		// and carry on, as every command before the boot id was kept did.
		r.K.Log().Debugf("no boot id, no reboot check: %v", err)
		return nil
	}
	boot := strings.TrimSpace(string(now))
	saved, err := r.savedBootID()
	switch {
	case err == nil && saved == boot:
		return nil
	case errors.Is(err, os.ErrNotExist):
		// A new root (or one from a mydocker that kept no boot id): its
		// containers, if any, are judged by their pids as before. Two
		// commands writing the same id at once is harmless.
		return r.recordBoot(boot)
	}
	return r.reconcileBoot(boot)
}

// savedBootID is the boot id in the root (read through the seam: a dry
// run reads what it would have written).
func (r *Runtime) savedBootID() (string, error) {
	var rec bootRecord
	if err := kernel.ReadState(r.K, r.Paths.bootIDPath(), &rec); err != nil {
		return "", err
	}
	if rec.BootID == "" {
		return "", statefile.Corrupt(r.Paths.bootIDPath(), errors.New("no BootID"))
	}
	return rec.BootID, nil
}

// reconcileBoot is the slow path: the root's boot id is unreadable or
// another boot's.
func (r *Runtime) reconcileBoot(boot string) error {
	unlock, err := statefile.Lock(r.Paths.bootLock())
	if err != nil {
		return err
	}
	defer unlock()
	saved, err := r.savedBootID() // another command may have done it meanwhile
	switch {
	case err == nil && saved == boot:
		return nil
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		// A broken boot id says nothing about the past: never guess a
		// reboot from it (that would mark live containers exited).
		r.K.Log().Warnf("%v: replacing it with this boot's id", err)
	default:
		if err := r.rebooted(saved, boot); err != nil {
			return err
		}
	}
	return r.recordBoot(boot)
}

func (r *Runtime) recordBoot(boot string) error {
	return r.K.Do(kernel.WriteState{Path: r.Paths.bootIDPath(), Value: bootRecord{BootID: boot}})
}

// rebooted finishes every container the old boot left recorded as running
// or being created: recorded exited (RebootExitCode), what it held
// released (its leases, and the cgroup, veth and rules teardown would
// remove: gone already, so skipped), with --rm removed, as docker's
// restore does. netsetgo's wirings go too: their pids, even alive, are
// other processes now. Failures to release are warnings: the next rm -f
// or system prune retries them, and one stuck container must not hold
// every command back.
func (r *Runtime) rebooted(was, now string) error {
	list, err := r.store().List()
	if err != nil {
		return fmt.Errorf("after a reboot: %w", err)
	}
	r.K.Log().Warnf("the machine has rebooted since the last command (boot id %s, now %s): the containers it ran are exited (%d)",
		short(was), short(now), RebootExitCode)
	for _, c := range list {
		if c.Status == StatusExited && !c.AutoRemove || c.Status == StatusDead {
			continue // (a dead one's record cannot be updated: rm removes it)
		}
		if c.Status == StatusCreated && c.Made {
			continue // created, never started: it stays so (one being started was settled back by List)
		}
		if err := r.finish(c.ID, RebootExitCode); err != nil {
			r.K.Log().Warnf("after the reboot, container %s: %v", c.Name, err)
		}
	}
	// Leases of containers that are gone altogether.
	if err := r.networks().Reconcile(r.ContainerAlive); err != nil {
		r.K.Log().Warnf("after the reboot: %v", err)
	}
	if err := netsetgo.New(r.Paths.Root, r.K).Forget(); err != nil {
		r.K.Log().Warnf("after the reboot: %v", err)
	}
	return nil
}

// short is the first 8 characters of a boot id, enough to tell two apart.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
