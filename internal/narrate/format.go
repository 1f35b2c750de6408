// Package narrate is how the narration reads: the seed transcript's text
// format (level, message, then pid= and source=), the hook that stamps
// pid= and source= on every log line, and shell quoting for the "$" lines.
// The steps themselves are internal/kernel's.
package narrate

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
)

// TextFormatter prints the seed transcript's format:
//
//	INFO $ ip link add testnet type bridge          pid=2911 source="network/bridge.go:146"
//
// level, message padded to a column, then the fields, with no colours and no
// timestamp, so a log can be read as a walkthrough and diffed.
type TextFormatter struct{}

const messageColumn = 88

// Format implements logrus.Formatter.
func (TextFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if _, ok := e.Data["let"]; ok {
		return nil, nil // a script's variable: text shows the values themselves
	}
	var b bytes.Buffer
	lvl := strings.ToUpper(e.Level.String())
	if len(lvl) > 4 {
		lvl = lvl[:4]
	}
	// A message of several lines (a command with its heredoc input) gets
	// the fields on its first line, so its last line (the heredoc's end)
	// stays alone on its line and the command can be pasted as it is.
	msg, rest, _ := strings.Cut(e.Message, "\n")
	fmt.Fprintf(&b, "%-4s %-*s", lvl, messageColumn, msg)
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		if k != "pid" && k != "source" && k != "step" && k != "vars" { // step, vars: for the script format
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	// pid and source come last and in this order, as in the seed transcript.
	for _, k := range append(keys, "pid", "source") {
		v, ok := e.Data[k]
		if !ok {
			continue
		}
		s := fmt.Sprint(v)
		if strings.ContainsAny(s, " \"=") || k == "source" {
			s = fmt.Sprintf("%q", s)
		}
		fmt.Fprintf(&b, " %s=%s", k, s)
	}
	b.WriteByte('\n')
	if rest != "" {
		b.WriteString(strings.TrimSuffix(rest, "\n") + "\n")
	}
	return b.Bytes(), nil
}

// SourceHook adds pid= and source="pkg/file.go:line" to every entry. The
// source is the first caller outside logrus and this package, so a narrated
// step points at the code that asked for it.
type SourceHook struct{ Pid int }

// NewSourceHook returns a hook stamping this process's pid.
func NewSourceHook() *SourceHook { return &SourceHook{Pid: os.Getpid()} }

// Levels implements logrus.Hook.
func (*SourceHook) Levels() []logrus.Level { return logrus.AllLevels }

// Fire implements logrus.Hook.
func (h *SourceHook) Fire(e *logrus.Entry) error {
	e.Data["pid"] = h.Pid
	if _, ok := e.Data["source"]; !ok {
		e.Data["source"] = caller()
	}
	return nil
}

func caller() string { return CallerOutside("sirupsen/logrus", "/internal/narrate/") }

// CallerOutside is "pkg/file.go:line" of the first caller whose file is
// in none of the given places (parts of a path; a test file always counts
// as outside), so a log line points at the code that asked for it.
func CallerOutside(places ...string) string { return Callers(1).Outside(places...) }

// Stack is a call stack captured by Callers and turned into a place only
// if asked (Outside): capturing it is cheap, naming its frames is not, and
// most narration is never printed (a quieter --log-level).
type Stack []uintptr

// Callers captures the stack from the caller of the function that calls
// it, skip frames further up.
func Callers(skip int) Stack {
	pcs := make([]uintptr, 32)
	return pcs[:runtime.Callers(skip+2, pcs)]
}

// Outside is CallerOutside of a captured stack ("" for none).
func (s Stack) Outside(places ...string) string {
	if len(s) == 0 {
		return ""
	}
	frames := runtime.CallersFrames(s)
	for {
		f, more := frames.Next()
		inside := false
		for _, p := range places {
			inside = inside || strings.Contains(f.File, p) && !strings.HasSuffix(f.File, "_test.go")
		}
		if !inside {
			return shortPath(f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}

// shortPath keeps the last two path elements: "network/bridge.go:146".
func shortPath(file string, line int) string {
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
			file = file[j+1:]
		}
	}
	return fmt.Sprintf("%s:%d", file, line)
}
