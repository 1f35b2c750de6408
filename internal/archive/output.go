package archive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"
)

// ErrTerminal refuses a tarball for a terminal: it would only garble it.
var ErrTerminal = errors.New("refusing to write a tar to a terminal: give -o FILE, or redirect stdout")

// WriteOut gives write the file out (created or replaced, mode 0644), or
// stdout when out is "" (refused if it is a terminal): `save`, `export` and
// `image export`'s -o. The file appears under its name only once complete:
// a failed or killed write leaves no half archive there.
func WriteOut(out string, stdout *os.File, write func(io.Writer) error) error {
	if out == "" {
		if term.IsTerminal(int(stdout.Fd())) {
			return ErrTerminal
		}
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
