package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Busybox is the built-in image: a flat image built from the host's static
// busybox the first time it is asked for, so the demo and the tests need
// no registry.
const Busybox = "busybox"

// hostBusyboxPaths are where Debian's busybox-static puts its binary.
var hostBusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// buildBusyboxOp builds the busybox image (mydocker's own data, no kernel
// object: its command is a comment). A plan only says so.
type buildBusyboxOp struct {
	f   Flat
	dir string
}

func (buildBusyboxOp) Why() string {
	return "the image busybox does not exist yet: build it from the host's static busybox"
}
func (b buildBusyboxOp) Command() kernel.Command {
	return kernel.Command{Comment: "mydocker fills " + b.dir + " with the host's busybox and a link for each of its applets"}
}
func (b buildBusyboxOp) Plan(*kernel.Plan) error { return nil }
func (b buildBusyboxOp) Apply(*kernel.Exec) error {
	// Another mydocker may build it at the same time: whoever comes second
	// finds it made.
	if err := b.f.buildBusybox(); err != nil && !errors.Is(err, errExists) {
		return err
	}
	return nil
}

func (f Flat) buildBusybox() error {
	var bb string
	for _, p := range hostBusyboxPaths {
		if _, err := os.Stat(p); err == nil {
			bb = p
			break
		}
	}
	if bb == "" {
		return errors.New("the host has no busybox: install Debian's busybox-static (apt-get install busybox-static)")
	}
	// A dynamically linked busybox would need the host's libc in the image.
	if out, err := exec.Command("ldd", bb).CombinedOutput(); err == nil && !strings.Contains(string(out), "not a dynamic") && !strings.Contains(string(out), "statically linked") {
		return fmt.Errorf("%s is dynamically linked: install busybox-static", bb)
	}
	list, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", bb, err)
	}
	return f.create(Busybox, func(tmp string) error {
		for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "root", "home", "var", "tmp", "run"} {
			if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
				return err
			}
		}
		if err := os.Chmod(filepath.Join(tmp, "tmp"), 0o1777|os.ModeSticky); err != nil {
			return err
		}
		if err := copyFile(bb, filepath.Join(tmp, "bin/busybox"), 0o755); err != nil {
			return err
		}
		for _, applet := range strings.Fields(string(list)) {
			if applet == "bin/busybox" {
				continue
			}
			link := filepath.Join(tmp, applet)
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				return err
			}
			if err := os.Symlink("/bin/busybox", link); err != nil && !os.IsExist(err) {
				return err
			}
		}
		files := map[string]string{
			"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
			"etc/group":  "root:x:0:\ntty:x:5:\nnobody:x:65534:\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(tmp, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// copyFile copies a regular file's content to a new file dst.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
