package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/internal/archive"
	"github.com/mydocker/mydocker/internal/kernel"
)

// The store's own steps, as kernel ops: each says why, renders the shell
// command that does the same, and does it.

// blobOp writes a blob under its digest: into a temp file named by the
// writer's pid, its sha256 checked, then renamed. A blob already there was
// checked when it was written, and is not fetched again.
type blobOp struct {
	Path   string
	Digest v1.Hash
	Open   func() (io.ReadCloser, error)
	// Fetch is the command that gets the blob into a file (Fetch(tmp)); nil
	// when it comes from mydocker's memory (a manifest it was given).
	Fetch func(tmp string) kernel.Command
	// Saved, if set, is a file that holds the blob already (a manifest
	// that curl saved): it is checked and moved into place.
	Saved  string
	Reason string
	n      int64 // makes the temp file's name unique in this process
}

var blobSeq atomic.Int64

func newBlobOp(b blobOp) blobOp {
	b.n = blobSeq.Add(1)
	return b
}

// tmp is the temp file: the writer's pid first, for removeDeadTemps.
func (b blobOp) tmp() string {
	return filepath.Join(filepath.Dir(b.Path), fmt.Sprintf(".tmp-%d-%d-%s", os.Getpid(), b.n, b.Digest.Hex))
}

func (b blobOp) Why() string { return b.Reason }

// ErrorPrefix names the blob, not the curl line that fetches it.
func (b blobOp) ErrorPrefix() string { return "blob " + b.Digest.String() }
func (b blobOp) Command() kernel.Command {
	if b.Saved != "" {
		return kernel.Command{Shell: []string{"echo", b.Digest.Hex + "  " + b.Saved, "|", "sha256sum", "-c", "--quiet",
			"&&", "mv", b.Saved, b.Path}}
	}
	if b.Fetch == nil {
		return kernel.Command{Comment: "mydocker writes it to " + b.Path + " and checks that its sha256 is " + b.Digest.Hex}
	}
	c := b.Fetch(b.tmp())
	if len(c.Argv) == 0 {
		return c
	}
	sh := append(append([]string{}, c.Argv...), "&&", "echo", b.Digest.Hex+"  "+b.tmp(), "|", "sha256sum", "-c", "--quiet",
		"&&", "mv", b.tmp(), b.Path)
	return kernel.Command{Shell: sh}
}
func (b blobOp) Effects() []kernel.Effect {
	return []kernel.Effect{kernel.Ensures(kernel.Object{Kind: "file", Name: b.Path})}
}
func (b blobOp) Apply(*kernel.Exec) error {
	if err := os.MkdirAll(filepath.Dir(b.Path), 0o700); err != nil {
		return err
	}
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp := b.tmp()
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), rc)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != b.Digest.Hex {
		err = fmt.Errorf("digest mismatch: the content's sha256 is %x, not %s (a tampered or corrupt blob)", h.Sum(nil), b.Digest.Hex)
	}
	if err == nil {
		err = os.Rename(tmp, b.Path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	if b.Saved != "" {
		os.Remove(b.Saved) // moved, in the command's terms
	}
	return err
}

// memBlob opens bytes held in memory.
func memBlob(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// unpackOp extracts a layer's tar into Dir (a temp directory), as
// `tar -x` does, safely (see extract); the whiteouts it meets are left for
// whiteoutOps, which it lists in Out.
type unpackOp struct {
	Blob   string
	Dir    string
	DiffID v1.Hash
	Reason string
	Out    *extracted
}

func (u unpackOp) Why() string { return u.Reason }
func (u unpackOp) Command() kernel.Command {
	return kernel.Command{Shell: []string{"mkdir", "-p", u.Dir, "&&", "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
		"-xpf", u.Blob, "-C", u.Dir}}
}
func (u unpackOp) Apply(*kernel.Exec) error {
	if err := os.MkdirAll(u.Dir, 0o755); err != nil {
		return err
	}
	out, err := extractBlob(u.Blob, u.Dir, u.DiffID)
	if err != nil {
		return err
	}
	*u.Out = *out
	return nil
}

// whiteoutOp turns `.wh.NAME` into overlay's whiteout, a 0/0 character
// device NAME; Opaque turns `.wh..wh..opq` into trusted.overlay.opaque=y
// on its directory. (extract never wrote the .wh. file; tar -x would have.)
type whiteoutOp struct {
	Dir, Name string // the directory and the deleted name in it
	Opaque    bool
}

func (w whiteoutOp) Why() string {
	if w.Opaque {
		return "an opaque directory: it hides what lower layers hold there"
	}
	return "a whiteout: this layer deletes " + w.Name
}
func (w whiteoutOp) Command() kernel.Command {
	if w.Opaque {
		return kernel.Command{Shell: []string{"rm", "-f", filepath.Join(w.Dir, archive.OpaqueMarker), "&&",
			"setfattr", "-n", "trusted.overlay.opaque", "-v", "y", w.Dir}}
	}
	return kernel.Command{Shell: []string{"rm", "-f", filepath.Join(w.Dir, ".wh."+w.Name), "&&",
		"mknod", filepath.Join(w.Dir, w.Name), "c", "0", "0"}}
}
func (w whiteoutOp) Apply(*kernel.Exec) error {
	if w.Opaque {
		return unix.Lsetxattr(w.Dir, "trusted.overlay.opaque", []byte("y"), 0)
	}
	p := filepath.Join(w.Dir, w.Name)
	if err := os.RemoveAll(p); err != nil { // a layer may also hold what it deletes
		return err
	}
	return unix.Mknod(p, unix.S_IFCHR, 0)
}

// renameOp is `mv FROM TO`: a whole layer into place, or out of it before
// it is removed (so a half-removed layer is never used).
type renameOp struct {
	From, To, Reason string
}

func (r renameOp) Why() string { return r.Reason }
func (r renameOp) Command() kernel.Command {
	return kernel.Command{Argv: []string{"mv", "-T", r.From, r.To}}
}
func (r renameOp) Apply(*kernel.Exec) error {
	return os.Rename(r.From, r.To)
}
