package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/cinit"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/narrate"
)

// follow reads the init's reports until it has exec'd the command or
// exited (the report pipe closes), narrates its steps ops as it reaches
// them, does the steps that are the parent's (a volume's copy-up), and
// sets p.failure to the step that failed; then closes p.logDone. Its
// narration joins ours after the parent's own steps (cgroup, network),
// though the init does them meanwhile, so the log reads as one story, as
// the init would have told it: pid=1, the init's variables. With no ops
// (an init that never got its program) it only waits for the end.
func (p *initProcess) follow(s *initSpec, ops []kernel.Op) {
	if p.following {
		return
	}
	p.following = true
	var t *kernel.Teller
	if s != nil {
		t = kernel.NewTeller(initLogger(p.log))
		letAll(t, s.Vars)
		t.Let("PID", strconv.Itoa(s.HostPid))
	}
	told := 0
	tell := func(upto int) {
		if t != nil && upto > told {
			t.Tell(ops[told:upto]...)
			told = upto
		}
	}
	go func() {
		defer close(p.logDone)
		defer p.reportR.Close()
		for {
			r, err := cinit.ReadReport(p.reportR)
			if errors.Is(err, io.EOF) {
				if p.failure == nil {
					tell(len(ops)) // exec'd: every step done
				}
				return
			}
			if err == nil && (r.Step >= len(ops) || s == nil) {
				err = fmt.Errorf("the container's init reported step %d of %d", r.Step, len(ops))
			}
			if err != nil {
				if p.failure == nil {
					p.failure = err
				}
				return
			}
			tell(r.Step + 1) // narrated before it is done, as Narrating does
			switch r.What {
			case cinit.Failed:
				if p.failure == nil {
					p.failure = stepError(s, ops[r.Step], r)
				}
			case cinit.Reached: // told above, while the init waits
			case cinit.ExecNext:
				p.specW.Write([]byte{cinit.Narrated})
			case cinit.ParentDo:
				answer := []byte{cinit.ParentDone}
				if err := p.doStep(s, ops[r.Step]); err != nil {
					p.failure = kernel.Failed(ops[r.Step], err)
					answer[0] = cinit.ParentFail
				}
				p.specW.Write(answer)
			}
		}
	}()
}

// doStep does a step of the init's that needs Go (a volume's copy-up reads
// and writes whole trees), in the init's mount namespace through its
// /proc/PID/root: the init is stopped meanwhile, before pivot_root, so its
// root is still the host's and every other path the same.
func (p *initProcess) doStep(s *initSpec, op kernel.Op) error {
	switch o := op.(type) {
	case copyUpOp:
		o.Merged = "/proc/" + strconv.Itoa(s.HostPid) + "/root" + o.Merged
		return o.Apply(nil)
	}
	return fmt.Errorf("%T is not a step mydocker does for the init", op)
}

// initLogger is the logger of the init's steps, as the init would have
// logged them: the standard logger's level and format, to out, with pid=1
// (its pid in its namespace).
func initLogger(out io.Writer) *logrus.Logger {
	std := logrus.StandardLogger()
	l := &logrus.Logger{Out: out, Formatter: std.Formatter, Level: std.GetLevel(), Hooks: logrus.LevelHooks{}, ExitFunc: os.Exit}
	for lvl, hooks := range std.Hooks {
		for _, h := range hooks {
			if _, ok := h.(*narrate.SourceHook); ok {
				h = &narrate.SourceHook{Pid: 1}
			}
			l.Hooks[lvl] = append(l.Hooks[lvl], h)
		}
	}
	return l
}
