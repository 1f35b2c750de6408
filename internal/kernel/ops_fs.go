package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func init() {
	existsBy["dir"] = statKind(func(fi os.FileInfo) bool { return fi.IsDir() })
	existsBy["file"] = statKind(func(fi os.FileInfo) bool { return !fi.IsDir() })
}

// statKind answers whether a path exists as the kind wants it.
func statKind(ok func(os.FileInfo) bool) func(*Exec, Object) (bool, error) {
	return func(_ *Exec, o Object) (bool, error) {
		if o.In != 0 {
			return false, fmt.Errorf("kernel: cannot look inside the mount namespace of pid %d for %s", o.In, o.Name)
		}
		fi, err := os.Lstat(o.Name)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil && ok(fi), err
	}
}

// Mkdir is `mkdir -p -m MODE PATH`: a directory that is a mount point, a
// mount source or a cgroup. One that exists already is left alone.
type Mkdir struct {
	Path   string
	Mode   os.FileMode // 0: 0755
	Reason string
}

func (m Mkdir) mode() os.FileMode {
	if m.Mode == 0 {
		return 0o755
	}
	return m.Mode
}

func (m Mkdir) Why() string { return m.Reason }
func (m Mkdir) Command() Command {
	argv := []string{"mkdir", "-p"}
	if m.mode() != 0o755 {
		argv = append(argv, "-m", fmt.Sprintf("%o", m.mode()))
	}
	return Command{Argv: append(argv, m.Path)}
}
func (m Mkdir) Apply(*Exec) error {
	if err := os.MkdirAll(m.Path, m.mode()); err != nil {
		return err
	}
	return os.Chmod(m.Path, m.mode()) // MkdirAll's mode is filtered by the umask
}
func (m Mkdir) Effects() []Effect {
	return []Effect{Ensures(Object{Kind: "dir", Name: filepath.Clean(m.Path)})}
}

// WriteFile is `echo VALUE > PATH`; the file is rewritten in place (its
// inode kept: a bind mount of it shows the new content) (for content of several lines,
// `printf 'CONTENT' > PATH`, its newlines and tabs escaped; for none,
// `truncate -s 0 PATH`): a file written in one write(2), as a cgroup
// interface file or a sysctl needs, or a file the container sees
// (/etc/hosts). The file's directory exists.
type WriteFile struct {
	Path    string
	Content string
	Reason  string
	Create  bool // create the file (mode 0644) if missing; a cgroup file never is
}

func (w WriteFile) Why() string { return w.Reason }
func (w WriteFile) Command() Command {
	if w.Content == "" {
		// (echo '' would write a newline.)
		return Command{Argv: []string{"truncate", "-s", "0", w.Path}}
	}
	line := strings.TrimSuffix(w.Content, "\n")
	if !strings.Contains(line, "\n") && !strings.HasPrefix(line, "-") {
		// A one-line value (a cgroup file, a sysctl): the kernel takes it
		// with or without echo's newline.
		return Command{Shell: []string{"echo", line, ">", w.Path}}
	}
	// Several lines: printf's format, on one line (\n, \t), so the step
	// reads as one line in the log and pastes as one.
	format := strings.NewReplacer(`\`, `\\`, "%", "%%", "\n", `\n`, "\t", `\t`).Replace(w.Content)
	if strings.HasPrefix(format, "-") {
		return Command{Shell: []string{"printf", "--", format, ">", w.Path}}
	}
	return Command{Shell: []string{"printf", format, ">", w.Path}}
}
func (w WriteFile) Apply(*Exec) error {
	flags := os.O_WRONLY | os.O_TRUNC
	if w.Create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(w.Path, flags, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(w.Content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Rmdir removes an empty directory (a cgroup, a mount point); gone already
// is fine.
type Rmdir struct {
	Path   string
	Reason string
}

func (r Rmdir) Why() string      { return r.Reason }
func (r Rmdir) Command() Command { return Command{Argv: []string{"rmdir", r.Path}} }
func (r Rmdir) Apply(*Exec) error {
	if err := os.Remove(r.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
func (r Rmdir) Effects() []Effect {
	return []Effect{Clears(Object{Kind: "dir", Name: filepath.Clean(r.Path)})}
}
