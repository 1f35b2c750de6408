package container

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
)

// rootfsOps build the container's root filesystem in its own mount
// namespace and pivot into it. Every mount is made in that namespace, so
// all of them vanish with it: nothing to unmount on the host afterwards.
// The init does them from inside that namespace; their commands say
// `nsenter -t PID -m` for a shell on the host.
func rootfsOps(s *initSpec) []kernel.Op {
	in := kernel.Mountns(s.HostPid)
	ops := []kernel.Op{
		// Without this, mounts below would propagate back to the host
		// (systemd makes / shared), and pivot_root refuses a shared root.
		kernel.MakePrivate{At: kernel.Here(), In: in, Target: "/", Recursive: true,
			Reason: "make every mount private to the container's mount namespace, so nothing propagates back to the host"},
		// A layered image's lowerdirs are short links relative to the
		// store (Dir), as overlay2's: 128 absolute paths would not fit in
		// the page the mount options get.
		kernel.Mount{At: kernel.Here(), In: in, Source: "overlay", Target: s.Merged, FSType: "overlay", Dir: s.LowerFrom,
			Data:   fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", s.Lower, s.Upper, s.Work),
			Reason: "mount the root filesystem: the image read-only below, the container's own writable layer above"},
	}
	for _, v := range s.Volumes {
		ops = append(ops, volumeOps(in, s.Merged, v)...)
	}
	ops = append(ops, tmpfsOps(in, s.Merged, s)...)
	ops = append(ops, pseudoFSOps(in, s.Merged, s)...)
	for _, f := range s.EtcFiles {
		target := filepath.Join(s.Merged, f.Target)
		ops = append(ops,
			kernel.MountPoint{At: kernel.Here(), In: in, Path: target, File: true, Reason: fmt.Sprintf("the mount point of the container's %s", f.Target)},
			kernel.Mount{At: kernel.Here(), In: in, Source: f.Source, Target: target, Flags: unix.MS_BIND,
				Reason: fmt.Sprintf("give the container its %s, kept in its state directory so it can be updated while it runs", f.Target)})
	}
	if s.WorkDir != "" && s.WorkDir != "/" && s.Security != nil {
		// Made now, by root, as docker does: a -u user might not be
		// allowed to, and a --read-only root would refuse it later.
		ops = append(ops, kernel.MountPoint{At: kernel.Here(), In: in, Path: filepath.Join(s.Merged, s.WorkDir),
			Reason: "the command's working directory (-w), made while the init is still root and the root still writable"})
	}
	ops = append(ops, kernel.PivotRoot{At: kernel.Here(), Pid: s.HostPid, Dir: s.Merged,
		Reason: "switch the container's root to its filesystem and detach the host's root from it (pivot_root, not chroot)"})
	return append(ops, confinedPathOps(s)...)
}

// volumeOps bind a -v volume (its source made on the host beforehand, a
// directory or a file) onto its mount point in the container.
func volumeOps(in kernel.Where, merged string, m volume) []kernel.Op {
	target := filepath.Join(merged, m.Destination)
	why := fmt.Sprintf("bind the host's %s into the container at %s", m.Source, m.Destination)
	if m.Type == MountVolume {
		why = fmt.Sprintf("mount the volume %s at %s: its data directory, bound", shortVolume(m.Name), m.Destination)
	}
	ops := []kernel.Op{
		kernel.MountPoint{At: kernel.Here(), In: in, Path: target, File: m.File, Reason: fmt.Sprintf("the mount point of the volume at %s", m.Destination)}}
	if m.CopyUp {
		ops = append(ops, copyUpOp{At: kernel.Here(), In: in, Merged: merged, m: m})
	}
	ops = append(ops,
		kernel.Mount{At: kernel.Here(), In: in, Source: m.Source, Target: target, Flags: unix.MS_BIND | unix.MS_REC, Reason: why})
	if m.ReadOnly {
		// A bind mount ignores MS_RDONLY on creation: remount to apply it.
		ops = append(ops, kernel.Mount{At: kernel.Here(), In: in, Target: target, Flags: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY,
			Reason: fmt.Sprintf("make the volume at %s read-only", m.Destination)})
	}
	return ops
}

