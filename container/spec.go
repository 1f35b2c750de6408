package container

import (
	"github.com/mydocker/mydocker/cinit"
	"github.com/mydocker/mydocker/container/security"
)

// initSpec is what the init does: the parent makes the init's steps of it
// (initOps) and sends them, as a program (initprog.go), over its pipe as
// soon as it has started: the command never travels in argv. One
// joinedByte follows on the same pipe once the init is in its cgroup, then
// one goByte once the network is ready too: the go signal.
type initSpec struct {
	// Vars are the variables of a --log-format script (see script.go);
	// StateDir is the container's state directory.
	Vars     [][2]string
	StateDir string
	ID       string
	HostPid  int // the init's pid as the host sees it, for the narrated nsenter commands
	Lower    string
	Upper    string
	Work     string
	Merged   string
	Volumes  []volume
	EtcFiles []etcFile // files of the state dir bind-mounted over /etc/...
	Hostname string
	Env      []string
	Cmd      []string
	WorkDir  string
	// CgroupNS makes the container's own cgroup the root of its view; the
	// init unshares it after the parent placed it in that cgroup.
	CgroupNS bool
	Tty      bool // make a terminal in the container's devpts for the command
	Init     bool `json:",omitempty"` // --init: exec mydocker-init, the command its child

	// LowerFrom is the directory Lower's relative layer links are mounted
	// from ("" for a flat image, whose Lower is absolute).
	LowerFrom string `json:",omitempty"`

	// Security is the container's confinement (nil: none, as a spec from an
	// older mydocker), its compiled seccomp program included: the init's
	// program carries it as it is (initprog.go).
	Security *security.Config `json:",omitempty"`
	ReadOnly bool             `json:",omitempty"` // --read-only
	Tmpfs    []tmpfsMount     `json:",omitempty"` // --tmpfs
	// HostDevices are the host's device nodes, for a privileged container.
	HostDevices []*security.Device `json:",omitempty"`
	// Cgroups are the host's cgroup hierarchies, mounted read-only under
	// the container's /sys/fs/cgroup once it is in its cgroup namespace.
	Cgroups []hierarchy `json:",omitempty"`
}

// goByte is the go signal; joinedByte says the init is in its cgroup.
const (
	goByte     = cinit.Go
	joinedByte = cinit.Joined
)

// volume is a -v or --mount bind or volume as the init binds it.
type volume struct {
	Mount
	File bool // the source is a file: its mount point is an empty file
	// CopyUp: an empty volume, filled with the image's files at its path
	// before it is mounted (copyUpOp).
	CopyUp bool `json:",omitempty"`
}

type etcFile struct {
	Source string // in the state dir
	Target string // e.g. /etc/hosts
}

// initError is why the init could not exec the command, as the parent
// tells it from the init's report (stepError).
type initError struct {
	Msg  string
	Code int // 126 cannot invoke, 127 not found, 125 otherwise
}

func (e *initError) Error() string { return e.Msg }

// ExitCode makes `mydocker run` exit as docker does for this failure.
func (e *initError) ExitCode() int { return e.Code }

// The init process's extra files, by fd number.
const (
	fdSpec    = 3 // read: the program (initprog.go), then the parent's signal bytes
	fdReport  = 4 // write: the init's reports (cinit.Report), closed by the exec
	fdConsole = 5 // with a tty: a socket to send the pty master on
)

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
