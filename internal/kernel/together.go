package kernel

import (
	"errors"
	"sync"

	"github.com/mydocker/mydocker/internal/narrate"
)

// Together does ops at the same time, for steps that do not depend on each
// other and each spend their time waiting on the kernel: deleting a bridge
// waits for RCU grace periods as its device unregisters, and so does an
// iptables-restore as it closes its netlink sockets; side by side the
// waits overlap. The ops are narrated in their order once all are done (a
// Tentative one with what it did), so the log reads as if they ran in turn,
// which is also how a plan does them. Every op runs, even when another
// fails; the errors are joined.
func Together(k Kernel, ops ...Op) error {
	switch k := k.(type) {
	case *Narrating:
		return together(k.real, callers(k.real.log), ops, func(src narrate.Stack, op Op) {
			say(k.real.log, src, &k.vars, nil, op)
		})
	case *Real:
		return together(k, callers(k.log), ops, nil)
	}
	var errs []error // a plan: in turn, each whatever the others did
	for _, op := range ops {
		errs = append(errs, k.Do(op))
	}
	return errors.Join(errs...)
}

func together(r *Real, src narrate.Stack, ops []Op, say func(narrate.Stack, Op)) error {
	var run []Op
	for _, op := range ops {
		s, err := skip(r, op)
		if err != nil {
			return opError(op, err)
		}
		if !s {
			run = append(run, op)
		}
	}
	for _, op := range run {
		crashPoint(op)
	}
	errs := make([]error, len(run))
	var wg sync.WaitGroup
	for i, op := range run {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = op.Apply(r.x)
		}()
	}
	wg.Wait()
	var out []error
	for i, op := range run {
		done := op
		if t, ok := op.(Tentative); ok {
			done = t.Done(errs[i])
		}
		if done != nil && say != nil {
			say(src, done)
		}
		out = append(out, opError(op, errs[i]))
	}
	return errors.Join(out...)
}
