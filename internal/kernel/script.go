package kernel

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
)

// ScriptFormatter is `--log-format script`: the narration as a shell script
// that, run as root in fresh namespaces, makes the same state. Each step is
// its command with the variables in force ($PID, $ID) in place of their
// values, each why a "#" comment, each variable an assignment where it is
// first set, and any other message a comment. Warnings and errors stay
// comments too: the script must stay runnable.
type ScriptFormatter struct{}

// ScriptHeader starts a script: stop at the first failing step.
const ScriptHeader = "#!/bin/sh\n# made by mydocker --log-format script: run it as root in fresh namespaces\nset -e\n"

// Format implements logrus.Formatter.
func (ScriptFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b bytes.Buffer
	if l, ok := e.Data[FieldLet].([2]string); ok {
		// A value given from outside (ROOT=/elsewhere sh run.sh) or by an
		// earlier line (the stand-in's PID) wins.
		fmt.Fprintf(&b, "%s=\"${%s:-%s}\"\n", l[0], l[0], dqEscape(l[1]))
		return b.Bytes(), nil
	}
	if c, ok := e.Data[FieldStep].(Command); ok {
		vars, _ := e.Data[FieldVars].(*Vars)
		if c.Script != "" {
			b.WriteString(vars.Subst(c.Script))
		} else {
			b.WriteString(c.Text(vars))
		}
		b.WriteByte('\n')
		return b.Bytes(), nil
	}
	msg := strings.TrimPrefix(e.Message, "// ")
	if e.Level <= logrus.WarnLevel {
		msg = strings.ToUpper(e.Level.String()) + ": " + msg
	}
	for _, line := range strings.Split(msg, "\n") {
		b.WriteString("# " + line + "\n")
	}
	return b.Bytes(), nil
}
