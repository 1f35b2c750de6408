package test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// system prune as docker's: dangling images go too; with -a every image
// no container uses (the store's and the flat ones); the warning and the
// summary in docker's words.
func TestSystemPruneImages(t *testing.T) {
	e := newEnv(t)
	ref := e.pulledApp(imagetest.Registry(t) + "/app:v1")
	old := strings.TrimSpace(e.ok("images", "--format", "{{.ID}}", ref))
	// The tag moves to a new image: the old one is dangling.
	imagetest.Push(t, ref, imagetest.App(t, "2"))
	e.ok("-q", "pull", ref)
	e.ok("-q", "run", "-d", "--name", "keep", "--net", "none", "busybox", "sleep", "100")
	e.ok("-q", "image", "import", t.TempDir(), "unusedroot")

	out := e.answering(t, "n", "system", "prune", "-a")
	if !strings.Contains(out, "WARNING! This will remove:\r\n  - all stopped containers\r\n  - all networks not used by at least one container\r\n"+
		"  - all images without at least one container associated to them\r\n") || !strings.Contains(out, "\r\n\r\nAre you sure you want to continue? [y/N]") {
		t.Errorf("system prune -a asks:\n%q", out)
	}

	out = e.ok("system", "prune", "-f")
	if !regexp.MustCompile(`(?s)^Deleted Images:\ndeleted: sha256:` + old + `[0-9a-f]{52}\n\n.*Total reclaimed space: [1-9][0-9.]*k?B\n$`).MatchString(out) {
		t.Errorf("system prune -f, with a dangling image:\n%s", out)
	}
	if imgs := e.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(imgs, "/app:v1\n") || !strings.Contains(imgs, "unusedroot:latest\n") {
		t.Errorf("system prune without -a removed tagged images:\n%s", imgs)
	}

	out = e.ok("system", "prune", "-a", "-f")
	if !regexp.MustCompile(`(?s)^Deleted Images:\nuntagged: [^\n]*/app:v1\ndeleted: sha256:[0-9a-f]{64}\ndeleted: unusedroot\n\n.*Total reclaimed space: `).MatchString(out) {
		t.Errorf("system prune -a -f:\n%s", out)
	}
	if imgs := e.ok("images", "--format", "{{.Repository}}"); imgs != "busybox\n" {
		t.Errorf("after system prune -a, images (busybox is in use): %q", imgs)
	}
	if out := e.ok("system", "prune", "-a", "-f"); out != "Total reclaimed space: 0B\n" {
		t.Errorf("a second system prune -a: %q", out)
	}
	e.ok("-q", "rm", "-f", "keep")
}
