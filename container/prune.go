package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/procfs"
)

// PruneReport is what a prune removed (on a plan: would remove).
type PruneReport struct {
	Containers []string // ids
	Networks   []string // names
	Volumes    []string // names
	Images     []string // docker's lines: "untagged: NAME", "deleted: ID"
	// Orphans is what no record owned, one "KIND WHAT" each: "layer PATH",
	// "state directory PATH", "temp file PATH", "mount PATH", "cgroup ID",
	// and the network sweep's links, chains and rules.
	Orphans   []string
	Reclaimed int64 // bytes of the files removed
}

// orphanAge: an empty cgroup or a temp file younger than this may be a
// command's work in progress (a run about to move its init into the
// cgroup it just made, a write about to rename its temp file), possibly
// under another --root that this one's records know nothing of.
const orphanAge = time.Minute

// PruneContainers removes every stopped container, as `docker container
// prune`: created and exited ones, and those that died with nobody left
// to record it. One being created or started is its owner's, and one
// waiting to restart its shim's (see busy).
func (r *Runtime) PruneContainers(rep *PruneReport) error {
	list, err := r.store().List()
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range list {
		if c.busy() {
			continue
		}
		size := dirSize(r.Paths.LayerDir(c.ID)) + dirSize(r.Paths.StateDir(c.ID))
		if _, err := r.Remove(c.ID, false); err != nil {
			if !errors.Is(err, ErrNotExist) { // removed meanwhile: fine
				errs = append(errs, err)
			}
			continue
		}
		rep.Containers = append(rep.Containers, c.ID)
		rep.Reclaimed += size
	}
	return errors.Join(errs...)
}

// PruneNetworks is `network prune`: it frees the endpoints of containers
// that are gone, removes the networks no container uses, then sweeps the
// kernel objects of mydocker's that no network record names.
func (r *Runtime) PruneNetworks(rep *PruneReport) error {
	m := r.networks()
	if err := m.Reconcile(r.ContainerAlive); err != nil {
		return err
	}
	removed, err := m.Prune()
	rep.Networks = append(rep.Networks, removed...)
	swept, serr := m.Sweep()
	rep.Orphans = append(rep.Orphans, swept...)
	return errors.Join(err, serr)
}

// SystemPrune is `system prune`: stopped containers, unused networks,
// dangling images (allImages: every unused one), then whatever no record
// owns (pruneOrphans).
func (r *Runtime) SystemPrune(allImages bool, rep *PruneReport) error {
	return errors.Join(r.PruneContainers(rep), r.PruneNetworks(rep), r.PruneImagesReport(allImages, rep), r.pruneOrphans(rep))
}

// pruneOrphans removes what a killed command, or a reboot with --root on
// tmpfs, left with no container record to own it: mounts under the
// containers' directories, layers under --data-root, state directories
// without a config.json, temp files of interrupted atomic writes, and
// empty cgroups under mydocker/. It holds the store lock, which a run
// holds from making a state directory to writing its config.json: no
// container is half-recorded meanwhile.
func (r *Runtime) pruneOrphans(rep *PruneReport) error {
	unlock, err := r.store().lock()
	if err != nil {
		return err
	}
	defer unlock()
	owned, err := r.recorded()
	if err != nil {
		return err
	}
	// Mounts first: nothing is removed through a mount point.
	return errors.Join(r.pruneMounts(owned, rep), r.pruneDirs(owned, rep), r.pruneTemp(rep), r.pruneCgroups(owned, rep))
}

// recorded is the set of ids whose state directory holds a config.json
// (readable or not: a broken record is still a container, for rm -f).
func (r *Runtime) recorded() (map[string]bool, error) {
	ents, err := os.ReadDir(r.Paths.containersDir())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	owned := map[string]bool{}
	for _, e := range ents {
		if _, err := os.Lstat(r.Paths.configPath(e.Name())); err == nil && e.IsDir() {
			owned[e.Name()] = true
		}
	}
	return owned, nil
}

