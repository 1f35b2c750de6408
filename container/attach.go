package container

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// attach connects the caller's terminal to a foreground container until it
// exits, and returns its exit code. Signals sent to mydocker go on to the
// container, as docker's --sig-proxy does.
func (r *Runtime) attach(p *initProcess, sio stdio) int {
	if p.plan != nil {
		return p.wait() // a stand-in: nothing runs
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == syscall.SIGWINCH {
				if p.pty != nil && sio.In != nil {
					pty.InheritSize(sio.In, p.pty)
				}
				continue
			}
			p.cmd.Process.Signal(s)
		}
	}()
	if p.pty == nil {
		return p.wait()
	}
	if sio.In != nil && term.IsTerminal(int(sio.In.Fd())) {
		pty.InheritSize(sio.In, p.pty)
		// Raw mode: keys go to the container's terminal as typed (^C, ^D,
		// arrows), and it does the echoing.
		if old, err := term.MakeRaw(int(sio.In.Fd())); err == nil {
			defer term.Restore(int(sio.In.Fd()), old)
		}
	}
	if sio.In != nil {
		go io.Copy(p.pty, sio.In)
	}
	copied := make(chan struct{})
	go func() {
		io.Copy(sio.Out, p.pty) // ends with EIO once the last holder of the pty exits
		close(copied)
	}()
	code := p.wait()
	<-copied
	p.pty.Close()
	return code
}
