package container

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/narrate"
)

// stdio says where a container's standard streams go.
type stdio struct {
	In       *os.File // nil: /dev/null
	Out, Err *os.File
	Tty      bool // give the container a pty; Out gets what it prints, In (if any) is typed into it
}

// initProcess is a started `mydocker init`, blocked before the go signal.
type initProcess struct {
	cmd     *exec.Cmd
	specW   *os.File
	syncR   *os.File
	logDone chan struct{}
	pty     *os.File // the master side, with a tty
}

// Pid is the init's pid as the host sees it.
func (p *initProcess) Pid() int { return p.cmd.Process.Pid }

// startInit starts `mydocker init` in new namespaces. It blocks on its
// spec pipe until release, so the caller can place it in its cgroup and
// network first.
func (r *Runtime) startInit(c *Config, sio stdio) (*initProcess, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, err
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		syncR.Close()
		syncW.Close()
		return nil, err
	}
	childEnds := []*os.File{specR, syncW, logW}
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()

	flags := uintptr(unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWIPC)
	nsArgs := []string{"unshare", "--uts", "--pid", "--mount", "--ipc"}
	if c.NetworkMode != NetworkHost {
		flags |= unix.CLONE_NEWNET
		nsArgs = append(nsArgs, "--net")
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       append([]string{"mydocker"}, append(r.globalArgs(), "init")...),
		Env:        []string{}, // the command's environment travels in the spec
		Dir:        "/",
		ExtraFiles: childEnds, // fds 3, 4, 5: see fdSpec, fdSync, fdLog
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: flags,
		},
	}
	p := &initProcess{cmd: cmd, specW: specW, syncR: syncR, logDone: make(chan struct{})}
	var slave *os.File
	if sio.Tty {
		p.pty, slave, err = pty.Open()
		if err != nil {
			specW.Close()
			syncR.Close()
			logR.Close()
			return nil, fmt.Errorf("allocate a pty: %w", err)
		}
		defer slave.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		// A session of its own with the pty as controlling terminal: job
		// control and ^C work inside the container.
		cmd.SysProcAttr.Setsid = true
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 0
	} else {
		cmd.Stdout, cmd.Stderr = sio.Out, sio.Err
		if sio.In != nil {
			cmd.Stdin = sio.In
		}
	}
	exe, _ := os.Executable()
	nsArgs = append(nsArgs, "--fork", exe, "init")
	err = r.N.Do("Start the container's init process in new UTS, PID, mount, IPC and network namespaces; it waits for the go signal on a pipe",
		narrate.Quote(nsArgs...), cmd.Start)
	if err != nil {
		specW.Close()
		syncR.Close()
		logR.Close()
		if p.pty != nil {
			p.pty.Close()
		}
		return nil, fmt.Errorf("start container init: %w", err)
	}
	// The init narrates its steps on its log pipe; they join ours.
	go func() {
		defer close(p.logDone)
		defer logR.Close()
		io.Copy(r.logOut(), logR)
	}()
	return p, nil
}

// release sends the spec (the go signal) and waits until the init has
// exec'd the command (the sync pipe closes empty) or failed (it says why).
func (p *initProcess) release(spec *initSpec) error {
	err := json.NewEncoder(p.specW).Encode(spec)
	p.specW.Close()
	data, _ := io.ReadAll(p.syncR)
	p.syncR.Close()
	<-p.logDone
	if len(strings.TrimSpace(string(data))) > 0 {
		ie := &initError{}
		if jerr := json.Unmarshal(data, ie); jerr != nil {
			return fmt.Errorf("container init failed: %s", data)
		}
		return ie
	}
	if err != nil {
		return fmt.Errorf("send the container its spec: %w", err)
	}
	return nil
}

// abort kills an init that never got its go signal, and reaps it.
func (p *initProcess) abort() {
	p.specW.Close()
	p.syncR.Close()
	p.cmd.Process.Kill()
	p.cmd.Wait()
	<-p.logDone
	if p.pty != nil {
		p.pty.Close()
	}
}

// wait reaps the init and returns the container's exit code, as a shell
// reports it: the status, or 128+signal.
func (p *initProcess) wait() int {
	err := p.cmd.Wait()
	st, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		if err != nil {
			return 255
		}
		return 0
	}
	if st.Signaled() {
		return 128 + int(st.Signal())
	}
	return st.ExitStatus()
}
