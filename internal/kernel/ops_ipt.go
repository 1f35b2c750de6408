package kernel

import (
	"fmt"
	"strconv"
	"strings"
)

// iptables objects, as named in Effects:
//
//	chain TABLE CHAIN
//	rule  TABLE CHAIN ARGS...     (the rule spec, words joined by spaces)
//
// A plan refuses to delete a chain that still holds rules (rulesIn), so
// rules are named with their chain first.
//
// Changes go through IptablesRestore (ops_restore.go), one process for a
// whole change; the single-rule ops here (-F, -X, -D) are for the sweep of
// what no record names, rule by rule as it finds them.

func init() {
	existsBy["chain"] = func(x *Exec, o Object) (bool, error) {
		table, chain, err := splitChain(o)
		if err != nil {
			return false, err
		}
		ipt, err := x.IPTables()
		if err != nil {
			return false, err
		}
		return ipt.ChainExists(table, chain)
	}
	existsBy["rule"] = func(x *Exec, o Object) (bool, error) {
		if o.In != 0 {
			return false, fmt.Errorf("kernel: cannot read the rules of pid %d", o.In)
		}
		f := strings.Fields(o.Name)
		if len(f) < 3 {
			return false, fmt.Errorf("kernel: rule %q: want TABLE CHAIN ARGS", o.Name)
		}
		return Rule{Table: f[0], Chain: f[1], Args: f[2:]}.exists(x)
	}
}

func splitChain(o Object) (table, chain string, err error) {
	if o.In != 0 {
		return "", "", fmt.Errorf("kernel: cannot read the chains of pid %d", o.In)
	}
	table, chain, ok := strings.Cut(o.Name, " ")
	if !ok || strings.Contains(chain, " ") {
		return "", "", fmt.Errorf("kernel: chain %q: want TABLE CHAIN", o.Name)
	}
	return table, chain, nil
}

// ChainObj names an iptables chain.
func ChainObj(table, chain string) Object { return Object{Kind: "chain", Name: table + " " + chain} }

// Rule is one iptables rule as data: table, chain, rule spec (no argument
// holds a space).
type Rule struct {
	Table, Chain string
	Args         []string
}

// Object names the rule.
func (r Rule) Object() Object {
	return Object{Kind: "rule", Name: r.Table + " " + r.Chain + " " + strings.Join(r.Args, " ")}
}

func (r Rule) argv(flag string, extra ...string) []string {
	return append(append([]string{"iptables", "-t", r.Table, flag, r.Chain}, extra...), r.Args...)
}

// exists reports whether the rule is there (false when its chain is not).
func (r Rule) exists(x *Exec) (bool, error) {
	ipt, err := x.IPTables()
	if err != nil {
		return false, err
	}
	if ok, err := ipt.ChainExists(r.Table, r.Chain); err != nil || !ok {
		return false, err
	}
	ok, err := ipt.Exists(r.Table, r.Chain, r.Args...)
	if err != nil {
		// iptables -C refuses a jump to a chain that does not exist (in a
		// plan, one only planned): no such rule can exist either.
		for i := 0; i+1 < len(r.Args); i++ {
			if r.Args[i] == "-j" {
				if has, cerr := ipt.ChainExists(r.Table, r.Args[i+1]); cerr == nil && !has {
					return false, nil
				}
			}
		}
	}
	return ok, err
}

// ChainFlush is `iptables -t TABLE -F CHAIN`: the chain's rules go. A chain
// deleted meanwhile (a concurrent teardown) is success.
type ChainFlush struct {
	Table, Chain string
	Reason       string
}

func (c ChainFlush) Why() string { return c.Reason }
func (c ChainFlush) Command() Command {
	return Command{Argv: []string{"iptables", "-t", c.Table, "-F", c.Chain}}
}
func (c ChainFlush) Apply(x *Exec) error {
	ipt, err := x.IPTables()
	if err != nil {
		return err
	}
	return chainGone(x, c.Table, c.Chain, ipt.ClearChain(c.Table, c.Chain))
}

// Plan empties the chain in the plan's model.
func (c ChainFlush) Plan(p *Plan) error {
	chain := ChainObj(c.Table, c.Chain)
	if has, err := p.Exists(chain); err != nil {
		return err
	} else if !has {
		return fmt.Errorf("%w: flushes %s, which does not exist", ErrPlan, chain)
	}
	for _, r := range p.rulesIn(chain) {
		p.model[r] = false
	}
	return nil
}

