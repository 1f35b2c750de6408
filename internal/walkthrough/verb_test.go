package walkthrough

import (
	"os/exec"
	"path/filepath"
	"testing"
)

func TestHasVerb(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mydocker")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Skipf("cannot build mydocker here: %v\n%s", err, out)
	}
	r := &Runner{Binary: bin}
	if !r.HasVerb("network") || !r.HasVerb("run") {
		t.Fatal("network and run are verbs")
	}
	if r.HasVerb("no-such-verb") {
		t.Fatal("no-such-verb is not")
	}
}
