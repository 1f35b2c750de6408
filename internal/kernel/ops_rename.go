package kernel

import "os"

// Rename is `mv FROM TO`, rename(2): a directory taken away in one step
// (a volume being removed), so that a process killed half way through
// the removal that follows leaves either the whole thing or nothing of it
// under its name.
type Rename struct {
	From, To string
	Reason   string
}

func (r Rename) Why() string      { return r.Reason }
func (r Rename) Command() Command { return Command{Argv: []string{"mv", "-T", r.From, r.To}} }
func (r Rename) Apply(*Exec) error {
	return os.Rename(r.From, r.To)
}

// Plan forgets what was planned under From, as RemoveAll does: nothing
// the plan knows of is made under To.
func (r Rename) Plan(p *Plan) error {
	p.forgetTree(r.From)
	return nil
}
