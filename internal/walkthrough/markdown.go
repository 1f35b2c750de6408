// Package walkthrough runs the commands of the chapters in doc/walkthrough
// and writes their real output into the Markdown, normalised (ids, pids,
// MACs, times, temporary paths), so that `make docs` produces the chapters
// and a test finds when they no longer match what mydocker does.
//
// A chapter marks what is generated:
//
//	<!-- walkthrough:run -->                  a ```console block: its "$ " lines are
//	```console                                 run in order, everything else is output
//	$ mydocker network create web              and is rewritten
//	```
//	<!-- walkthrough:end -->
//
//	<!-- walkthrough:mermaid web -->           a ```mermaid block: the picture of network
//	<!-- walkthrough:end -->                   web now (`network inspect --format mermaid`)
//
//	<!-- walkthrough:setup                     commands run first, silently (they must succeed)
//	mydocker network create web
//	-->
//
//	<!-- walkthrough:needs netsetgo -->        generated only when the binary has that verb;
//	                                           otherwise each block says it was not
//
// Every chapter runs in a fresh network and mount namespace with its own
// temporary --root and --data-root; the commands say /var/run/mydocker and
// /var/lib/mydocker, which stand for them. What a chapter starts it should
// stop; containers and networks it leaves are removed afterwards anyway, and
// processes it leaves in its network namespace (a registry its setup
// started in the background) are ended (see leftovers.go).
package walkthrough

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const (
	runMark     = "<!-- walkthrough:run -->"
	mermaidMark = "<!-- walkthrough:mermaid "
	endMark     = "<!-- walkthrough:end -->"
	setupMark   = "<!-- walkthrough:setup"
	needsMark   = "<!-- walkthrough:needs "
)

// Chapter is one Markdown file and the generated blocks in it.
type Chapter struct {
	Path   string
	Text   string
	Setup  []string
	Needs  []string // verbs the binary must have
	Blocks []Block
}

// Block is a generated part of a chapter: the text between its start and
// end markers is replaced when the chapter is rendered.
type Block struct {
	Start, End int      // byte offsets of the replaced text in Chapter.Text
	Cmds       []string // the commands, in order ("run" blocks)
	Network    string   // the network drawn ("mermaid" blocks)
	Outputs    []string // filled in by Run: one per command, or the picture
}

// Chapters reads every chapter (NN-*.md) of dir, in order, then the
// other pages given (the README's tour is generated the same way).
func Chapters(dir string, pages ...string) ([]*Chapter, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Chapter
	for _, p := range append(paths, pages...) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c, err := Parse(p, string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Parse finds the markers of a chapter.
func Parse(path, text string) (*Chapter, error) {
	c := &Chapter{Path: path, Text: text}
	pos := 0
	for {
		i := nextMark(text, pos)
		if i < 0 {
			return c, nil
		}
		rest := text[i:]
		switch {
		case strings.HasPrefix(rest, setupMark):
			j := strings.Index(rest, "-->")
			if j < 0 {
				return nil, fmt.Errorf("%s: unterminated setup comment", path)
			}
			for _, l := range strings.Split(rest[len(setupMark):j], "\n") {
				if l = strings.TrimSpace(l); l != "" {
					c.Setup = append(c.Setup, l)
				}
			}
			pos = i + j + 3
		case strings.HasPrefix(rest, needsMark):
			j := strings.Index(rest, "-->")
			if j < 0 {
				return nil, fmt.Errorf("%s: unterminated needs comment", path)
			}
			c.Needs = append(c.Needs, strings.Fields(rest[len(needsMark):j])...)
			pos = i + j + 3
		default: // run or mermaid
			head := strings.Index(rest, "-->") + 3
			end := strings.Index(rest, endMark)
			if end < 0 {
				return nil, fmt.Errorf("%s: %s without %s", path, rest[:head], endMark)
			}
			b := Block{Start: i + head, End: i + end}
			if strings.HasPrefix(rest, mermaidMark) {
				b.Network = strings.TrimSpace(strings.TrimSuffix(rest[len(mermaidMark):head], "-->"))
			} else {
				for _, l := range strings.Split(rest[head:end], "\n") {
					if strings.HasPrefix(l, "$ ") {
						b.Cmds = append(b.Cmds, l[2:])
					}
				}
				if len(b.Cmds) == 0 {
					return nil, fmt.Errorf("%s: a run block without a \"$ \" command", path)
				}
			}
			c.Blocks = append(c.Blocks, b)
			pos = i + end + len(endMark)
		}
	}
}

func nextMark(text string, pos int) int {
	best := -1
	for _, m := range []string{runMark, mermaidMark, setupMark, needsMark} {
		if i := strings.Index(text[pos:], m); i >= 0 && (best < 0 || pos+i < best) {
			best = pos + i
		}
	}
	return best
}

// skipped is what a block says when the binary cannot run it.
func skipped(verbs []string) string {
	return fmt.Sprintf("(not generated: this mydocker has no %s verb yet; `make docs` fills this in once it has)", strings.Join(verbs, ", "))
}

// Render is the chapter with its blocks' outputs in place. Blocks without
// outputs (a chapter that was not run) say why.
func (c *Chapter) Render(missing []string) string {
	var b strings.Builder
	prev := 0
	for _, bl := range c.Blocks {
		b.WriteString(c.Text[prev:bl.Start])
		b.WriteString("\n")
		if bl.Network != "" {
			if bl.Outputs == nil {
				b.WriteString(skipped(missing) + "\n")
			} else {
				b.WriteString("```mermaid\n" + bl.Outputs[0] + "```\n")
			}
		} else {
			b.WriteString("```console\n")
			for i, cmd := range bl.Cmds {
				b.WriteString("$ " + cmd + "\n")
				if bl.Outputs == nil {
					if i == len(bl.Cmds)-1 {
						b.WriteString(skipped(missing) + "\n")
					}
					continue
				}
				if out := bl.Outputs[i]; out != "" {
					b.WriteString(out + "\n")
				}
			}
			b.WriteString("```\n")
		}
		prev = bl.End
	}
	b.WriteString(c.Text[prev:])
	return b.String()
}
