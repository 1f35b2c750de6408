package container

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/kernel"
)

// consoleOp is setupConsole, as the init's step. A shell has no way to
// make a terminal the controlling terminal of another process, nor to
// send a file descriptor: its command is a comment.
type consoleOp struct{ kernel.At }

func (consoleOp) Why() string {
	return "open a terminal in the container's own devpts and make it the command's controlling terminal"
}
func (c consoleOp) Command() kernel.Command {
	return kernel.Command{Comment: "the init opens /dev/pts/ptmx, takes the new /dev/pts/N as stdin, stdout, stderr and controlling terminal (setsid, TIOCSCTTY), and sends the master to mydocker"}
}
func (consoleOp) Apply(*kernel.Exec) error { return setupConsole() }

// setupConsole makes the command's terminal: a pty of the container's own
// devpts (so `tty` says /dev/pts/0 inside), its slave as stdin, stdout,
// stderr and controlling terminal of the init's own session, and its master sent to
// the parent, which copies between it and the user's terminal.
func setupConsole() error {
	sock := os.NewFile(fdConsole, "console")
	defer sock.Close()
	var slaveName string
	err := func() error {
		master, err := os.OpenFile("/dev/pts/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer master.Close()
		if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlock pty: %w", err)
		}
		n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
		if err != nil {
			return fmt.Errorf("pty number: %w", err)
		}
		slaveName = fmt.Sprintf("/dev/pts/%d", n)
		slave, err := os.OpenFile(slaveName, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			return err
		}
		defer slave.Close()
		// The init was started in a session of its own (startInit); a
		// process that is not yet a session leader makes one first.
		if sid, _ := unix.Getsid(0); sid != unix.Getpid() {
			if _, err := unix.Setsid(); err != nil {
				return fmt.Errorf("setsid: %w", err)
			}
		}
		if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
			return fmt.Errorf("set controlling terminal: %w", err)
		}
		for fd := 0; fd < 3; fd++ {
			if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
				return err
			}
		}
		rights := unix.UnixRights(int(master.Fd()))
		return unix.Sendmsg(int(sock.Fd()), []byte{0}, rights, nil, 0)
	}()
	if err != nil {
		return fmt.Errorf("set up the container's terminal: %w", err)
	}
	return nil
}
