package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/container/image/imagetest"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Benchmarks, side by side in one run (as root; not timed tests):
//
//	go test -run XXX -bench . -benchtime 5x ./container/image/
//
// Pull: an image of 4 layers of 200 files of 32 KB (25 MB; the hex of random
// bytes, so gzip halves it)
// from the in-process registry on 127.0.0.1, into an empty store, every
// layer unpacked; against `skopeo copy docker://REF oci:DIR` plus a
// `tar -x` of each layer (the anchor). Unpack: `mydocker load` of
// the same image saved as a docker archive, against `tar -xz` of its layers.

// benchImage is the 4-layer image.
func benchImage(b *testing.B) v1.Image {
	b.Helper()
	var layers []v1.Layer
	for l := 0; l < 4; l++ {
		entries := []imagetest.Entry{{Name: fmt.Sprintf("l%d/", l)}}
		for f := 0; f < 200; f++ {
			body := make([]byte, 16<<10)
			rand.Read(body)
			entries = append(entries, imagetest.Entry{Name: fmt.Sprintf("l%d/f%03d", l, f), Body: hex.EncodeToString(body), Mode: 0o644})
		}
		layers = append(layers, imagetest.Layer(b, entries...))
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func quietStore(b *testing.B, dir string) *Store {
	log := logrus.New()
	log.Level = logrus.WarnLevel
	return NewStore(filepath.Join(dir, "image"), kernel.NewNarrating(log))
}

func BenchmarkPull(b *testing.B) {
	img := benchImage(b)
	ref := imagetest.Registry(b) + "/bench:v1"
	imagetest.Push(b, ref, img)
	b.Run("mydocker", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := quietStore(b, b.TempDir()).Pull(context.Background(), ref); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("skopeo+tar", func(b *testing.B) {
		if _, err := exec.LookPath("skopeo"); err != nil {
			b.Skip("skopeo is not installed (Debian: skopeo)")
		}
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			oci := filepath.Join(dir, "oci")
			if out, err := exec.Command("skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://"+ref, "oci:"+oci).CombinedOutput(); err != nil {
				b.Fatalf("skopeo copy: %v %s", err, out)
			}
			untarOCI(b, oci, filepath.Join(dir, "root"))
		}
	})
}

// untarOCI extracts every layer blob of an OCI layout into root, as tar -x.
func untarOCI(b *testing.B, oci, root string) {
	b.Helper()
	blobs, _ := filepath.Glob(filepath.Join(oci, "blobs", "sha256", "*"))
	os.MkdirAll(root, 0o755)
	for _, blob := range blobs {
		if fi, err := os.Stat(blob); err != nil || fi.Size() < 64<<10 {
			continue // the manifest and config
		}
		if out, err := exec.Command("tar", "-xzf", blob, "-C", root).CombinedOutput(); err != nil {
			b.Fatalf("tar -x %s: %v %s", blob, err, out)
		}
	}
}

func BenchmarkUnpack(b *testing.B) {
	img := benchImage(b)
	dir := b.TempDir()
	archive := filepath.Join(dir, "bench.tar")
	tag, err := name.NewTag("bench:v1")
	if err != nil {
		b.Fatal(err)
	}
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		b.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	// The same gzipped layers, for tar -xz.
	var tars [][]byte
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		tars = append(tars, buf.Bytes())
	}
	b.Run("mydocker-load", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := quietStore(b, b.TempDir()).Load(archive, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tar-xz", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			root := b.TempDir()
			for _, t := range tars {
				cmd := exec.Command("tar", "-xz", "-C", root)
				cmd.Stdin = bytes.NewReader(t)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("tar -x: %v %s", err, out)
				}
			}
		}
	})
}