// pruneMounts unmounts, lazily and deepest first, what is mounted in this
// mount namespace under a container directory (state or layer) with no
// record. A container's own mounts live in its mount namespace: one here
// was left by a mydocker killed half way through, or made by hand.
func (r *Runtime) pruneMounts(owned map[string]bool, rep *PruneReport) error {
	mounts, err := procfs.Mounts(0)
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	var dirs []string
	for _, d := range []string{r.Paths.containersDir(), filepath.Join(r.Paths.DataRoot, "containers")} {
		dirs = append(dirs, resolved(d))
	}
	var points []string
	for _, m := range mounts {
		for _, d := range dirs {
			rel, err := filepath.Rel(d, m.Point)
			id, _, _ := strings.Cut(rel, "/")
			if err == nil && rel != "." && !strings.HasPrefix(rel, "..") && !owned[id] {
				points = append(points, m.Point)
			}
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		err := r.K.Do(kernel.Unmount{Target: p, Lazy: true,
			Reason: "a mount under a container directory that no container record owns: detach it"})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Orphans = append(rep.Orphans, "mount "+p)
	}
	return errors.Join(errs...)
}

// pruneDirs removes the layers with no record, and the state directories
// without a config.json: a run killed between the two, a removal killed
// half way, or a reboot that emptied a tmpfs --root and kept --data-root.
// A layer some container has mounted is kept, record or not: a container
// of another --root that shares this --data-root.
func (r *Runtime) pruneDirs(owned map[string]bool, rep *PruneReport) error {
	layers := filepath.Join(r.Paths.DataRoot, "containers")
	mounted := layersMounted(layers)
	var errs []error
	remove := func(dir, kind, why string, keep map[string]bool) {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || owned[e.Name()] || keep[e.Name()] {
				continue
			}
			p := filepath.Join(dir, e.Name())
			size := dirSize(p)
			if err := r.K.Do(kernel.RemoveAll{Path: p, Reason: why}); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Orphans = append(rep.Orphans, kind+" "+p)
			rep.Reclaimed += size
		}
	}
	remove(layers, "layer", "a container layer that no container record owns: remove it", mounted)
	remove(r.Paths.containersDir(), "state directory",
		"a container state directory without a config.json (its run or removal was killed half way): remove it", nil)
	return errors.Join(errs...)
}

// layersMounted are the ids of the layers under dir that an overlay
// mount uses (its upperdir) in any mount namespace: each container mounts
// its root in a namespace of its own. One mountinfo is read per namespace.
func layersMounted(dir string) map[string]bool {
	dirs := []string{filepath.Clean(dir), resolved(dir)} // as given to mount, and as the kernel may show it
	used := map[string]bool{}
	seen := map[string]bool{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", p.Name(), "ns", "mnt"))
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		mounts, _ := procfs.Mounts(pid)
		for _, m := range mounts {
			if m.FSType != "overlay" {
				continue
			}
			for _, opt := range strings.Split(m.SuperOptions, ",") {
				upper, ok := strings.CutPrefix(opt, "upperdir=")
				if !ok {
					continue
				}
				for _, d := range dirs {
					if rest, ok := strings.CutPrefix(upper, d+"/"); ok {
						id, _, _ := strings.Cut(rest, "/")
						used[id] = true
					}
				}
			}
		}
	}
	return used
}

// pruneTemp removes the temp files of atomic writes (statefile's
// .NAME.tmp-PID-DIGITS) that a killed writer left anywhere under --root
// (the next write of the same file removes them too).
func (r *Runtime) pruneTemp(rep *PruneReport) error {
	var errs []error
	err := filepath.WalkDir(resolved(r.Paths.Root), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() || !isTempName(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || time.Since(fi.ModTime()) < orphanAge {
			return nil
		}
		if err := r.K.Do(kernel.RemoveState{Path: p}); err != nil {
			errs = append(errs, err)
			return nil
		}
		rep.Orphans = append(rep.Orphans, "temp file "+p)
		rep.Reclaimed += fi.Size()
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("look for temp files under %s: %w", r.Paths.Root, err))
	}
	return errors.Join(errs...)
}

