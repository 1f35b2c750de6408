package narrate

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func testLogger() (*logrus.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(TextFormatter{})
	l.AddHook(&SourceHook{Pid: 42})
	return l, &buf
}

func TestDoNarratesThenDoes(t *testing.T) {
	l, buf := testLogger()
	var rec []string
	n := New(l).WithRecorder(func(why, cmd string) { rec = append(rec, cmd) })
	did := false
	err := n.Do("Create the bridge", "ip link add br0 type bridge", func() error { did = true; return nil })
	if err != nil || !did {
		t.Fatalf("Do: %v, did=%v", err, did)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "INFO // Create the bridge ") || !strings.HasPrefix(lines[1], "INFO $ ip link add br0 type bridge ") {
		t.Fatalf("narration:\n%s", out)
	}
	// pid and source come last; source points at this test, not at the seam.
	if !strings.HasSuffix(lines[1], `pid=42 source="narrate/narrate_test.go:26"`) {
		t.Fatalf("fields: %q", lines[1])
	}
	if len(rec) != 1 || rec[0] != "ip link add br0 type bridge" {
		t.Fatalf("recorded %v", rec)
	}
	want := errors.New("boom")
	if err := n.Do("", "false", func() error { return want }); err != want {
		t.Fatalf("Do returned %v", err)
	}
}

func TestDryRunOnlyNarrates(t *testing.T) {
	l, buf := testLogger()
	n := New(l).WithDryRun(true)
	if err := n.Do("why", "rm -rf /", func() error { t.Fatal("dry run performed the step"); return nil }); err != nil {
		t.Fatal(err)
	}
	if !n.DryRun() || !strings.Contains(buf.String(), "$ rm -rf /") {
		t.Fatalf("dry run narration: %s", buf.String())
	}
}

func TestQuote(t *testing.T) {
	got := Quote("sh", "-c", "pivot_root . . && umount -l .", "", "it's", "a=b,c/d:1")
	want := `sh -c 'pivot_root . . && umount -l .' '' 'it'\''s' a=b,c/d:1`
	if got != want {
		t.Fatalf("Quote = %s\nwant    %s", got, want)
	}
}

func TestSubstituteRewritesNarratedLines(t *testing.T) {
	l, buf := testLogger()
	var rec []string
	n := New(l).WithDryRun(true).WithSubstitute("4194304", "$PID").WithRecorder(func(why, cmd string) { rec = append(rec, cmd) })
	if err := n.Do("move pid 4194304", "nsenter -t 4194304 -n ip link", func() error { t.Fatal("dry run did it"); return nil }); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "// move pid $PID") || !strings.Contains(out, "$ nsenter -t $PID -n ip link") {
		t.Fatalf("not substituted:\n%s", out)
	}
	if len(rec) != 1 || rec[0] != "nsenter -t $PID -n ip link" {
		t.Fatalf("recorded %q", rec)
	}
}
