package kernel

// Naming is an op whose result later steps refer to by a variable, known
// only once it is done: the id etcd gives a lease it grants. Its Command's
// Script sets the variable from the command's output
// (LEASE=$(etcdctl lease grant 20 | ...)); once the op is done, Narrating
// lets each name stand for its value (as a caller does with Let for a pid
// it started), so the later steps read "$LEASE" in a script. A plan, which
// does not do the op, lets them stand for the values its Plan method
// invented, and its narration shows the names, never an invented value.
type Naming interface {
	// Names are the variables the op sets: {name, value} pairs, read
	// after Apply (or, in a plan, after Plan).
	Names() [][2]string
}
