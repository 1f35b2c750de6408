package narrate

import (
	"bytes"
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

func TestTextFormatKeepsPidAndSourceLast(t *testing.T) {
	l, buf := testLogger()
	l.WithFields(logrus.Fields{"step": "hidden", "vars": "hidden", "network": "web"}).Info("$ ip link add br0 type bridge")
	line := strings.TrimSpace(buf.String())
	if !strings.HasPrefix(line, "INFO $ ip link add br0 type bridge ") {
		t.Fatalf("line: %q", line)
	}
	// pid and source come last; source points at this test, not at the
	// logging code; the script format's fields stay out of text.
	if !strings.HasSuffix(line, `network=web pid=42 source="narrate/narrate_test.go:22"`) {
		t.Fatalf("fields: %q", line)
	}
	buf.Reset()
	l.WithField("let", [2]string{"PID", "42"}).Info("$PID stands for 42")
	if buf.Len() != 0 {
		t.Fatalf("a script variable printed in text: %q", buf.String())
	}
}

func TestQuote(t *testing.T) {
	got := Quote("sh", "-c", "pivot_root . . && umount -l .", "", "it's", "a=b,c/d:1")
	want := `sh -c 'pivot_root . . && umount -l .' '' 'it'\''s' a=b,c/d:1`
	if got != want {
		t.Fatalf("Quote = %s\nwant    %s", got, want)
	}
}

// A command with its input in a heredoc: the fields go on its first line,
// so the heredoc's last line stays alone and the lines paste as they are.
func TestTextFormatHeredocKeepsFieldsOnTheFirstLine(t *testing.T) {
	l, buf := testLogger()
	l.Info("$ iptables-restore -w --noflush <<'EOF'\n*nat\n-N MYDOCKER\nCOMMIT\nEOF")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("lines: %q", lines)
	}
	if !strings.HasPrefix(lines[0], "INFO $ iptables-restore -w --noflush <<'EOF' ") || !strings.Contains(lines[0], " pid=42 source=") {
		t.Errorf("first line: %q", lines[0])
	}
	if strings.Join(lines[1:], "\n") != "*nat\n-N MYDOCKER\nCOMMIT\nEOF" {
		t.Errorf("the input: %q", lines[1:])
	}
}
