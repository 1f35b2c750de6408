package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/mydocker/mydocker/internal/archive"
)

// extracted is what an unpack found: the whiteouts and opaque directories
// it left for whiteoutOps (archive.Extract lists them, relative to the
// layer), and the bytes of its files.
type extracted archive.Result

// extractBlob unpacks a layer blob (gzip, zstd or plain tar) into dir and
// checks that the tar's sha256 is diffID.
func extractBlob(blob, dir string, diffID v1.Hash) (*extracted, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(blob) })
	if err != nil {
		return nil, err
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := sha256.New()
	r := io.TeeReader(rc, h)
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
