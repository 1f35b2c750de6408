package container

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/container/shimwait"
	"github.com/mydocker/mydocker/internal/kernel"
)

// fdReady is the shim's pipe to `run -d`: one JSON shimReport, then EOF.
const fdReady = 3

type shimReport struct {
	OK   bool
	Msg  string `json:",omitempty"`
	Code int    `json:",omitempty"`
}

// startShimOp starts the shim of a detached container (spawnShim). Its
// error, the container's failure to start as the shim reports it, is left
// in err, as the user should read it. In a plan, it plans what the shim
// would do: start the container.
type startShimOp struct {
	r   *Runtime
	c   *Config
	err error
}

func (o *startShimOp) Why() string {
	return "a detached container is watched by a small shim process: it starts the container (the steps below), records its exit and releases what it held"
}
func (o *startShimOp) Command() kernel.Command {
	return kernel.Command{Comment: "mydocker starts `mydocker shim " + ShortID(o.c.ID) + "` in a session of its own"}
}
func (o *startShimOp) Apply(*kernel.Exec) error {
	o.err = o.r.spawnShim(o.c)
	return nil
}
func (o *startShimOp) Plan(p *kernel.Plan) error {
	_, err := o.r.with(p).start(o.c, stdio{Tty: o.c.Tty}, DryRunPid)
	return err
}

// spawnShim starts `mydocker shim ID` in a session of its own and waits
// until it reports that the command runs (or why it does not). The shim
// outlives us: it waits for the container, records its exit and cleans up.
func (r *Runtime) spawnShim(c *Config) error {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       append([]string{"mydocker"}, append(r.globalArgs(), "shim", c.ID)...),
		Env:        shimEnv(os.Environ()),
		Dir:        "/",
		Stderr:     os.Stderr, // the narration of the start goes to our caller
		ExtraFiles: []*os.File{readyW},
		// Its own session: ^C in our terminal, or our exit, does not reach it.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	inheritNothing() // it outlives us: it must not hold what our caller gave us (a terminal, an ssh pipe)
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("start shim: %w", err)
	}
	var rep shimReport
	data, _ := io.ReadAll(readyR)
	if jerr := json.Unmarshal(data, &rep); jerr != nil {
		cmd.Wait()
		return fmt.Errorf("the shim of container %s exited before the container started", c.Name)
	}
	cmd.Process.Release()
	if !rep.OK {
		return &initError{Msg: rep.Msg, Code: rep.Code}
	}
	return nil
}

// Shim runs a detached container: it starts it with its output going to
// container.log and to the clients of its attach socket (see
// attachserve.go), reports to `run -d`, then waits for it and cleans up.
func (r *Runtime) Shim(id string) error {
	if held, ok := os.LookupEnv(shimwait.Env); ok {
		return r.resumeShim(id, held) // back from its waiter
	}
	ready := os.NewFile(fdReady, "ready")
	unix.CloseOnExec(fdReady)
	report := func(rep shimReport) {
		json.NewEncoder(ready).Encode(rep)
		ready.Close()
	}
	// The shim answers for the container from now on: if `run -d` dies
	// while the shim starts it, the creation is not taken for abandoned.
	// It takes over only from its own `run -d` (its parent, still alive):
	// once that died, the next command undoes the creation (settle.go).
	runD := os.Getppid()
	c, err := r.store().Update(id, func(c *Config) error {
		if c.Creator != runD || c.MonitorPid != 0 {
			return fmt.Errorf("container %s: its `mydocker run -d` is gone: not started", c.Name)
		}
		c.MonitorPid, c.MonitorStart = self()
		return nil
	})
	if err != nil {
		report(shimReport{Msg: err.Error(), Code: 125})
		return reported(err)
	}
	sio, err := r.shimStdio(c)
	if err != nil {
		report(shimReport{Msg: err.Error(), Code: 125})
		return reported(err)
	}
	defer sio.close()
	p, err := r.start(c, sio.stdio, os.Getpid())
	if err != nil {
		report(shimReport{Msg: err.Error(), Code: ExitCodeOf(err)})
		return reported(err)
	}
	sio.serve(p)
	report(shimReport{OK: true})
	// From here on nobody reads our stderr: keep what we log (the
	// teardown's narration) beside the container's state.
	if f, err := os.OpenFile(r.Paths.ShimLogPath(c.ID), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640); err == nil {
		unix.Dup3(int(f.Fd()), 2, 0)
		f.Close()
	}
	return r.supervise(c, p, sio)
}

// waitServed waits for the container's command to exit, its terminal's
// output copied to the log and the attached clients, tells them the exit
// code, and returns it.
func waitServed(p *initProcess, sio *shimIO) int {
	copied := make(chan struct{})
	if p.pty != nil {
		go func() { copyTerminal(tee(sio.Log, "stdout", sio.Attached.stream("stdout")), p.pty); close(copied) }()
	} else {
		close(copied)
	}
	code := p.wait()
	<-copied
	sio.Attached.exit(code)
	return code
}

// reportedError is a failure the shim has reported to `run -d`, which
// prints it: the shim exits with its code and says nothing (main prints
// no error whose text is empty), so it is told once.
type reportedError struct{ code int }

func (e reportedError) Error() string { return "" }
func (e reportedError) ExitCode() int { return e.code }

func reported(err error) error { return reportedError{ExitCodeOf(err)} }
