package kernel

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/procfs"
)

func init() {
	existsBy["mount"] = mountExists
	existsBy["node"] = statIn(func(fi os.FileInfo) bool { return fi.Mode()&os.ModeDevice != 0 })
	existsBy["symlink"] = statIn(func(fi os.FileInfo) bool { return fi.Mode()&os.ModeSymlink != 0 })
}

// procRoot is where the files of pid's mount namespace are seen from here:
// /proc/PID/root/... (pid 0: the host's, as they are).
func procRoot(pid int, path string) string {
	if pid == 0 {
		return path
	}
	return "/proc/" + strconv.Itoa(pid) + "/root" + path
}

// statIn answers whether a path exists as the kind wants it, in the mount
// namespace of o.In, looked up through /proc/PID/root. A pid that does not
// exist (a plan's stand-in for a process not started) holds nothing: false,
// not an error.
func statIn(ok func(os.FileInfo) bool) func(*Exec, Object) (bool, error) {
	return func(_ *Exec, o Object) (bool, error) {
		if o.In != 0 {
			if _, err := os.Stat("/proc/" + strconv.Itoa(o.In)); errors.Is(err, os.ErrNotExist) {
				return false, nil
			}
		}
		fi, err := os.Lstat(procRoot(o.In, o.Name))
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil && ok(fi), err
	}
}

// mountExists answers whether something is mounted on o.Name in the mount
// namespace of o.In, from /proc/PID/mountinfo (paths as that process sees
// them, relative to its root). A pid that does not exist (a plan's stand-in)
// has no mounts: false, not an error.
func mountExists(_ *Exec, o Object) (bool, error) {
	ms, err := procfs.Mounts(o.In)
	if errors.Is(err, os.ErrNotExist) && o.In != 0 {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Point == o.Name {
			return true, nil
		}
	}
	return false, nil
}

// Mount is mount(2), done by a process inside the mount namespace In names
// (the container's init, for its own mounts), rendered as mount(8) run
// there.
type Mount struct {
	At     // where it was made, for source=
	In     Where
	Source string
	Target string
	FSType string
	Flags  uintptr
	Data   string
	// Dir, if set, is the directory the mount is done from: relative
	// paths in Data (overlay's short lowerdir links) are relative to it.
	Dir    string
	Reason string
}

func (m Mount) Why() string { return m.Reason }
func (m Mount) Command() Command {
	in := m.In
	// A proc, sysfs, mqueue or cgroup instance shows the pid, network,
	// IPC or cgroup namespace of the process that mounts it: nsenter must enter that
	// one too (with -p it forks, so mount runs inside).
	if ns := fsNamespace[m.FSType]; in.Pid != 0 && ns != "" && m.Flags&(unix.MS_BIND|unix.MS_REMOUNT) == 0 {
		in.NS += " " + ns
	}
	argv := MountArgs(m.Source, m.Target, m.FSType, m.Flags, m.Data)
	if m.Dir == "" {
		return Command{In: in, Argv: argv}
	}
	if in.Pid != 0 {
		// nsenter changes to the directory once in the namespaces.
		return Command{In: in, Argv: append([]string{"--wd=" + m.Dir}, argv...)}
	}
	return Command{Shell: append([]string{"cd", m.Dir, "&&"}, argv...)}
}

// fsNamespace is nsenter's flag for the namespace a new instance of a
// filesystem type belongs to.
var fsNamespace = map[string]string{"proc": "-p", "sysfs": "-n", "mqueue": "-i", "cgroup": "-C", "cgroup2": "-C"}

func (m Mount) Apply(*Exec) error {
	if m.Dir != "" {
		// The working directory is the process's: back where it was after.
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.FSType+m.Source, m.Target, err)
		}
		if err := os.Chdir(m.Dir); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.FSType+m.Source, m.Target, err)
		}
		defer os.Chdir(wd)
	}
	if err := unix.Mount(m.Source, m.Target, m.FSType, m.Flags, m.Data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.FSType+m.Source, m.Target, err)
	}
	return nil
}

// Effects: a new mount (not a remount, which changes one that is there).
func (m Mount) Effects() []Effect {
	if m.Flags&unix.MS_REMOUNT != 0 {
		return nil
	}
	return []Effect{Makes(Object{Kind: "mount", In: m.In.Pid, Name: m.Target})}
}

