package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	volumes "github.com/mydocker/mydocker/container/volume"
	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/inroot"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Volumes as docker's: named ones made on first use (or by `volume
// create`), anonymous ones made for one container; a container's record
// names the volumes it mounts, and that is what "in use" means: a volume
// that any container, running or not, names cannot be removed.
//
// Lock order: the volume store's lock, then the container store's. run
// holds the first from making the volumes it needs to writing the
// container's record, and `volume rm` from reading the records to the
// removal: a volume never goes between the two.

// Volumes is the volume store, under --data-root.
func (r *Runtime) Volumes() volumes.Store {
	return volumes.Store{Dir: filepath.Join(r.Paths.DataRoot, "volumes"), K: r.K}
}

// createRecord makes the volumes c names (its anonymous ones, and named
// ones that do not exist yet), then writes its record, under the volume
// store's lock. Anonymous volumes made for a record that could not be
// written are removed again.
func (r *Runtime) createRecord(c *Config) error {
	if !hasVolumes(c) {
		return r.store().Create(c)
	}
	vs := r.Volumes()
	unlock, err := vs.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var made []string
	for i := range c.Mounts {
		m := &c.Mounts[i]
		if m.Type != MountVolume {
			continue
		}
		v := &volumes.Volume{Name: m.Name}
		if m.Anonymous {
			v.Labels = map[string]string{volumes.AnonymousLabel: ""}
		}
		v, created, err := vs.CreateLocked(v)
		if err == nil && m.Anonymous {
			made = append(made, v.Name)
		}
		if err != nil || !created && m.Anonymous {
			err = oneLine(err, fmt.Errorf("anonymous volume %s exists already", v.Name))
			return oneLine(err, r.removeVolumesLocked(made))
		}
		m.Name, m.Source = v.Name, v.Mountpoint
	}
	if err := r.store().Create(c); err != nil {
		return oneLine(err, r.removeVolumesLocked(made))
	}
	return nil
}

func hasVolumes(c *Config) bool {
	for _, m := range c.Mounts {
		if m.Type == MountVolume {
			return true
		}
	}
	return false
}

