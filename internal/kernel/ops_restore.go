package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// IptablesRestore is a whole change of iptables rules and chains in one
// process: `iptables-restore -w --noflush` fed the change on its standard
// input (narrated as a heredoc, so the "$" line stays runnable).
//
// Why one process: each iptables(8) process reads the whole ruleset from
// the kernel and writes it back (legacy), or starts a nftables
// transaction of its own (nf_tables): 5 to 10 ms each, and a network of
// mydocker's took twenty of them to create. iptables-restore applies every
// line of a table, then commits the table at its COMMIT line, in one go.
//
// Semantics this relies on, checked on both backends (iptables 1.8.9,
// legacy and nf_tables):
//   - --noflush keeps what the input does not name; without it every
//     table named would be emptied first.
//   - A table is all or nothing: a failing line fails its table, and the
//     tables after it are not applied; the tables before it ARE committed
//     (each at its own COMMIT line). The error names the failing line, so
//     Committed tells which tables changed.
//   - A ":CHAIN - [0:0]" declaration FLUSHES a chain that exists (under
//     --noflush too), where "-N CHAIN" fails on it: mydocker's lines are
//     commands only (-N -X -F -A -I -D), never declarations, so a chain
//     somebody else filled is never emptied by a wrong belief; the
//     failure says the belief was wrong, and the caller reads the kernel.
//   - "#" lines are comments: each line's why is written above it.
type IptablesRestore struct {
	Reason string
	Lines  []RestoreLine
}

// RestoreLine is one line of an iptables-restore input: a verb (-N new
// chain, -X delete chain, -F flush chain, -A append, -I insert first, -D
// delete) on Rule.Chain of Rule.Table; Rule.Args is the rule spec (empty
// for -N, -X, -F). Why, if set, is written above it as a comment.
type RestoreLine struct {
	Verb string
	Rule
	Why string
}

// The verbs of a RestoreLine.
const (
	VerbNewChain    = "-N"
	VerbDeleteChain = "-X"
	VerbFlushChain  = "-F"
	VerbAppend      = "-A"
	VerbInsert      = "-I"
	VerbDelete      = "-D"
)

// restoreArgv is the command: -w waits for the xtables lock (iptables-legacy
// fails at once without it while another iptables runs).
var restoreArgv = []string{"iptables-restore", "-w", "--noflush"}

func (r IptablesRestore) Why() string { return r.Reason }

func (r IptablesRestore) Command() Command {
	return Command{Argv: restoreArgv, Stdin: r.Input()}
}

// ErrorPrefix implements the error naming of opError: the error says which
// line failed, so the whole input is not repeated.
func (r IptablesRestore) ErrorPrefix() string { return "" }

// Tables lists the tables of the input, in order of their first line.
func (r IptablesRestore) Tables() []string {
	var out []string
	for _, l := range r.Lines {
		if !slices.Contains(out, l.Table) {
			out = append(out, l.Table)
		}
	}
	return out
}

// Input is the text fed to iptables-restore: per table, in order of first
// appearance, "*table", its lines in order (each after its why), "COMMIT".
func (r IptablesRestore) Input() string {
	var b strings.Builder
	for _, t := range r.Tables() {
		b.WriteString("*" + t + "\n")
		for _, l := range r.Lines {
			if l.Table != t {
				continue
			}
			if l.Why != "" {
				b.WriteString("# " + strings.ReplaceAll(l.Why, "\n", " ") + "\n")
			}
			b.WriteString(l.text() + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

// restoreQuote escapes what is special inside iptables-restore's quotes.
var restoreQuote = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// text is the line as iptables-restore reads it: an argument holding a
// space or a quote goes in double quotes.
func (l RestoreLine) text() string {
	parts := []string{l.Verb, l.Chain}
	if l.Verb == VerbInsert {
		parts = append(parts, "1")
	}
	for _, a := range l.Args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\#") {
			a = `"` + restoreQuote.Replace(a) + `"`
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Only returns the op restricted to the given tables (nil if none is in it).
func (r IptablesRestore) Only(tables []string) *IptablesRestore {
	out := IptablesRestore{Reason: r.Reason}
	for _, l := range r.Lines {
		if slices.Contains(tables, l.Table) {
			out.Lines = append(out.Lines, l)
		}
	}
	if len(out.Lines) == 0 {
		return nil
	}
	return &out
}

// RestoreError is a failed iptables-restore: the line that failed, and the
// tables committed before it (their changes were made).
type RestoreError struct {
	Line      int    // 1-based line of the input; 0 if not known
	Text      string // that line
	Committed []string
	Msg       string // what iptables-restore said
}

func (e *RestoreError) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("iptables-restore: line %d (%s): %s", e.Line, e.Text, e.Msg)
	}
	return "iptables-restore: " + e.Msg
}

// ErrRestore matches every RestoreError (errors.Is).
var ErrRestore = errors.New("iptables-restore failed")

func (e *RestoreError) Is(target error) bool { return target == ErrRestore }

// failedLine finds the failing line in iptables-restore's message: "line
// N failed" where the kernel refused a table (nf_tables reports a missing
// chain at the table's COMMIT line), "Error occurred at line: N" where the
// line did not parse (or named an unknown match or target). Compiled on
// first use: only a failed restore needs it, every process pays an init.
var failedLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`line (\d+) failed|Error occurred at line: (\d+)`)
})

// failure makes the RestoreError of iptables-restore's message: which
// line failed, and which tables had been committed before it. Where the
// line is not known, no table counts as committed and nothing is narrated:
// the caller reads the kernel before anything else.
func (r IptablesRestore) failure(msg string) *RestoreError {
	var said []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Try `") && !strings.HasPrefix(l, "Error occurred at line") {
			said = append(said, l)
		}
	}
	e := &RestoreError{Msg: strings.Join(said, "; ")}
	m := failedLine().FindStringSubmatch(msg)
	if m == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(m[1] + m[2])
	table := ""
	for i, l := range strings.Split(r.Input(), "\n") {
		if i+1 == e.Line {
			e.Text = l
			break
		}
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case l == "COMMIT":
			e.Committed = append(e.Committed, table)
		}
	}
	return e
}

// Apply runs iptables-restore with the input.
func (r IptablesRestore) Apply(*Exec) error {
	if len(r.Lines) == 0 {
		return nil
	}
	cmd := exec.Command(restoreArgv[0], restoreArgv[1:]...)
	cmd.Stdin = strings.NewReader(r.Input())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("iptables-restore: %w", err)
		}
		msg := out.String()
		if msg == "" {
			msg = err.Error()
		}
		return r.failure(msg)
	}
	return nil
}

// Done implements Tentative: what was changed, for the narration.
func (r IptablesRestore) Done(err error) Op {
	if err == nil {
		return r
	}
	var re *RestoreError
	if errors.As(err, &re) {
		if part := r.Only(re.Committed); part != nil {
			return *part
		}
	}
	return nil
}
