package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/container/reaper"
	"github.com/mydocker/mydocker/internal/kernel"
)

// initSteps does the init's steps through k: in a dry run, the plan,
// which narrates and models them (a real init does them in C, from the
// program initprog.go makes of the same list). One list, one place:
// initOps.
func initSteps(k kernel.Kernel, s *initSpec) error {
	return k.Do(initOps(s)...)
}

// initOps are the steps of the init of spec s, in order: its root
// filesystem (mounts, /dev, the /etc files, pivot_root), its terminal, its
// hostname; once the parent has placed it in its cgroup (the joined
// signal), its own cgroup namespace; once its network
// is ready too (the go signal), its confinement and the exec of the
// command, last.
func initOps(s *initSpec) []kernel.Op {
	ops := rootfsOps(s)
	if s.Tty {
		ops = append(ops, consoleOp{kernel.Here()})
	}
	ops = append(ops,
		kernel.Sethostname{At: kernel.Here(), Pid: s.HostPid, Name: s.Hostname, Reason: "set the container's hostname in its own UTS namespace"})
	if s.CgroupNS {
		// While the parent connects the network (or records the start).
		ops = append(ops, awaitSignal{At: kernel.Here(), want: joinedByte},
			kernel.UnshareCgroupns{At: kernel.Here(), Pid: s.HostPid,
				Reason: "enter a new cgroup namespace, so the container sees its own cgroup as the root"})
		ops = append(ops, cgroupfsOps(s)...)
	}
	ops = append(ops, awaitSignal{At: kernel.Here(), want: goByte})
	// The process's own confinement comes last: after it, the init could
	// no longer mount, and the fewer calls after seccomp the better.
	ops = append(ops, finalizeOps(s)...)
	ex := newExecOp(s)
	ex.At = kernel.Here()
	return append(ops, ex)
}

// awaitSignal blocks until the parent says the init is in its cgroup
// (joinedByte) or that its cgroup and network are ready (goByte, the go
// signal). A parent that dies first closes the pipe without a word: then
// the command must not run (it would run unlimited, or without its
// network).
type awaitSignal struct {
	kernel.At
	want byte
}

func (a awaitSignal) Why() string {
	if a.want == joinedByte {
		return "wait until mydocker has put the init in its cgroup: its cgroup namespace must start there"
	}
	return "wait for mydocker's go signal: the init is in its cgroup and on its network before the command starts"
}

func (a awaitSignal) Command() kernel.Command {
	if a.want == joinedByte {
		return kernel.Command{Comment: "the init reads its spec pipe until mydocker says it joined the cgroup"}
	}
	return kernel.Command{Comment: "the init reads its spec pipe until mydocker writes the go signal"}
}

func (awaitSignal) Apply(*kernel.Exec) error { return kernel.ErrInInit }

// execOp replaces the init with the container's command, as pid 1: the
// last step, which returns only on failure. Its command names the program
// as found in the image (a plan has nothing mounted); the init looks it up
// again in its new root.
type execOp struct {
	kernel.At
	s       *initSpec
	path    string // the program, found in the image
	lookErr error
}

func newExecOp(s *initSpec) execOp {
	path, err := lookPathIn(s.Lower, s.Cmd[0], s.Env)
	if s.LowerFrom != "" {
		// A layered image: the top-most layer that has it (whiteouts
		// aside; the init looks again in the merged root).
		for _, l := range strings.Split(s.Lower, ":") {
			if p, lerr := lookPathIn(filepath.Join(s.LowerFrom, l), s.Cmd[0], s.Env); lerr == nil {
				path, err = p, nil
				break
			}
		}
	}
	if err != nil {
		path = s.Cmd[0]
	}
	return execOp{s: s, path: path, lookErr: err}
}

func (e execOp) wd() string {
	if e.s.WorkDir == "" {
		return "/"
	}
	return e.s.WorkDir
}

func (e execOp) Why() string {
	if e.s.Init {
		return execInitWhy
	}
	return execWhy
}
func (e execOp) Command() kernel.Command {
	argv := append([]string{"--wd=" + e.wd(), e.path}, e.s.Cmd[1:]...)
	if e.s.Init {
		argv = append([]string{"--wd=" + e.wd(), reaper.Name, "--"}, e.s.Cmd...)
	}
	return kernel.Command{In: kernel.Where{Pid: e.s.HostPid, NS: "-a"}, Argv: argv, Script: goScript(e.s)}
}

// Plan refuses, as the real exec would, a command the image does not have
// (unless the image is not built yet: then it cannot tell).
func (e execOp) Plan(*kernel.Plan) error {
	if _, err := os.Stat(e.s.Lower); e.lookErr != nil && err == nil {
		return e.lookErr
	}
	return nil
}

func (execOp) Apply(*kernel.Exec) error { return kernel.ErrInInit }

const execWhy = "replace the init with the container's command: it becomes pid 1"

const execInitWhy = "--init: replace the init with mydocker-init (mydocker's own sealed binary, /proc/self/exe, not bound into the container) as pid 1:" +
	" it starts the command as its child, forwards it signals and reaps orphans"

// lookPath finds the command on the container's PATH, inside the new root.
func lookPath(cmd string, env []string) (string, error) { return lookPathIn("", cmd, env) }

// lookPathIn finds the command on the container's PATH in the tree at
// root ("" = /), following symbolic links inside that tree.
func lookPathIn(root, cmd string, env []string) (string, error) {
	executable := func(p string) error { return executable(inRoot(root, p)) }
	if strings.Contains(cmd, "/") {
		return cmd, executable(cmd)
	}
	path := strings.TrimPrefix(defaultPath, "PATH=")
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			path = e[len("PATH="):]
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, cmd); executable(p) == nil {
			return p, nil
		}
	}
	return "", &initError{Code: 127, Msg: fmt.Sprintf("exec: %q: executable file not found in $PATH", cmd)}
}

// inRoot is where path p of a tree rooted at root is on the host, its
// symbolic links resolved inside the tree (absolute targets start at root).
func inRoot(root, p string) string {
	if root == "" {
		return p
	}
	for hops := 0; hops < 40; hops++ {
		full := filepath.Join(root, p)
		target, err := os.Readlink(full)
		if err != nil {
			return full
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return filepath.Join(root, p)
}

// executable says why p cannot be exec'd, in docker's words and exit codes.
func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return &initError{Code: 127, Msg: fmt.Sprintf("exec: %q: no such file or directory", p)}
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return &initError{Code: 126, Msg: fmt.Sprintf("exec: %q: permission denied", p)}
	}
	return nil
}
