package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// setupRootfs builds the container's root filesystem in its own mount
// namespace and pivots into it. Every mount is made in that namespace, so
// all of them vanish with it: nothing to unmount on the host afterwards.
func (i *initProc) setupRootfs() error {
	s := i.spec
	// Without this, mounts below would propagate back to the host (systemd
	// makes / shared), and pivot_root refuses a shared root (EINVAL).
	if err := i.mount("Make every mount private to the container's mount namespace, so nothing propagates back to the host",
		"", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return err
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", s.Lower, s.Upper, s.Work)
	if err := i.mount("Mount the root filesystem: the image read-only below, the container's own writable layer above",
		"overlay", s.Merged, "overlay", 0, opts); err != nil {
		return err
	}
	for _, m := range s.Mounts {
		if err := i.bindVolume(m); err != nil {
			return err
		}
	}
	if err := i.setupPseudoFS(); err != nil {
		return err
	}
	for _, f := range s.EtcFiles {
		target := filepath.Join(s.Merged, f.Target)
		if err := i.ensureFile(target); err != nil {
			return fmt.Errorf("create %s: %w", f.Target, err)
		}
		if err := i.mount(fmt.Sprintf("Give the container its %s, kept in its state directory so it can be updated while it runs", f.Target),
			f.Source, target, "", unix.MS_BIND, ""); err != nil {
			return err
		}
	}
	return i.pivotRoot()
}

func (i *initProc) bindVolume(m Mount) error {
	target := filepath.Join(i.spec.Merged, m.Destination)
	if !i.n.DryRun() { // (a dry run has not made the volume's directory)
		fi, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("volume %s: %w", m.Source, err)
		}
		if fi.IsDir() {
			err = os.MkdirAll(target, 0o755)
		} else {
			err = ensureFile(target)
		}
		if err != nil {
			return fmt.Errorf("volume target %s: %w", m.Destination, err)
		}
	}
	if err := i.mount(fmt.Sprintf("Bind the host's %s into the container at %s", m.Source, m.Destination),
		m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if m.ReadOnly {
		// A bind mount ignores MS_RDONLY on creation: remount to apply it.
		return i.mount(fmt.Sprintf("Make the volume at %s read-only", m.Destination),
			"", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	return nil
}

// ensureFile makes the mount point of a file (not in a dry run).
func (i *initProc) ensureFile(p string) error {
	if i.n.DryRun() {
		return nil
	}
	return ensureFile(p)
}

func ensureFile(p string) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// setupPseudoFS gives the container its own /proc (of its pid namespace), a
// read-only /sys, and a /dev of its own with only the usual device nodes.
func (i *initProc) setupPseudoFS() error {
	root := i.spec.Merged
	const nosuid = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	steps := []struct {
		why, src, target, fstype string
		flags                    uintptr
		data                     string
	}{
		{"Mount a /proc that shows only the container's pid namespace", "proc", "/proc", "proc", nosuid, ""},
		{"Mount /sys read-only: the container may look, not change the host's devices", "sysfs", "/sys", "sysfs", nosuid | unix.MS_RDONLY, ""},
		{"Give the container a /dev of its own, on a small tmpfs", "tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"Mount a private devpts instance for the container's terminals", "devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"Mount /dev/shm for POSIX shared memory", "shm", "/dev/shm", "tmpfs", nosuid, "mode=1777,size=65536k"},
		{"Mount /dev/mqueue for the container's own IPC namespace", "mqueue", "/dev/mqueue", "mqueue", nosuid, ""},
	}
	for _, st := range steps {
		target := filepath.Join(root, st.target)
		if i.n.DryRun() {
			// nothing to make: the mount below is only narrated
		} else if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", st.target, err)
		}
		if err := i.mount(st.why, st.src, target, st.fstype, st.flags, st.data); err != nil {
			return err
		}
		if st.target == "/dev" {
			if err := i.makeDevices(target); err != nil {
				return err
			}
		}
	}
	return nil
}

var devices = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

var devLinks = [][2]string{
	{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"},
}

func (i *initProc) makeDevices(dev string) error {
	for _, d := range devices {
		p := filepath.Join(dev, d.name)
		err := i.n.Do("", i.in("-m", "mknod", "-m", "666", p, "c", strconv.Itoa(int(d.major)), strconv.Itoa(int(d.minor))), func() error {
			if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
				return err
			}
			return unix.Chmod(p, 0o666) // mknod's mode is filtered by the umask
		})
		if err != nil {
			return fmt.Errorf("mknod /dev/%s: %w", d.name, err)
		}
	}
	for _, l := range devLinks {
		p := filepath.Join(dev, l[1])
		if err := i.n.Do("", i.in("-m", "ln", "-s", l[0], p), func() error { return os.Symlink(l[0], p) }); err != nil {
			return fmt.Errorf("link /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// pivotRoot makes the merged directory the container's root. pivot_root(".",
// ".") stacks the old root under the new one; unmounting it (lazily, it is
// busy) leaves the container no way back to the host's files, which chroot
// would not guarantee.
func (i *initProc) pivotRoot() error {
	merged := i.spec.Merged
	return i.n.Do("Switch the container's root to its filesystem and detach the host's root from it (pivot_root, not chroot)",
		i.in("-m", "--wd="+merged, "sh", "-c", "pivot_root . . && umount -l ."),
		func() error {
			if err := unix.Chdir(merged); err != nil {
				return fmt.Errorf("chdir %s: %w", merged, err)
			}
			if err := unix.PivotRoot(".", "."); err != nil {
				return fmt.Errorf("pivot_root %s: %w", merged, err)
			}
			if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount old root: %w", err)
			}
			return unix.Chdir("/")
		})
}

// mount narrates and performs one mount(2) in the container's namespace.
func (i *initProc) mount(why, src, target, fstype string, flags uintptr, data string) error {
	err := i.n.Do(why, i.in("-m", mountArgs(src, target, fstype, flags, data)...), func() error {
		return unix.Mount(src, target, fstype, flags, data)
	})
	if err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype+src, target, err)
	}
	return nil
}

// mountArgs renders mount(2) arguments as the mount(8) command line.
func mountArgs(src, target, fstype string, flags uintptr, data string) []string {
	if flags&unix.MS_PRIVATE != 0 {
		if flags&unix.MS_REC != 0 {
			return []string{"mount", "--make-rprivate", target}
		}
		return []string{"mount", "--make-private", target}
	}
	var opts []string
	names := []struct {
		flag uintptr
		name string
	}{
		{unix.MS_REMOUNT, "remount"}, {unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"},
		{unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"}, {unix.MS_STRICTATIME, "strictatime"},
	}
	for _, n := range names {
		if flags&n.flag != 0 {
			opts = append(opts, n.name)
		}
	}
	if flags&unix.MS_BIND != 0 {
		if flags&unix.MS_REMOUNT != 0 {
			return []string{"mount", "-o", strings.Join(append(opts, "bind"), ","), target}
		}
		bind := "--bind"
		if flags&unix.MS_REC != 0 {
			bind = "--rbind"
		}
		return []string{"mount", bind, src, target}
	}
	if data != "" {
		opts = append(opts, data)
	}
	args := []string{"mount", "-t", fstype}
	if len(opts) > 0 {
		args = append(args, "-o", strings.Join(opts, ","))
	}
	return append(args, src, target)
}
