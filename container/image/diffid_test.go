package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// A layer whose tar is not the one its config names (every blob matches
// its own digest; the config's diff id for the top layer is another
// layer's) is refused in one line: no image, no directory for that layer,
// no temp left; the layers below, whole and checked, stay for the next
// pull, which the right image then completes.
func TestPullRefusesALayerItsConfigDoesNotName(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	good := imagetest.App(t, "1")
	cf, err := good.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[2] = cf.RootFS.DiffIDs[1]
	bad, err := mutate.ConfigFile(good, cf)
	if err != nil {
		t.Fatal(err)
	}
	imagetest.Push(t, reg+"/app:lies", bad)
	imagetest.Push(t, reg+"/app:v1", good)

	_, _, err = s.Pull(context.Background(), reg+"/app:lies")
	if err == nil || !strings.Contains(err.Error(), "digest mismatch") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("pull of an image whose config lies: %v, want one line saying digest mismatch", err)
	}
	if ents, _ := os.ReadDir(s.recordsDir()); len(ents) > 0 {
		t.Errorf("an image was recorded: %v", ents)
	}
	if _, err := s.Lookup(reg + "/app:lies"); err == nil {
		t.Error("the tag names an image")
	}
	ents, _ := os.ReadDir(s.layersDir())
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || strings.Contains(strings.Join(names, " "), ".tmp-") {
		t.Errorf("layers/ holds %v, want the two layers below, whole", names)
	}
	if tmps, _ := filepath.Glob(filepath.Join(s.Root, "blobs", "sha256", ".tmp-*")); len(tmps) > 0 {
		t.Errorf("temp blobs left: %v", tmps)
	}

	rec := pull(t, s, reg+"/app:v1")
	if len(rec.Layers) != 3 {
		t.Fatalf("the right image: %d layers", len(rec.Layers))
	}
	lower, err := s.Lowerdirs(reg + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(lower[0], "app/version")); err != nil || string(b) != "1\n" {
		t.Errorf("app/version of the right image: %q %v", b, err)
	}
}

// A layer blob that is no tar at all (its digest and diff id are right:
// the registry serves what was pushed) is refused in one line, nothing
// made of it.
func TestPullRefusesALayerThatIsNoTar(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	junk := static.NewLayer([]byte(strings.Repeat("not a tar, not gzip either. ", 40)), types.DockerLayer)
	img, err := mutate.AppendLayers(empty.Image, imagetest.Base(t), junk)
	if err != nil {
		t.Fatal(err)
	}
	imagetest.Push(t, reg+"/junk:v1", img)
	_, _, err = s.Pull(context.Background(), reg+"/junk:v1")
	if err == nil || !strings.Contains(err.Error(), "corrupt or truncated") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("pull of a layer that is no tar: %v, want one line saying so", err)
	}
	if ents, _ := os.ReadDir(s.recordsDir()); len(ents) > 0 {
		t.Errorf("an image was recorded: %v", ents)
	}
	ents, _ := os.ReadDir(s.layersDir())
	if len(ents) != 1 || strings.HasPrefix(ents[0].Name(), ".tmp-") {
		t.Errorf("layers/ holds %v, want the base layer alone", ents)
	}
}
