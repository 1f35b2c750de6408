package kernel

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

// granted is a Naming op: it "grants" an id that a later step reads.
type granted struct{ id *string }

func (g granted) Why() string { return "grant" }
func (g granted) Command() Command {
	return Command{Argv: []string{"grant"}, Script: "ID=$(grant)"}
}
func (g granted) Apply(*Exec) error  { *g.id = "7f3a"; return nil }
func (g granted) Plan(*Plan) error   { *g.id = "5ea5e"; return nil }
func (g granted) Names() [][2]string { return [][2]string{{"GRANT", *g.id}} }

// uses reads the id in its arguments and in its standard input.
type uses struct{ id string }

func (u uses) Why() string { return "" }
func (u uses) Command() Command {
	return Command{Argv: []string{"use"}, Stdin: "bind --id=" + u.id + " \"$HOME\" `x` \\n\n"}
}
func (u uses) Apply(*Exec) error { return nil }

func TestNamingInScriptAndPlan(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(ScriptFormatter{})
	k := NewNarrating(log)
	var id string
	if err := k.Do(granted{&id}); err != nil {
		t.Fatal(err)
	}
	if err := k.Do(uses{id}); err != nil {
		t.Fatal(err)
	}
	// The input names the variable in an unquoted heredoc, the rest
	// of it escaped so the shell leaves it as it is.
	want := "# grant\nID=$(grant)\nGRANT=\"${GRANT:-7f3a}\"\nuse <<EOF\nbind --id=${GRANT} \"\\$HOME\" \\`x\\` \\\\n\nEOF\n"
	if buf.String() != want {
		t.Errorf("script:\n%s\nwant:\n%s", buf.String(), want)
	}

	// A plan narrates its invented value by the variable's name.
	buf.Reset()
	text := logrus.New()
	text.SetOutput(&buf)
	p := NewPlan(nil, text)
	if err := p.Do(granted{&id}); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(uses{id}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "5ea5e\n") || !strings.Contains(out, "--id=${GRANT}") {
		t.Errorf("plan's narration shows the invented id, not $GRANT:\n%s", out)
	}
}
