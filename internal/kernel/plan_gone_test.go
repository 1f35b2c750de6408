package kernel

import "testing"

// nested is an op whose plan plans a child process's op.
type nested struct{ child Op }

func (nested) Why() string          { return "start a process" }
func (nested) Command() Command     { return Command{Comment: "a process starts"} }
func (nested) Apply(*Exec) error    { return nil }
func (n nested) Plan(p *Plan) error { return p.Do(n.child) }

// A Planner's own ops come after it in Ops, as in the narration.
func TestPlanOrderWithNestedOps(t *testing.T) {
	p := NewPlan(nil, nil)
	if err := p.Do(nested{child: Sethostname{Pid: 7, Name: "c"}}); err != nil {
		t.Fatal(err)
	}
	if len(p.Ops) != 2 {
		t.Fatalf("ops: %v", p.Commands())
	}
	if _, ok := p.Ops[0].(nested); !ok {
		t.Errorf("ops in the wrong order: %v", p.Commands())
	}
}

// What was made in a process's namespaces goes with it; rm -rf forgets
// what was made under its path; rmdir of a cgroup, the values in it.
func TestPlanForgets(t *testing.T) {
	p := NewPlan(nil, nil)
	err := p.Do(
		Mkdir{Path: "/l/c/upper"},
		Mount{In: Mountns(7), Source: "proc", Target: "/l/c/merged/proc", FSType: "proc"},
		CgroupMkdir{Path: "/cg/x"},
		CgroupCopy{From: "/cg/cpuset.cpus", To: "/cg/x/cpuset.cpus"},
	)
	if err != nil {
		t.Fatal(err)
	}
	p.Gone(7)
	if err := p.Do(RemoveAll{Path: "/l/c"}, CgroupRmdir{Path: "/cg/x"}); err != nil {
		t.Fatal(err)
	}
	if made := p.Made(); len(made) != 0 {
		t.Errorf("left %v", made)
	}
}

// A directory is one object however its path is written: made as "d/",
// removed as "d".
func TestPlanDirPathsClean(t *testing.T) {
	p := NewPlan(nil, nil)
	if err := p.Do(Mkdir{Path: "/l/d/"}, Rmdir{Path: "/l/d"}); err != nil {
		t.Fatal(err)
	}
	if made := p.Made(); len(made) != 0 {
		t.Errorf("left %v", made)
	}
}
