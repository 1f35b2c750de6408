package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/narrate"
)

// Init is the container's first process (`mydocker init`, never run by
// hand). It is already in its new namespaces. It reads its spec, builds the
// root filesystem and pivots into it while the parent sets up its cgroup
// and network, then waits for the go signal and execs the user's command as
// pid 1. It returns only on failure, after telling the parent.
func Init(n *narrate.Narrator) error {
	// Some steps (the cgroup namespace) are per thread: keep this goroutine
	// on one thread up to the exec.
	runtime.LockOSThread()
	sync := os.NewFile(fdSync, "sync")
	unix.CloseOnExec(fdSync)
	unix.CloseOnExec(fdLog)

	var spec initSpec
	specR := os.NewFile(fdSpec, "spec")
	defer specR.Close()
	dec := json.NewDecoder(specR)
	if err := dec.Decode(&spec); err != nil {
		// The parent went away before sending it: nothing to run.
		return fmt.Errorf("read init spec: %w", err)
	}
	ini := &initProc{n: n, spec: &spec, goSignal: io.MultiReader(dec.Buffered(), specR)}
	if err := ini.run(); err != nil {
		ie := &initError{Msg: err.Error(), Code: 125}
		errors.As(err, &ie)
		json.NewEncoder(sync).Encode(ie)
		return ie
	}
	return nil
}

// InitLog is the init's log pipe: its narration joins the parent's log
// instead of the container's own output.
func InitLog() *os.File { return os.NewFile(fdLog, "log") }

type initProc struct {
	n        *narrate.Narrator
	spec     *initSpec
	goSignal io.Reader // after the spec: one byte once cgroup and network are ready
}

// awaitGo blocks until the parent says the cgroup and network are ready. A
// parent that dies first closes the pipe without a word: then the command
// must not run (it would run without its network).
func (i *initProc) awaitGo() error {
	if i.n.DryRun() {
		return nil // a dry run has no parent to wait for
	}
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(i.goSignal, b); err != nil {
			return errors.New("the parent went away before the go signal")
		}
		switch b[0] {
		case goByte:
			return nil
		case '\n': // the end of the spec's JSON line
		default:
			return fmt.Errorf("unexpected %q instead of the go signal", b[0])
		}
	}
}

// in renders a command run inside the container's namespaces, as the host sees it.
func (i *initProc) in(flags string, args ...string) string {
	return fmt.Sprintf("nsenter -t %d %s %s", i.spec.HostPid, flags, narrate.Quote(args...))
}

func (i *initProc) run() error {
	s := i.spec
	if err := i.setupRootfs(); err != nil {
		return err
	}
	if s.Tty {
		if i.n.DryRun() {
			i.n.Say(i.consoleStep())
		} else if err := i.setupConsole(); err != nil {
			return err
		}
	}
	if err := i.n.Do("Set the container's hostname in its own UTS namespace",
		i.in("-u", "hostname", s.Hostname),
		func() error { return unix.Sethostname([]byte(s.Hostname)) }); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	if err := i.awaitGo(); err != nil {
		return err
	}
	if s.CgroupNS {
		if err := i.n.Do("Enter a new cgroup namespace, so the container sees its own cgroup as the root",
			i.in("-m -u -i -n -p", "unshare", "--cgroup"),
			func() error { return unix.Unshare(unix.CLONE_NEWCGROUP) }); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	env := s.Env
	wd := s.WorkDir
	if wd == "" {
		wd = "/"
	}
	if i.n.DryRun() {
		// Nothing is mounted: look the command up in the image itself.
		path, err := lookPathIn(s.Lower, s.Cmd[0], env)
		if _, statErr := os.Stat(s.Lower); err != nil && statErr != nil {
			path = s.Cmd[0] // the image is not built yet: it cannot tell
		} else if err != nil {
			return err
		}
		i.n.Say(execWhy, i.in("-a", append([]string{"--wd=" + wd, path}, s.Cmd[1:]...)...))
		return nil
	}
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return fmt.Errorf("create working directory %s: %w", wd, err)
	}
	if err := os.Chdir(wd); err != nil {
		return fmt.Errorf("change to working directory %s: %w", wd, err)
	}
	path, err := lookPath(s.Cmd[0], env)
	if err != nil {
		return err
	}
	i.n.Say(execWhy, i.in("-a", append([]string{"--wd=" + wd, path}, s.Cmd[1:]...)...))
	err = unix.Exec(path, s.Cmd, env)
	code := 126
	if errors.Is(err, unix.ENOENT) {
		code = 127
	}
	return &initError{Msg: fmt.Sprintf("exec %s: %v", s.Cmd[0], err), Code: code}
}

const execWhy = "Replace the init with the container's command: it becomes pid 1"

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