func (r *Runtime) removeVolumesLocked(names []string) error {
	var errs []error
	for _, n := range names {
		if err := r.Volumes().RemoveLocked(n); err != nil && !errors.Is(err, volumes.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return oneLine(errs...)
}

// volumeUsers are the ids of the containers whose records name volume
// name (read, not settled: the caller holds the volume store's lock,
// and a settle may remove anonymous volumes).
func (r *Runtime) volumeUsers() (map[string][]string, error) {
	list, err := r.store().scan()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range list {
		for _, m := range c.Mounts {
			if m.Type == MountVolume {
				users[m.Name] = append(users[m.Name], c.ID)
			}
		}
	}
	return users, nil
}

// RemoveVolume is `volume rm`: refused, as docker's, while a container
// (running or not) uses the volume; with force a volume that does not
// exist is no error.
func (r *Runtime) RemoveVolume(name string, force bool) error {
	err := r.removeUnused([]string{name}, true, nil)
	if force && errors.Is(err, volumes.ErrNotExist) {
		return nil
	}
	return err
}

// removeUnused removes the volumes named, under the store's lock, each
// only if no container's record names it. strict (volume rm): one in use,
// or missing, is an error; else (prune, a container's anonymous volumes)
// it is passed by. removed, if set, is told each volume removed, with the
// size of its files.
func (r *Runtime) removeUnused(names []string, strict bool, removed func(name string, size int64)) error {
	vs := r.Volumes()
	unlock, err := vs.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	users, err := r.volumeUsers()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if ids := users[n]; len(ids) > 0 {
			if strict {
				errs = append(errs, fmt.Errorf("remove %s: %w - [%s]", n, volumes.ErrInUse, strings.Join(ids, ", ")))
			}
			continue
		}
		var size int64
		if v, err := vs.Get(n); err == nil && removed != nil {
			size = v.Size()
		}
		if err := vs.RemoveLocked(n); err != nil {
			if strict || !errors.Is(err, volumes.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if removed != nil {
			removed(n, size)
		}
	}
	return oneLine(errs...)
}

// VolumeRow is a volume as `volume ls` and `volume inspect` show it.
type VolumeRow struct {
	*volumes.Volume
	Dangling bool // no container uses it
}

// ListVolumes lists the volumes, each with whether a container uses it.
func (r *Runtime) ListVolumes() ([]VolumeRow, error) {
	list, err := r.Volumes().List()
	if err != nil {
		return nil, err
	}
	users, err := r.volumeUsers()
	if err != nil {
		return nil, err
	}
	out := make([]VolumeRow, len(list))
	for i, v := range list {
		out[i] = VolumeRow{Volume: v, Dangling: len(users[v.Name]) == 0}
	}
	return out, nil
}

// PruneVolumes is `volume prune`: the volumes no container uses, only the
// anonymous ones unless all (docker ≥ 23).
func (r *Runtime) PruneVolumes(all bool, rep *PruneReport) error {
	list, err := r.Volumes().List()
	if err != nil {
		return err
	}
	var names []string
	for _, v := range list {
		if all || v.Anonymous() {
			names = append(names, v.Name)
		}
	}
	return r.removeUnused(names, false, func(name string, size int64) {
		rep.Volumes = append(rep.Volumes, name)
		rep.Reclaimed += size
	})
}

// RemoveWithVolumes is `rm -v`: the container, then its anonymous volumes.
func (r *Runtime) RemoveWithVolumes(ref string, force bool) (*Config, error) {
	c, err := r.Remove(ref, force)
	if err != nil || c == nil {
		return c, err
	}
	return c, r.removeAnonymous(c)
}

// removeAnonymous removes the anonymous volumes of c, whose record is
// gone: those no other container uses (none should).
func (r *Runtime) removeAnonymous(c *Config) error {
	var names []string
	for _, m := range c.Mounts {
		if m.Type == MountVolume && m.Anonymous {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return r.removeUnused(names, false, nil)
}

// volumeUsage is `system df`'s Local Volumes row: every volume, those a
// container uses, and the size of the others, which a prune -a reclaims.
func (r *Runtime) volumeUsage() (UsageRow, error) {
	var u UsageRow
	list, err := r.ListVolumes()
	if err != nil {
		return u, err
	}
	for _, v := range list {
		size := v.Size()
		u.Total++
		u.Size += size
		if v.Dangling {
			u.Reclaimable += size
		} else {
			u.Active++
		}
	}
	return u, nil
}

// mountSpecs adds c's -v and --mount mounts to the init's spec: binds
// (a missing -v source made, as docker), volumes (their data directory
// made again if it went; an empty one to be filled from the image), and
// tmpfs mounts, mounted as --tmpfs ones.
func (r *Runtime) mountSpecs(c *Config, spec *initSpec) error {
	for _, m := range c.Mounts {
		switch m.Type {
		case MountTmpfs:
			t, err := parseTmpfs(m.Destination + ":" + m.TmpfsOptions)
			if err != nil {
				return err
			}
			spec.Tmpfs = append(spec.Tmpfs, t)
			continue
		case MountVolume:
			if err := r.K.Do(kernel.Mkdir{Path: m.Source, Reason: fmt.Sprintf("the data directory of the volume %s: missing, so made again", m.Name)}); err != nil {
				return fmt.Errorf("volume %s: %w", m.Name, err)
			}
			// (Not there yet is empty too: a plan's volume, to be made.)
			ents, err := os.ReadDir(m.Source)
			empty := err == nil && len(ents) == 0 || errors.Is(err, fs.ErrNotExist)
			spec.Volumes = append(spec.Volumes, volume{Mount: m, CopyUp: empty && !m.NoCopy})
			continue
		}
		// A missing source is made, a directory, as docker does.
		if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) {
			if err := r.K.Do(kernel.Mkdir{Path: m.Source, Reason: "the volume's source on the host: missing, so made"}); err != nil {
				return fmt.Errorf("create volume directory %s: %w", m.Source, err)
			}
		}
		fi, err := os.Stat(m.Source)
		spec.Volumes = append(spec.Volumes, volume{Mount: m, File: err == nil && !fi.IsDir()})
	}
	return nil
}

// InspectMount is one of inspect's .Mounts, as docker's.
type InspectMount struct {
	Type        string
	Name        string `json:",omitempty"`
	Source      string
	Destination string
	Driver      string `json:",omitempty"`
	Mode        string
	RW          bool
	Propagation string
}

func inspectMounts(c *Config) []InspectMount {
	out := []InspectMount{}
	for _, m := range c.Mounts {
		im := InspectMount{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: !m.ReadOnly}
		switch m.Type {
		case MountVolume:
			im.Driver = volumes.Driver
		case MountTmpfs:
		default:
			im.Type, im.Propagation = MountBind, "rprivate"
		}
		out = append(out, im)
	}
	return out
}

// copyUpOp fills an empty volume with what the image has at its path,
// as docker does, before the volume is mounted over it: the init does it
// in its mount namespace, the root filesystem mounted, the volume's data
// directory still reachable on the host's paths. The image's directory is
// found with its symbolic links resolved inside the root filesystem, so an
// image cannot point it at the host's files.
type copyUpOp struct {
	kernel.At
	In     kernel.Where
	Merged string // the container's root filesystem
	m      volume
}

func (o copyUpOp) Why() string {
	return fmt.Sprintf("the volume %s is empty: fill it with what the image has at %s (files, owners, modes), as docker does", shortVolume(o.m.Name), o.m.Destination)
}

func (o copyUpOp) Command() kernel.Command {
	return kernel.Command{In: o.In, Argv: []string{"cp", "-a", filepath.Join(o.Merged, o.m.Destination) + "/.", o.m.Source + "/"}}
}

func (o copyUpOp) Apply(*kernel.Exec) error {
	src, err := inroot.Resolve(o.Merged, o.m.Destination)
	if err != nil {
		return nil // the image has nothing there: the volume stays empty
	}
	fi, err := os.Lstat(src)
	if err != nil || !fi.IsDir() {
		return nil
	}
	if ents, err := os.ReadDir(o.m.Source); err != nil || len(ents) > 0 {
		return err // filled meanwhile by another container: kept as it is
	}
	if err := archive.CopyTree(src, o.m.Source); err != nil {
		return fmt.Errorf("fill volume %s from the image's %s: %w", o.m.Name, o.m.Destination, err)
	}
	// The directory's own owner and mode too, as docker copies them.
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Lchown(o.m.Source, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return os.Chmod(o.m.Source, fi.Mode().Perm()|fi.Mode()&(os.ModeSticky|os.ModeSetgid|os.ModeSetuid))
}

// shortVolume is a volume's name as narration shows it: a random 64-hex
// name cut to 12, as ids are.
func shortVolume(name string) string {
	if len(name) == 64 {
		return name[:12]
	}
	return name
}
