package kernel

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/narrate"
)

// Plan changes nothing: it narrates each op (the variables standing in the
// text, as in a script), records it, and keeps a model of what the ops
// would make and remove on top of what World has. An op that could not
// work there is refused with ErrPlan: making what exists, removing what
// does not, deleting a chain that still holds rules.
type Plan struct {
	log   logrus.FieldLogger
	world World // what exists before the plan; nil: nothing
	model map[Object]bool
	state map[string][]byte // state files written (nil value: removed)
	vars  Vars
	// standIns are the variables whose values are a plan's inventions
	// (StandIn): its text shows "$PID", not a pid no process has.
	standIns Vars

	// Ops is every op planned, in order (skipped ones left out).
	Ops []Op
	// Fail, if set, is asked before each op; an error fails that op, as
	// the kernel would (tests of rollback at every step).
	Fail func(op Op) error
}

// NewPlan returns a Plan over world (nil: an empty one), narrating to log
// (nil: silent).
func NewPlan(world World, log logrus.FieldLogger) *Plan {
	if log == nil {
		l := logrus.New()
		l.SetOutput(discard{})
		log = l
	}
	return &Plan{log: log, world: world, model: map[Object]bool{}, state: map[string][]byte{}}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Planner is an op that has something to do in a plan too: set the
// outputs a later step reads (a stand-in pid), or plan the ops a child
// process would do.
type Planner interface {
	Plan(p *Plan) error
}

// Do implements Kernel.
func (p *Plan) Do(ops ...Op) error {
	src := callers(nil)
	for _, op := range ops {
		if err := p.do(src, op); err != nil {
			return opError(op, err)
		}
	}
	return nil
}

func (p *Plan) do(src narrate.Stack, op Op) error {
	if s, err := skip(p, op); err != nil {
		return err
	} else if s {
		return nil
	}
	if t, ok := op.(Tentative); ok {
		err := p.tentative(op)
		if done := t.Done(err); done != nil {
			say(p.log, src, &p.vars, &p.standIns, done)
			p.Ops = append(p.Ops, done)
		}
		return err
	}
	say(p.log, src, &p.vars, &p.standIns, op)
	if p.Fail != nil {
		if err := p.Fail(op); err != nil {
			return err
		}
	}
	var effects []Effect
	if e, ok := op.(Effector); ok {
		effects = e.Effects()
	}
	for _, eff := range effects {
		has, err := p.Exists(eff.Obj)
		if err != nil {
			return err
		}
		if eff.IfNeeded && has != eff.Remove {
			continue // already as wanted: nothing to check
		}
		switch {
		case eff.Remove && !has:
			return fmt.Errorf("%w: removes %s, which does not exist", ErrPlan, eff.Obj)
		case !eff.Remove && has && eff.Obj.Kind != "state":
			return fmt.Errorf("%w: makes %s, which exists already", ErrPlan, eff.Obj)
		case eff.Remove && eff.Obj.Kind == "chain":
			if rules := p.rulesIn(eff.Obj); len(rules) > 0 {
				return fmt.Errorf("%w: deletes %s, which still holds %d rule(s): %s", ErrPlan, eff.Obj, len(rules), rules[0].Name)
			}
		}
	}
	at := len(p.Ops) // (a Planner may plan ops of its own: they come after it)
	if pl, ok := op.(Planner); ok {
		if err := pl.Plan(p); err != nil {
			return err
		}
	}
	if nm, ok := op.(Naming); ok { // the values are the plan's inventions
		for _, v := range nm.Names() {
			p.standIns.Set(v[0], v[1])
			let(p.log, &p.vars, v[0], v[1])
		}
	}
	for _, eff := range effects {
		p.model[eff.Obj] = !eff.Remove
	}
	p.Ops = slices.Insert(p.Ops, at, op)
	return nil
}

// tentative plans a Tentative op: its Plan method changes the model as far
// as the op would really get.
func (p *Plan) tentative(op Op) error {
	if p.Fail != nil {
		if err := p.Fail(op); err != nil {
			return err
		}
	}
	if pl, ok := op.(Planner); ok {
		return pl.Plan(p)
	}
	return nil
}

// Exists implements World: what the plan has made or removed, else what
// its world has.
func (p *Plan) Exists(o Object) (bool, error) {
	if has, ok := p.model[o]; ok {
		return has, nil
	}
	if p.world == nil {
		return false, nil
	}
	return p.world.Exists(o)
}

// Lister is a World that can list the objects inside one (the rules of a
// chain).
type Lister interface {
	Children(o Object) ([]Object, error)
}

// rulesIn lists the rules chain would still hold: those planned, and the
// world's that the plan has not removed.
func (p *Plan) rulesIn(chain Object) []Object {
	prefix := chain.Name + " "
	var out []Object
	seen := map[Object]bool{}
	for o, has := range p.model {
		if o.Kind == "rule" && o.In == chain.In && strings.HasPrefix(o.Name, prefix) {
			seen[o] = true
			if has {
				out = append(out, o)
			}
		}
	}
	if l, ok := p.world.(Lister); ok {
		children, _ := l.Children(chain)
		for _, o := range children {
			if !seen[o] {
				out = append(out, o)
			}
		}
	}
	return out
}

// Log implements Kernel.
func (p *Plan) Log() logrus.FieldLogger { return p.log }

// StandInPid stands for the pid of a process a plan does not start: it is
// PID_MAX_LIMIT, which no process ever has. A plan narrates it as $PID.
const StandInPid = 4194304

// Let makes name stand for value in a script from now on, and, for the
// stand-in pid (not a real process's), in the plan's narration too.
func (p *Plan) Let(name, value string) {
	if value == strconv.Itoa(StandInPid) {
		p.standIns.Set(name, value)
	}
	let(p.log, &p.vars, name, value)
}

// Made lists the objects the plan has made and not removed again, and
// Removed those of its world it has removed: after a rollback both are
// empty.
func (p *Plan) Made() []Object { return p.changed(true) }

// Removed: see Made.
func (p *Plan) Removed() []Object { return p.changed(false) }

func (p *Plan) changed(made bool) []Object {
	var out []Object
	for o, has := range p.model {
		if has != made {
			continue
		}
		before := false
		if p.world != nil {
			before, _ = p.world.Exists(o)
		}
		if before != has {
			out = append(out, o)
		}
	}
	return out
}

// Commands renders every planned op's command, without variables.
func (p *Plan) Commands() []string {
	out := make([]string, len(p.Ops))
	for i, op := range p.Ops {
		out[i] = op.Command().Text(nil)
	}
	return out
}

// MapWorld is a World of named objects, for tests: what exists before a
// plan.
type MapWorld map[Object]bool

// Exists implements World.
func (w MapWorld) Exists(o Object) (bool, error) { return w[o], nil }

// Children implements Lister: the rules of a chain.
func (w MapWorld) Children(chain Object) ([]Object, error) {
	var out []Object
	for o, has := range w {
		if has && o.Kind == "rule" && o.In == chain.In && strings.HasPrefix(o.Name, chain.Name+" ") {
			out = append(out, o)
		}
	}
	return out, nil
}
