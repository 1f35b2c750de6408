package container

import "github.com/mydocker/mydocker/internal/kernel"

// consoleOp makes the command's terminal, as the init's step (cinit.c's
// opConsole): a pty of the container's own devpts (so `tty` says
// /dev/pts/0 inside), its slave as stdin, stdout, stderr and controlling
// terminal of the init's own session, and its master sent to the parent,
// which copies between it and the user's terminal. A shell has no way to
// make a terminal the controlling terminal of another process, nor to send
// a file descriptor: its command is a comment.
type consoleOp struct{ kernel.At }

func (consoleOp) Why() string {
	return "open a terminal in the container's own devpts and make it the command's controlling terminal"
}
func (c consoleOp) Command() kernel.Command {
	return kernel.Command{Comment: "the init opens /dev/pts/ptmx, takes the new /dev/pts/N as stdin, stdout, stderr and controlling terminal (setsid, TIOCSCTTY), and sends the master to mydocker"}
}
func (consoleOp) Apply(*kernel.Exec) error { return kernel.ErrInInit }
