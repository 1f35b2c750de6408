package network

import (
	"errors"
	"fmt"

	"github.com/mydocker/mydocker/internal/kernel"
)

// change is one change of the firewall, as data: the order of its parts is
// the order of the restore's lines (per table).
type change struct {
	why       string
	setupBase bool    // first: mydocker's chains and the jumps to them
	newChains []chain // chains made before add (a container's port chain)
	add       []Rule  // appended, in order
	del       []Rule  // deleted, in order
	// dropChains are flushed and deleted after del (a container's port
	// chain: nothing jumps to it once del is done).
	dropChains []chain
	// releaseBase: last, the jumps to mydocker's chains and the chains,
	// once nothing else is in them.
	releaseBase bool
}

func restoreLine(verb, table, chain, why string, args ...string) kernel.RestoreLine {
	return kernel.RestoreLine{Verb: verb, Rule: kernel.Rule{Table: table, Chain: chain, Args: args}, Why: why}
}

// builder collects the lines of a change; has, if set, filters them by
// what the kernel has (nil: the records' belief, every line).
type builder struct {
	lines []kernel.RestoreLine
	has   func(kernel.Object) (bool, error)
	err   error
}

// want adds l if o's existence is not already what l makes of it.
func (b *builder) want(l kernel.RestoreLine, o kernel.Object, makes bool) {
	if b.err != nil {
		return
	}
	if b.has != nil {
		has, err := b.has(o)
		if err != nil {
			b.err = err
			return
		}
		if has == makes {
			return
		}
	}
	b.lines = append(b.lines, l)
}

func (b *builder) newChain(c chain) {
	b.want(restoreLine(kernel.VerbNewChain, c.Table, c.Name, c.Why), kernel.ChainObj(c.Table, c.Name), true)
}

func (b *builder) dropChain(c chain) {
	o := kernel.ChainObj(c.Table, c.Name)
	b.want(restoreLine(kernel.VerbFlushChain, c.Table, c.Name, c.Why), o, false)
	b.want(restoreLine(kernel.VerbDeleteChain, c.Table, c.Name, ""), o, false)
}

func (b *builder) rule(verb string, r Rule, why string) {
	b.want(kernel.RestoreLine{Verb: verb, Rule: r.Rule, Why: why}, r.Object(), verb != kernel.VerbDelete)
}

// build renders the change; with has, only what is left to do in a kernel
// that has what has says (releaseBase then also needs the base chains to
// hold nothing but what the change deletes: baseFree).
func (c change) build(has func(kernel.Object) (bool, error), baseFree bool) ([]kernel.RestoreLine, error) {
	b := &builder{has: has}
	if c.setupBase {
		for _, bc := range baseChains {
			b.newChain(bc)
		}
		for _, j := range baseJumps() {
			b.rule(kernel.VerbInsert, j, j.Why)
		}
	}
	for _, nc := range c.newChains {
		b.newChain(nc)
	}
	for _, r := range c.add {
		b.rule(kernel.VerbAppend, r, r.Why)
	}
	for _, r := range c.del {
		b.rule(kernel.VerbDelete, r, "")
	}
	for _, dc := range c.dropChains {
		b.dropChain(dc)
	}
	if c.releaseBase && baseFree {
		for _, j := range baseJumps() {
			b.rule(kernel.VerbDelete, j, "")
		}
		for i := len(baseChains) - 1; i >= 0; i-- {
			b.dropChain(chain{baseChains[i].Table, baseChains[i].Name, ""})
		}
	}
	return b.lines, b.err
}

// lines is the change as the records say the kernel is: every line.
func (c change) lines() []kernel.RestoreLine {
	ls, _ := c.build(nil, true)
	// A chain the records say is empty needs no flush before its -X.
	out := ls[:0]
	for _, l := range ls {
		if l.Verb != kernel.VerbFlushChain || !c.releaseBase || !isBase(l.Chain) {
			out = append(out, l)
		}
	}
	return out
}

func isBase(name string) bool {
	for _, c := range baseChains {
		if c.Name == name {
			return true
		}
	}
	return false
}

// apply makes the change in one iptables-restore, at the same time as the
// ops with (kernel.Together: a bridge or veth deletion, which waits on the
// kernel as the restore does). With fromRecords the input is the records'
// belief, unchecked; if the restore fails (the kernel differs: its failing
// table is left as it was, the tables before it are done and narrated), or
// without fromRecords, the kernel is read and what is left to do is
// applied.
func (f Firewall) apply(c change, fromRecords bool, with ...kernel.Op) error {
	if fromRecords {
		err := f.do(c.why, c.lines(), with)
		if !errors.Is(err, kernel.ErrRestore) {
			return err
		}
		f.k.Log().Infof("the rules are not as mydocker's records say (%v): reading them to do what is left", err)
		return errors.Join(withoutRestore(err), f.apply(c, false))
	}
	baseFree := true
	if c.releaseBase {
		var err error
		if baseFree, err = f.baseFree(c.del); err != nil {
			return errors.Join(err, f.k.Do(with...))
		}
	}
	ls, err := c.build(f.k.Exists, baseFree)
	if err != nil {
		return errors.Join(err, f.k.Do(with...))
	}
	return f.do(c.why, ls, with)
}

func (f Firewall) do(why string, ls []kernel.RestoreLine, with []kernel.Op) error {
	if len(ls) == 0 {
		return f.k.Do(with...)
	}
	restore := kernel.IptablesRestore{Reason: why, Lines: ls}
	if len(with) == 0 {
		return f.k.Do(restore)
	}
	return kernel.Together(f.k, append([]kernel.Op{restore}, with...)...)
}

// withoutRestore is err without its restore failure (the other ops' errors
// of a Together).
func withoutRestore(err error) error {
	var rest []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !errors.Is(e, kernel.ErrRestore) {
				rest = append(rest, e)
			}
		}
	}
	return errors.Join(rest...)
}

// baseFree reports whether mydocker's base chains hold nothing but the
// jump to the isolation check and the rules going (read from the kernel).
func (f Firewall) baseFree(going []Rule) (bool, error) {
	lister, ok := f.k.(kernel.Lister)
	if !ok {
		return false, fmt.Errorf("the kernel seam cannot list a chain's rules")
	}
	ours := map[kernel.Object]bool{baseJumps()[0].Object(): true}
	for _, r := range going {
		ours[r.Object()] = true
	}
	for _, c := range baseChains {
		rules, err := lister.Children(kernel.ChainObj(c.Table, c.Name))
		if err != nil {
			return false, err
		}
		for _, r := range rules {
			if !ours[r] {
				return false, nil // still used
			}
		}
	}
	return true, nil
}
