package kernel

import "github.com/mydocker/mydocker/internal/narrate"

// At is where an op was made. The narration's source= is the caller of Do,
// which for an op built in one place and done in another (the container's
// init builds its steps as a list, then does them) would name the Do: an
// op that embeds At, set with Here, is narrated at the line that built it.
type At struct{ at string }

// Here is the caller's file and line.
func Here() At { return At{narrate.CallerOutside("/internal/kernel/")} }

// MadeAt is where the op was made ("" if At was left unset).
func (a At) MadeAt() string { return a.at }

// sourceOf is op's own source, else src (the caller of Do).
func sourceOf(op Op, src string) string {
	if l, ok := op.(interface{ MadeAt() string }); ok && l.MadeAt() != "" {
		return l.MadeAt()
	}
	return src
}