// MountArgs renders mount(2) arguments as the mount(8) command line.
func MountArgs(src, target, fstype string, flags uintptr, data string) []string {
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

// MakePrivate changes the propagation of the mount at Target (and, with
// Recursive, of every mount below it) to private: mounts made after it no
// longer propagate to, or from, its peers in other mount namespaces.
type MakePrivate struct {
	At        // where it was made, for source=
	In        Where
	Target    string
	Recursive bool
	Reason    string
}

func (m MakePrivate) flags() uintptr {
	if m.Recursive {
		return unix.MS_PRIVATE | unix.MS_REC
	}
	return unix.MS_PRIVATE
}
func (m MakePrivate) Why() string { return m.Reason }
func (m MakePrivate) Command() Command {
	return Command{In: m.In, Argv: MountArgs("", m.Target, "", m.flags(), "")}
}
func (MakePrivate) Apply(*Exec) error { return ErrInInit }

// Unmount is umount(2) (with Lazy, MNT_DETACH: `umount -l`). What is not
// mounted is already as wanted: skipped.
type Unmount struct {
	In     Where
	Target string
	Lazy   bool
	Reason string
}

func (u Unmount) Why() string { return u.Reason }
func (u Unmount) Command() Command {
	argv := []string{"umount"}
	if u.Lazy {
		argv = append(argv, "-l")
	}
	return Command{In: u.In, Argv: append(argv, u.Target)}
}
func (u Unmount) Apply(*Exec) error {
	flags := 0
	if u.Lazy {
		flags = unix.MNT_DETACH
	}
	if err := unix.Unmount(u.Target, flags); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount %s: %w", u.Target, err)
	}
	return nil
}
func (u Unmount) Effects() []Effect {
	return []Effect{Clears(Object{Kind: "mount", In: u.In.Pid, Name: u.Target})}
}

// PivotRoot makes Dir the root of the mount namespace of Pid, as the
// calling process (inside it) does: chdir Dir, pivot_root(".", "."), which
// stacks the old root under the new one, then a lazy unmount of the old
// root, which leaves no way back to the host's files (chroot would).
// Replayed, the shell enters the namespace first and only then changes
// directory (nsenter --wd would open the directory before it enters).
type PivotRoot struct {
	At     // where it was made, for source=
	Pid    int
	Dir    string
	Reason string
}

func (p PivotRoot) Why() string { return p.Reason }
func (p PivotRoot) Command() Command {
	return Command{In: Mountns(p.Pid), Shell: []string{"cd", p.Dir, "&&", "pivot_root", ".", ".", "&&", "umount", "-l", "."}}
}
func (PivotRoot) Apply(*Exec) error { return ErrInInit }

// Mknod makes a character device node (`mknod -m MODE PATH c MAJOR MINOR`)
// in the mount namespace In names, as a process inside it does.
type Mknod struct {
	At           // where it was made, for source=
	In           Where
	Path         string
	Major, Minor uint32
	Mode         os.FileMode // permission bits; 0: 0666
	Reason       string
}

func (m Mknod) mode() os.FileMode {
	if m.Mode == 0 {
		return 0o666
	}
	return m.Mode
}
func (m Mknod) Why() string { return m.Reason }
func (m Mknod) Command() Command {
	return Command{In: m.In, Argv: []string{"mknod", "-m", fmt.Sprintf("%o", m.mode()), m.Path, "c",
		strconv.FormatUint(uint64(m.Major), 10), strconv.FormatUint(uint64(m.Minor), 10)}}
}
func (Mknod) Apply(*Exec) error { return ErrInInit }
func (m Mknod) Effects() []Effect {
	return []Effect{Makes(Object{Kind: "node", In: m.In.Pid, Name: m.Path})}
}

// Symlink is `ln -s TARGET PATH`, in the mount namespace In names.
type Symlink struct {
	At     // where it was made, for source=
	In     Where
	Target string // what the link points to
	Path   string
	Reason string
}

func (s Symlink) Why() string { return s.Reason }
func (s Symlink) Command() Command {
	return Command{In: s.In, Argv: []string{"ln", "-s", s.Target, s.Path}}
}
func (s Symlink) Apply(*Exec) error {
	if err := os.Symlink(s.Target, s.Path); err != nil {
		return fmt.Errorf("link %s: %w", s.Path, err)
	}
	return nil
}
func (s Symlink) Effects() []Effect {
	return []Effect{Makes(Object{Kind: "symlink", In: s.In.Pid, Name: s.Path})}
}

// MountPoint makes the directory (or, with File, the empty file) a mount
// goes on, as `mkdir -p` (or `mkdir -p DIR && touch PATH`) run in the mount
// namespace In names: both are idempotent, so the step is always said and
// done, and a replay gives the same whatever the image holds.
type MountPoint struct {
	At     // where it was made, for source=
	In     Where
	Path   string
	File   bool
	Reason string
}

func (m MountPoint) Why() string { return m.Reason }
func (m MountPoint) Command() Command {
	if !m.File {
		return Command{In: m.In, Argv: []string{"mkdir", "-p", m.Path}}
	}
	dir := m.Path[:strings.LastIndexByte(m.Path, '/')+1]
	if dir == "" {
		dir = "."
	}
	return Command{In: m.In, Shell: []string{"mkdir", "-p", strings.TrimSuffix(dir, "/"), "&&", "touch", m.Path}}
}
func (m MountPoint) Apply(*Exec) error {
	if !m.File {
		return os.MkdirAll(m.Path, 0o755)
	}
	if _, err := os.Stat(m.Path); err == nil {
		return nil
	}
	if i := strings.LastIndexByte(m.Path, '/'); i > 0 {
		if err := os.MkdirAll(m.Path[:i], 0o755); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(m.Path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
