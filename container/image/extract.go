package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/mydocker/mydocker/internal/archive"
)

// extracted is what an unpack found: the whiteouts and opaque directories
// it left for whiteoutOps (archive.Extract lists them, relative to the
// layer), and the bytes of its files.
type extracted archive.Result

// extractBlob unpacks a layer blob (gzip, zstd or plain tar) into dir and
// checks that the tar's sha256 is diffID. The blob is read once: its
// digest was checked when it was stored, and the diffID is taken on the
// way (the library's tarball.LayerFromOpener would decompress it a second
// time to compute both first). Decompression runs ahead of the extraction,
// on the other core: inflating and creating files overlap.
func extractBlob(blob, dir string, diffID v1.Hash) (*extracted, error) {
	f, err := os.Open(blob)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := uncompressed(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", blob, err)
	}
	defer tr.Close()
	h := sha256.New()
	r := readAhead(io.TeeReader(tr, h))
	defer r.Close()
	res, err := archive.Extract(r, dir, archive.Options{Whiteouts: true})
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // tar's trailing padding counts too
		return nil, fmt.Errorf("read layer: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID.Hex {
		return nil, fmt.Errorf("digest mismatch: the layer's tar has sha256 %s, its config says %s", got, diffID.Hex)
	}
	return (*extracted)(res), nil
}

// uncompressed is the tar in a layer blob: gzip and zstd by their magic
// numbers, anything else as it is.
func uncompressed(br *bufio.Reader) (io.ReadCloser, error) {
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// readAhead reads r in a goroutine, a few chunks ahead of its reader;
// Close stops it.
func readAhead(r io.Reader) io.ReadCloser {
	a := &ahead{chunks: make(chan chunk, 8), done: make(chan struct{})}
	go func() {
		defer close(a.chunks)
		for {
			b := make([]byte, 128<<10)
			n, err := io.ReadFull(r, b)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case a.chunks <- chunk{b[:n], err}:
			case <-a.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

type chunk struct {
	b   []byte
	err error
}

type ahead struct {
	chunks chan chunk
	done   chan struct{}
	cur    []byte
	err    error
}

func (a *ahead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		c, ok := <-a.chunks
		if !ok {
			return 0, io.ErrClosedPipe
		}
		a.cur, a.err = c.b, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

func (a *ahead) Close() error {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
	return nil
}