// isTempName: os.CreateTemp's name for statefile's pattern
// ".NAME.tmp-PID-*" (or ".NAME.tmp-*" of earlier versions), the * a
// string of digits.
func isTempName(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if !strings.HasPrefix(name, ".") || i < 1 {
		return false
	}
	digits := name[i+len(".tmp-"):]
	return strings.Trim(digits, "0123456789") == "" && digits != "" ||
		strings.Count(digits, "-") == 1 && strings.Trim(digits, "0123456789-") == "" && digits[0] != '-' && digits[len(digits)-1] != '-'
}

// pruneCgroups removes the cgroups under mydocker/ that no record owns,
// that nothing runs in, and that are older than orphanAge (mydocker/ is
// one for the host, shared by every --root).
func (r *Runtime) pruneCgroups(owned map[string]bool, rep *PruneReport) error {
	h, err := cgroups.DetectHost()
	if err != nil {
		return err
	}
	children, err := h.Children()
	if err != nil {
		return fmt.Errorf("list cgroups: %w", err)
	}
	var errs []error
	for _, c := range children {
		if owned[c.ID] || c.Busy || time.Since(c.Modified) < orphanAge {
			continue
		}
		m, err := h.Manager(c.ID, r.K)
		if err == nil {
			err = m.Destroy()
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Orphans = append(rep.Orphans, "cgroup "+c.ID)
	}
	return errors.Join(errs...)
}

// resolved is path as the kernel names it in mountinfo, absolute and
// without symlinks (the default /var/run is often a link to /run), or as
// given when it does not exist.
func resolved(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	return path
}

// dirSize is the size of the files under dir (0 if it is gone), for the
// space a prune reclaims.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// DiskUsage is `system df`'s table, as docker's: for images and
// containers, how many there are, how many are in use, the bytes they take
// and how many of those a prune would give back.
type DiskUsage struct {
	Images, Containers, Volumes UsageRow
}

// UsageRow is one row of DiskUsage.
type UsageRow struct {
	Total, Active     int
	Size, Reclaimable int64
}

// DiskUsage measures the images (the store's layers, counted once however
// many images share them, and the flat images) and the containers (their
// writable layers: a stopped one's is reclaimable).
func (r *Runtime) DiskUsage() (*DiskUsage, error) {
	list, err := r.store().List()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var du DiskUsage
	for _, c := range list {
		size := dirSize(filepath.Join(r.Paths.LayerDir(c.ID), "upper"))
		du.Containers.Total++
		du.Containers.Size += size
		if c.IsRunning() {
			du.Containers.Active++
		} else {
			du.Containers.Reclaimable += size
		}
		used[c.ImageID] = true
		used[c.Image] = true
	}
	flat, err := r.images().List()
	if err != nil {
		return nil, err
	}
	for _, im := range flat {
		size := dirSize(im.Path)
		du.Images.Total++
		du.Images.Size += size
		if used[im.Name] {
			du.Images.Active++
		} else {
			du.Images.Reclaimable += size
		}
	}
	stored, err := r.ImageStore().List()
	if err != nil {
		return nil, err
	}
	du.Images.Size += dirSize(filepath.Join(r.Paths.ImageStoreDir(), "layers"))
	for _, im := range stored {
		du.Images.Total++
		if used[im.ID] {
			du.Images.Active++
		} else {
			du.Images.Reclaimable += im.Size
		}
	}
	du.Images.Reclaimable = min(du.Images.Reclaimable, du.Images.Size) // shared layers count once
	du.Volumes, err = r.volumeUsage()
	return &du, err
}
