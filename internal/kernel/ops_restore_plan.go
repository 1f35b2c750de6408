package kernel

import (
	"fmt"
	"slices"
	"strings"
)

// Plan applies the lines to the plan's model, a table at a time as
// iptables-restore commits them, refusing what iptables would refuse
// (ErrPlan): making a chain or rule that exists, removing one that does
// not, a jump to or the deletion of a chain that would not work. The
// tables before a refused one stay planned, as they would be committed.
func (r IptablesRestore) Plan(p *Plan) error {
	var committed []string
	for _, t := range r.Tables() {
		view := map[Object]bool{}
		has := func(o Object) (bool, error) {
			if v, ok := view[o]; ok {
				return v, nil
			}
			return p.Exists(o)
		}
		rulesIn := func(chain Object) []Object {
			var out []Object
			for _, o := range p.rulesIn(chain) {
				if v, ok := view[o]; !ok || v {
					out = append(out, o)
				}
			}
			for o, v := range view {
				if v && o.Kind == "rule" && strings.HasPrefix(o.Name, chain.Name+" ") && !slices.Contains(out, o) {
					out = append(out, o)
				}
			}
			return out
		}
		for _, l := range r.Lines {
			if l.Table != t {
				continue
			}
			if err := l.plan(has, rulesIn, view); err != nil {
				return &RestoreError{Text: l.text(), Committed: committed, Msg: err.Error()}
			}
		}
		for o, v := range view {
			p.model[o] = v
		}
		committed = append(committed, t)
	}
	return nil
}

// builtinTargets are the -j targets that are not chains.
var builtinTargets = map[string]bool{"ACCEPT": true, "DROP": true, "RETURN": true, "REJECT": true,
	"MASQUERADE": true, "DNAT": true, "SNAT": true, "LOG": true, "MARK": true, "CONNMARK": true}

// builtinChains are the tables' own chains (never made nor deleted).
var builtinChains = map[string]bool{"PREROUTING": true, "INPUT": true, "FORWARD": true, "OUTPUT": true, "POSTROUTING": true}

func (l RestoreLine) plan(has func(Object) (bool, error), rulesIn func(Object) []Object, view map[Object]bool) error {
	chain := ChainObj(l.Table, l.Chain)
	chainHas := func(o Object) (bool, error) {
		if builtinChains[strings.Fields(o.Name)[1]] {
			return true, nil
		}
		return has(o)
	}
	exists, err := chainHas(chain)
	if err != nil {
		return err
	}
	switch l.Verb {
	case VerbNewChain:
		if exists {
			return fmt.Errorf("%w: makes %s, which exists already", ErrPlan, chain)
		}
		view[chain] = true
		return nil
	case VerbFlushChain, VerbDeleteChain:
		if !exists {
			return fmt.Errorf("%w: %s %s, which does not exist", ErrPlan, l.Verb, chain)
		}
		if l.Verb == VerbFlushChain {
			for _, o := range rulesIn(chain) {
				view[o] = false
			}
			return nil
		}
		if rules := rulesIn(chain); len(rules) > 0 {
			return fmt.Errorf("%w: deletes %s, which still holds %d rule(s): %s", ErrPlan, chain, len(rules), rules[0].Name)
		}
		view[chain] = false
		return nil
	}
	if !exists {
		return fmt.Errorf("%w: %s into %s, which does not exist", ErrPlan, l.Verb, chain)
	}
	rule := l.Rule.Object()
	ruleHas, err := has(rule)
	if err != nil {
		return err
	}
	if l.Verb == VerbDelete {
		if !ruleHas {
			return fmt.Errorf("%w: removes %s, which does not exist", ErrPlan, rule)
		}
		view[rule] = false
		return nil
	}
	if ruleHas {
		return fmt.Errorf("%w: makes %s, which exists already", ErrPlan, rule)
	}
	for i := 0; i+1 < len(l.Args); i++ {
		if target := l.Args[i+1]; l.Args[i] == "-j" && !builtinTargets[target] {
			if ok, err := chainHas(ChainObj(l.Table, target)); err != nil || !ok {
				return fmt.Errorf("%w: jumps to %s, which does not exist", ErrPlan, ChainObj(l.Table, target))
			}
		}
	}
	view[rule] = true
	return nil
}
