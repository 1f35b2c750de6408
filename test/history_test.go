package test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// history IMAGE, as docker's: the config's steps newest first, the image's
// id on the newest and <missing> below, each layer's size; a commit adds
// a step.
func TestImageHistory(t *testing.T) {
	e := newEnv(t)
	ref := e.pulledApp(imagetest.Registry(t) + "/app:v1")
	id := strings.TrimSpace(e.ok("images", "-q", ref))
	out := e.ok("history", ref)
	if !regexp.MustCompile(`^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n` + id + ` +\S.*\n(<missing> +.*\n)+$`).MatchString(out) {
		t.Errorf("history %s:\n%s", ref, out)
	}
	e.ok("-q", "run", "--name", "c", "--net", "none", "-u", "0", ref, "echo hi > /new")
	e.ok("-q", "commit", "c", "app2")
	out = e.ok("image", "history", "--format", "{{.Size}}|{{.CreatedBy}}", "app2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "3B|") {
		t.Errorf("image history of a commit: the new step first, its layer /new (3 bytes):\n%s", out)
	}
	if q := e.ok("history", "-q", "app2"); !strings.HasSuffix(q, "<missing>\n") || strings.Count(q, "\n") != len(lines) {
		t.Errorf("history -q: %q", q)
	}
	e.ok("-q", "image", "import", t.TempDir(), "flat1")
	e.fails("is a flat image", "history", "flat1")
	e.fails("no such image", "history", "nosuch")
	e.ok("-q", "rm", "c")
}

// pulledApp pushes imagetest's app image (version 1) as ref, to a registry
// of the test's own, and pulls it.
func (e *env) pulledApp(ref string) string {
	e.t.Helper()
	imagetest.Push(e.t, ref, imagetest.App(e.t, "1"))
	e.ok("-q", "pull", ref)
	return ref
}
