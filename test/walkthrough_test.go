package test

import (
	"strings"
	"testing"

	"github.com/mydocker/mydocker/internal/testns"
	"github.com/mydocker/mydocker/internal/walkthrough"
)

// The chapters of doc/walkthrough, and README's tour, show what mydocker does today: each is
// run again (in fresh namespaces, as `make docs` does) and must give the
// same text after normalisation. A chapter that needs a verb this mydocker
// lacks (netsetgo, before its branch is merged) is skipped.
func TestWalkthroughMatchesTheDoc(t *testing.T) {
	testns.RequireRoot(t)
	chapters, err := walkthrough.Chapters("../doc/walkthrough", "../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(chapters) == 0 {
		t.Fatal("no chapters in doc/walkthrough")
	}
	r := &walkthrough.Runner{Binary: binary}
	for _, c := range chapters {
		c := c
		t.Run(c.Path[strings.LastIndex(c.Path, "/")+1:], func(t *testing.T) {
			if missing := r.Missing(c); len(missing) > 0 {
				t.Skipf("this mydocker has no %s verb: the chapter is not generated yet", strings.Join(missing, ", "))
			}
			d, err := r.Check(c)
			if err != nil {
				t.Fatal(err)
			}
			if d != "" {
				t.Fatalf("%s no longer matches what mydocker does (run `make docs` and read the diff):\n%s", c.Path, d)
			}
		})
	}
}
