package cmd

// Internal reports whether verb is one that mydocker runs itself (the
// container's init, the shim, exec's helper), never typed by a user.
func Internal(verb string) bool {
	for _, c := range []string{Init.Name, Shim.Name, ExecInternal.Name} {
		if verb == c {
			return true
		}
	}
	return false
}