// pseudoFSOps give the container its own /proc (of its pid namespace), a
// /sys mounted read-only (read-write when privileged), and a /dev of its
// own with only the usual device nodes and its --device ones.
func pseudoFSOps(in kernel.Where, root string, s *initSpec) []kernel.Op {
	const nosuid = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	steps := []struct {
		why, src, target, fstype string
		flags                    uintptr
		data                     string
	}{
		{"mount a /proc that shows only the container's pid namespace", "proc", "/proc", "proc", nosuid, ""},
		// Only with CAP_SYS_ADMIN (--privileged, --cap-add) could root in
		// the container remount it read-write.
		{"mount /sys read-only: the host's devices and kernel settings there can be read, not changed", "sysfs", "/sys", "sysfs", nosuid | unix.MS_RDONLY, ""},
		{"give the container a /dev of its own, on a small tmpfs", "tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"mount a private devpts instance for the container's terminals", "devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"mount /dev/shm for POSIX shared memory", "shm", "/dev/shm", "tmpfs", nosuid, "mode=1777,size=65536k"},
		{"mount /dev/mqueue for the container's own IPC namespace", "mqueue", "/dev/mqueue", "mqueue", nosuid, ""},
	}
	if s.privileged() {
		steps[1].why, steps[1].flags = "mount /sys read-write (--privileged): the container may change the host's devices and kernel settings there", nosuid
	}
	var ops []kernel.Op
	for _, st := range steps {
		target := filepath.Join(root, st.target)
		ops = append(ops,
			kernel.MountPoint{At: kernel.Here(), In: in, Path: target, Reason: "the mount point of " + st.target},
			kernel.Mount{At: kernel.Here(), In: in, Source: st.src, Target: target, FSType: st.fstype, Flags: st.flags, Data: st.data, Reason: st.why})
		if st.target == "/dev" {
			ops = append(ops, deviceOps(in, target)...)
			ops = append(ops, deviceNodeOps(in, root, s)...)
		}
	}
	return ops
}

var devices = []struct {
	name         string
	major, minor uint32
	why          string
}{
	{"null", 1, 3, "/dev/null: reads as empty, swallows what is written"},
	{"zero", 1, 5, "/dev/zero: reads as endless zero bytes"},
	{"full", 1, 7, "/dev/full: every write fails with ENOSPC, for programs that test it"},
	{"random", 1, 8, "/dev/random: bytes from the kernel's random generator"},
	{"urandom", 1, 9, "/dev/urandom: the same generator, the node most programs open"},
	{"tty", 5, 0, "/dev/tty: the controlling terminal of whichever process opens it"},
}

var devLinks = []struct{ target, name, why string }{
	{"/proc/self/fd", "fd", "/dev/fd: the open files of whichever process looks"},
	{"/proc/self/fd/0", "stdin", "/dev/stdin: its standard input"},
	{"/proc/self/fd/1", "stdout", "/dev/stdout: its standard output"},
	{"/proc/self/fd/2", "stderr", "/dev/stderr: its standard error"},
	{"pts/ptmx", "ptmx", "/dev/ptmx: new terminals come from the container's own devpts instance"},
	{"/proc/kcore", "core", "/dev/core: the link to /proc/kcore that docker makes too"},
}

// deviceOps fill the container's /dev: the device nodes every program
// expects, and the links to /proc and to its devpts.
func deviceOps(in kernel.Where, dev string) []kernel.Op {
	var ops []kernel.Op
	for _, d := range devices {
		ops = append(ops, kernel.Mknod{At: kernel.Here(), In: in, Path: filepath.Join(dev, d.name), Major: d.major, Minor: d.minor, Reason: d.why})
	}
	for _, l := range devLinks {
		ops = append(ops, kernel.Symlink{At: kernel.Here(), In: in, Target: l.target, Path: filepath.Join(dev, l.name), Reason: l.why})
	}
	return ops
}