// ChainDelete is `iptables -t TABLE -X CHAIN`: the chain must be empty (a
// plan refuses one that still holds rules). A chain already gone is
// skipped; one deleted meanwhile is success.
type ChainDelete struct {
	Table, Chain string
	Reason       string
}

func (c ChainDelete) Why() string { return c.Reason }
func (c ChainDelete) Command() Command {
	return Command{Argv: []string{"iptables", "-t", c.Table, "-X", c.Chain}}
}
func (c ChainDelete) Apply(x *Exec) error {
	ipt, err := x.IPTables()
	if err != nil {
		return err
	}
	return chainGone(x, c.Table, c.Chain, ipt.DeleteChain(c.Table, c.Chain))
}
func (c ChainDelete) Effects() []Effect { return []Effect{Clears(ChainObj(c.Table, c.Chain))} }

// chainGone turns the error of a step on a chain into success when the
// chain is gone afterwards (a concurrent teardown deleted it).
func chainGone(x *Exec, table, chain string, err error) error {
	if err == nil {
		return nil
	}
	if ok, xerr := existsBy["chain"](x, ChainObj(table, chain)); xerr == nil && !ok {
		return nil
	}
	return err
}

// RuleDelete is `iptables -t TABLE -D CHAIN ARGS...`. A rule already gone
// is skipped; one deleted meanwhile (a concurrent teardown) is success.
type RuleDelete struct {
	Rule
	Reason string
}

func (r RuleDelete) Why() string      { return r.Reason }
func (r RuleDelete) Command() Command { return Command{Argv: r.argv("-D")} }
func (r RuleDelete) Apply(x *Exec) error {
	ipt, err := x.IPTables()
	if err != nil {
		return err
	}
	if err := ipt.Delete(r.Table, r.Chain, r.Args...); err != nil {
		if ok, xerr := r.exists(x); xerr == nil && !ok {
			return nil
		}
		return err
	}
	return nil
}
func (r RuleDelete) Effects() []Effect { return []Effect{Clears(r.Object())} }

// TableObj names an iptables table, whose children are its chains.
func TableObj(table string) Object { return Object{Kind: "table", Name: table} }

// Children implements Lister: the rules of a chain, from `iptables -S`
// (none when the chain does not exist), or the chains of a table.
func (r *Real) Children(o Object) ([]Object, error) {
	if o.Kind == "table" {
		ipt, err := r.x.IPTables()
		if err != nil {
			return nil, err
		}
		chains, err := ipt.ListChains(o.Name)
		var out []Object
		for _, c := range chains {
			out = append(out, ChainObj(o.Name, c))
		}
		return out, err
	}
	if o.Kind != "chain" {
		return nil, nil
	}
	table, chain, err := splitChain(o)
	if err != nil {
		return nil, err
	}
	ipt, err := r.x.IPTables()
	if err != nil {
		return nil, err
	}
	if ok, err := ipt.ChainExists(table, chain); err != nil || !ok {
		return nil, err
	}
	lines, err := ipt.List(table, chain)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, l := range lines {
		f := splitRuleSpec(l)
		if len(f) < 2 || f[0] != "-A" || f[1] != chain {
			continue // -N CHAIN, -P CHAIN POLICY
		}
		out = append(out, Rule{Table: table, Chain: chain, Args: f[2:]}.Object())
	}
	return out, nil
}

// splitRuleSpec splits a line of `iptables -S`, whose arguments holding
// spaces are double-quoted.
func splitRuleSpec(line string) []string {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			if s, err := strconv.QuotedPrefix(line); err == nil {
				u, _ := strconv.Unquote(s)
				out = append(out, u)
				line = line[len(s):]
				continue
			}
		}
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			i = len(line)
		}
		out = append(out, line[:i])
		line = line[i:]
	}
	return out
}

// Children implements Lister: the rules a chain would hold once the plan
// is done (what it planned, and what its world has that it did not remove),
// or the chains of a table that the plan has not removed.
func (p *Plan) Children(o Object) ([]Object, error) {
	switch o.Kind {
	case "chain":
		return p.rulesIn(o), nil
	case "table":
		l, ok := p.world.(Lister)
		if !ok {
			return nil, nil
		}
		chains, err := l.Children(o)
		var out []Object
		for _, c := range chains {
			if has, _ := p.Exists(c); has {
				out = append(out, c)
			}
		}
		return out, err
	}
	return nil, nil
}

// Children implements Lister: the running kernel's.
func (n *Narrating) Children(o Object) ([]Object, error) { return n.real.Children(o) }
