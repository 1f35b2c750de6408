package kernel

import (
	"sort"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/internal/narrate"
)

// Command is the shell command that has the same effect as an op.
type Command struct {
	// In is where it runs: the host (zero), or inside the namespaces of a
	// process, as `nsenter -t PID FLAGS ...`.
	In Where
	// Argv is the command; Shell is a snippet instead, for what needs a
	// redirection (echo VALUE > FILE). Both empty: no shell command can
	// do it, and Comment says, honestly, what happens instead.
	Argv    []string
	Shell   []string // words and operators (">", "&&", "|", ...)
	Comment string
	// Script, if set, is what a script runs instead of Argv or Shell:
	// where mydocker's own process is the subject (the container's init),
	// a stand-in that a shell can start and name ($PID). The variables'
	// values in it are replaced as in Text (see Vars.Subst).
	Script string `json:",omitempty"`
	// Stdin, if set, is what the command reads on its standard input
	// (iptables-restore's rules): rendered as a quoted heredoc after the
	// command, so the lines stay runnable as they are, variables never
	// expanded in them.
	Stdin string `json:",omitempty"`
}

// heredoc ends the input of a command with Stdin; no iptables-restore line
// is ever this word alone.
const heredoc = "EOF"

// Where is a process's namespaces, as nsenter(1) enters them.
type Where struct {
	Pid int
	// NS are nsenter's flags for the namespaces: "-n" (network), "-m"
	// (mount), "-u" (UTS), "-a" (all).
	NS string
}

// Host is the host's namespaces.
var Host = Where{}

// Netns is the network namespace of pid.
func Netns(pid int) Where { return Where{Pid: pid, NS: "-n"} }

// Mountns is the mount namespace of pid.
func Mountns(pid int) Where { return Where{Pid: pid, NS: "-m"} }

// Vars stand in for values that vary between runs (a pid, an id, a path),
// so the commands read, and run, as a script: "$PID" for 4123.
type Vars struct{ pairs [][2]string } // value, name; longest value first

// Set makes name stand for value from now on; it reports whether that is
// news (a new name, or a new value).
func (v *Vars) Set(name, value string) bool {
	if value == "" {
		return false
	}
	for i, p := range v.pairs {
		if p[1] == name {
			if p[0] == value {
				return false
			}
			v.pairs = append(v.pairs[:i], v.pairs[i+1:]...)
			break
		}
	}
	v.pairs = append(v.pairs, [2]string{value, name})
	sort.SliceStable(v.pairs, func(i, j int) bool { return len(v.pairs[i][0]) > len(v.pairs[j][0]) })
	return true
}

// each calls f for every variable, longest value first.
func (v *Vars) each(f func(value, name string)) {
	if v == nil {
		return
	}
	for _, p := range v.pairs {
		f(p[0], p[1])
	}
}

// Subst writes "${NAME}" for each variable's value in a shell snippet
// written by hand (a Command's Script); the values must stand where a
// shell expands variables (unquoted, or inside double quotes).
func (v *Vars) Subst(s string) string {
	if v == nil {
		return s
	}
	s, _ = v.mark(s)
	return unmark.Replace(s)
}

// unmark renders the placeholders as "${NAME}".
var unmark = strings.NewReplacer("\x00", "${", "\x01", "}")

// placeholder marks where a variable goes until the line is rendered.
func placeholder(name string) string { return "\x00" + name + "\x01" }

// mark replaces the variables' values in s by placeholders.
func (v *Vars) mark(s string) (string, bool) {
	found := false
	v.each(func(value, name string) {
		var out string
		out, n := replaceWhole(s, value, placeholder(name))
		s, found = out, found || n > 0
	})
	return s, found
}

// replaceWhole replaces value in s where it is not part of a longer run of
// letters and digits (nor, for a number, of an address or a port pair): pid
// 41 must not turn 10.0.41.2 or 41:80 into a variable.
func replaceWhole(s, value, with string) (string, int) {
	numeric := strings.Trim(value, "0123456789") == ""
	alnum := func(b byte) bool {
		return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || numeric && (b == '.' || b == ':')
	}
	var b strings.Builder
	n := 0
	for {
		i := strings.Index(s, value)
		if i < 0 {
			break
		}
		end := i + len(value)
		if (i > 0 && alnum(s[i-1])) || (end < len(s) && alnum(s[end])) {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i])
			b.WriteString(with)
			n++
		}
		s = s[end:]
	}
	b.WriteString(s)
	return b.String(), n
}

// arg renders one argument, quoted for a shell; one that holds a
// variable's value is double-quoted with the variable in its place.
func (v *Vars) arg(a string) string {
	m, found := v.mark(a)
	if !found {
		return narrate.Quote(a)
	}
	return `"` + dqEscape(m) + `"`
}

// dqEscape escapes what is special inside double quotes.
func dqEscape(s string) string {
	return strings.NewReplacer(`$`, `\$`, "`", "\\`", `\`, `\\`, `"`, `\"`).Replace(s)
}

// operators are the Shell tokens written as they are, not quoted.
var operators = map[string]bool{">": true, ">>": true, "<": true, "|": true, "&&": true, ";": true}

// Text renders the command as one shell line, the variables of v standing
// for their values (v may be nil). A command with no shell equivalent
// renders as a "#" comment.
func (c Command) Text(v *Vars) string {
	words := c.Argv
	if len(words) == 0 {
		words = c.Shell
	}
	if len(words) == 0 {
		return "# " + c.Comment
	}
	parts := make([]string, len(words))
	for i, w := range words {
		if len(c.Argv) == 0 && operators[w] {
			parts[i] = w
		} else {
			parts[i] = v.arg(w)
		}
	}
	body := strings.Join(parts, " ")
	if c.In.Pid != 0 {
		if len(c.Argv) == 0 { // the redirections happen inside too
			body = `sh -c "` + dqEscape(body) + `"`
		}
		body = "nsenter -t " + v.arg(strconv.Itoa(c.In.Pid)) + " " + c.In.NS + " " + body
	}
	body = unmark.Replace(body)
	if c.Stdin != "" {
		in := c.Stdin
		if !strings.HasSuffix(in, "\n") {
			in += "\n"
		}
		if m, found := v.mark(in); found {
			// A variable in the input (etcdctl txn's `put --lease=$LEASE`):
			// an unquoted heredoc, where the shell expands it, with what
			// else it would expand escaped.
			body += " <<" + heredoc + "\n" + unmark.Replace(heredocEscape.Replace(m)) + heredoc
		} else {
			body += " <<'" + heredoc + "'\n" + in + heredoc
		}
	}
	return body
}

// heredocEscape escapes what an unquoted heredoc expands.
var heredocEscape = strings.NewReplacer(`\`, `\\`, `$`, `\$`, "`", "\\`")
