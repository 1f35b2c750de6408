package security

// CapBits is the bit mask of the named capabilities (bit n: capability n),
// as capset(2) and the bounding set take them: for the container's init,
// which sets them from C (package cinit).
func CapBits(names []string) (uint64, error) { return capBits(names) }
